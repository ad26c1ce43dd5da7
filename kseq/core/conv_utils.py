"""Shape arithmetic, argument checks and layout views shared by the convolution and pooling layers.

Owns, in one place:

* Keras's argument standardization (``standardize_tuple``, ``standardize_padding``) with Keras's
  error wording;
* the output-length formulas (``conv_output_length``, ``conv_transpose_output_length``) and the
  TF/Keras "same" padding rule (``same_padding``: the odd extra cell goes at the *end*), plus the
  crops that turn torch's transposed convolution into Keras's (``conv_transpose_crops``);
* the zero-copy layout views: a channels_last activation ``(N, *spatial, C)`` is handed to torch as
  ``x.permute(0, C, *spatial)``, which *is* an NCHW tensor in ``torch.channels_last`` memory format;
  and the Keras-layout views of torch conv weights used by ``get_weights``/``set_weights``,
  initializers, regularizers and constraints.

Example:
    >>> conv_output_length(28, 3, 2, 1, "same"), same_padding(28, 3, 2)
    (14, (0, 1))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq.core.shapes import Shape

__all__: list[str] = []  # helpers only; the layer classes live in conv*.py / pooling.py


def standardize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints (Keras's checks and wording).

    Example:
        >>> standardize_tuple(3, 2, "kernel_size"), standardize_tuple([1, 2], 2, "strides")
        ((3, 3), (1, 2))
    """
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, int) and not isinstance(value, bool):
        values: tuple[Any, ...] = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
        for v in values:
            try:
                int(v)
            except (ValueError, TypeError):
                raise ValueError(f"{message}including element {v} of type {type(v)}") from None
    out = tuple(int(v) for v in values)
    bad = {v for v in out if (v < 0 if allow_zero else v <= 0)}
    if bad:
        requirement = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"{message}, including values {bad} that do not satisfy `value {requirement}`"
        )
    return out


def standardize_padding(value: Any, allow_causal: bool = False) -> str:
    """``"valid"``/``"same"`` (and ``"causal"`` for Conv1D), lower-cased.

    Example:
        >>> standardize_padding("SAME")
        'same'
    """
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = str(value).lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be a list/tuple or one of {set(allowed)}. "
            f"Received: {value}"
        )
    return padding


def effective_kernel(kernel: int, dilation: int) -> int:
    """The span of a dilated kernel, ``(kernel - 1) * dilation + 1``.

    Example:
        >>> effective_kernel(3, 2)
        5
    """
    return (kernel - 1) * dilation + 1


def conv_output_length(
    length: int | None, kernel: int, stride: int, dilation: int, padding: str
) -> int | None:
    """Output length of a convolution / pooling window along one axis (``None`` stays ``None``).

    ``"valid"``: ``floor((n - span) / stride) + 1``; ``"same"``/``"causal"``: ``ceil(n / stride)``.

    Example:
        >>> conv_output_length(7, 3, 2, 1, "valid"), conv_output_length(None, 3, 1, 1, "same")
        (3, None)
    """
    if length is None:
        return None
    if padding == "valid":
        return (length - effective_kernel(kernel, dilation)) // stride + 1
    return (length - 1) // stride + 1


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """``(left, right)`` zero padding for Keras/TF "same": the odd extra cell goes at the end.

    With ``stride == 1`` the total is ``span - 1`` whatever the length; with larger strides it
    depends on the length (so that the output is ``ceil(length / stride)`` long).

    Example:
        >>> same_padding(8, 4, 1), same_padding(8, 3, 2), same_padding(7, 3, 2)
        ((1, 2), (0, 1), (1, 1))
    """
    span = effective_kernel(kernel, dilation)
    if stride == 1:
        total = span - 1
    else:
        out = (length + stride - 1) // stride
        total = max(0, (out - 1) * stride + span - length)
    return total // 2, total - total // 2


def flat_pads(pads: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """Per-axis ``(left, right)`` pads, first spatial axis first, in ``F.pad``'s last-axis-first order.

    Example:
        >>> flat_pads([(0, 1), (2, 3)])
        (2, 3, 0, 1)
    """
    flat: list[int] = []
    for left, right in reversed(pads):
        flat.extend((left, right))
    return tuple(flat)


def conv_transpose_output_length(
    length: int | None,
    kernel: int,
    stride: int,
    dilation: int,
    padding: str,
    output_padding: int | None,
) -> int | None:
    """Output length of Keras's transposed convolution along one axis.

    Example:
        >>> conv_transpose_output_length(4, 3, 2, 1, "same", None)
        8
        >>> conv_transpose_output_length(4, 3, 2, 1, "valid", None)
        9
    """
    if length is None:
        return None
    span = effective_kernel(kernel, dilation)
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (length - 1) * stride + span + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + span % 2 + output_padding


def conv_transpose_crops(
    kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[int, int]:
    """``(left, right)`` cells to drop from torch's un-padded transposed convolution (length
    ``(n - 1) * stride + span``) to get Keras's output; a negative value means extra cells
    (bias only) on that side. Independent of the input length.

    Example:
        >>> conv_transpose_crops(3, 2, 1, "same", None)
        (0, 1)
    """
    span = effective_kernel(kernel, dilation)
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return 0, -extra
    if output_padding is None:
        total = stride + span - 2
    else:
        total = span + span % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, span - 1)  # Keras/JAX: the larger half on the left
    return span - 1 - left, span - 1 - (total - left)


def spatial_dims(shape: Shape, data_format: str) -> Shape:
    """The spatial entries of a batch-inclusive shape.

    Example:
        >>> spatial_dims((None, 8, 6, 3), "channels_last"), spatial_dims((None, 3, 8, 6), "channels_first")
        ((8, 6), (8, 6))
    """
    return tuple(shape[1:-1]) if data_format == "channels_last" else tuple(shape[2:])


def channels_of(shape: Shape, data_format: str) -> int | None:
    """The channel entry of a batch-inclusive shape.

    Example:
        >>> channels_of((None, 8, 8, 3), "channels_last")
        3
    """
    return shape[-1] if data_format == "channels_last" else shape[1]


def with_spatial(
    batch: int | None, spatial: Sequence[int | None], channels: int | None, data_format: str
) -> Shape:
    """Assemble a batch-inclusive shape in ``data_format`` order.

    Example:
        >>> with_spatial(None, (4, 4), 8, "channels_first")
        (None, 8, 4, 4)
    """
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def to_channels_first(x: Tensor) -> Tensor:
    """``(N, *spatial, C) -> (N, C, *spatial)`` as a zero-copy view (a channels_last-format tensor
    for rank 4/5: exactly what torch's fast convolution and pooling kernels want).

    Example:
        >>> y = to_channels_first(torch.zeros(2, 5, 6, 3))
        >>> tuple(y.shape), y.is_contiguous(memory_format=torch.channels_last)
        ((2, 3, 5, 6), True)
    """
    return x.movedim(-1, 1)


def to_channels_last(x: Tensor) -> Tensor:
    """``(N, C, *spatial) -> (N, *spatial, C)`` as a view (contiguous when ``x`` is in
    channels_last memory format).

    Example:
        >>> to_channels_last(torch.zeros(2, 3, 5, 6)).shape
        torch.Size([2, 5, 6, 3])
    """
    return x.movedim(1, -1)


def channels_last_format(rank: int) -> torch.memory_format | None:
    """The torch memory format that makes an NC+spatial tensor NHWC in memory (rank 2/3 only).

    Example:
        >>> channels_last_format(2), channels_last_format(1)
        (torch.channels_last, None)
    """
    return {2: torch.channels_last, 3: torch.channels_last_3d}.get(rank)


def keras_kernel_view(weight: Tensor) -> Tensor:
    """Keras layout of a torch conv weight, as a writable view.

    ``nn.ConvNd.weight (out, in/groups, *k)`` -> Keras ``(*k, in/groups, out)``, and
    ``nn.ConvTransposeNd.weight (in, out, *k)`` -> Keras's transposed kernel ``(*k, out, in)``.

    Example:
        >>> keras_kernel_view(torch.zeros(8, 3, 5, 4)).shape
        torch.Size([5, 4, 3, 8])
    """
    return weight.permute(*range(2, weight.ndim), 1, 0)


def keras_depthwise_view(weight: Tensor, depth_multiplier: int) -> Tensor:
    """Keras's depthwise kernel ``(*k, in, depth_multiplier)`` as a writable view of the torch
    grouped-conv weight ``(in * depth_multiplier, 1, *k)`` (output channel ``c * dm + m``).

    Example:
        >>> keras_depthwise_view(torch.zeros(6, 1, 3, 3), 2).shape
        torch.Size([3, 3, 3, 2])
    """
    rank = weight.ndim - 2
    grouped = weight.select(1, 0).unflatten(0, (-1, depth_multiplier))  # (in, dm, *k)
    return grouped.permute(*range(2, rank + 2), 0, 1)


def pooling_output_shape(
    input_shape: Shape,
    pool_size: tuple[int, ...],
    strides: tuple[int, ...],
    padding: str,
    data_format: str,
) -> Shape:
    """Output shape of a pooling layer (Keras's ``compute_pooling_output_shape``).

    Example:
        >>> pooling_output_shape((None, 7, 7, 3), (2, 2), (2, 2), "valid", "channels_last")
        (None, 3, 3, 3)
    """
    spatial = spatial_dims(input_shape, data_format)
    out = tuple(
        conv_output_length(n, k, s, 1, padding)
        for n, k, s in zip(spatial, pool_size, strides, strict=True)
    )
    if any(d is not None and d <= 0 for d in out):
        raise ValueError(
            "Computed output size would be zero or negative. "
            f"Received: `inputs.shape={input_shape}`, `pool_size={pool_size}`, "
            f"`strides={strides}`, `padding={padding}`."
        )
    return with_spatial(input_shape[0], out, channels_of(input_shape, data_format), data_format)
