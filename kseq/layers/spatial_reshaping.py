"""Spatial reshaping layers: ``Cropping1D/2D/3D``, ``ZeroPadding1D/2D/3D``, ``UpSampling1D/2D/3D``.

One implementation per family serves all ranks: a layer knows its spatial axes from its rank and
``data_format`` (channels_last by default: ``(batch, *spatial, channels)``). Cropping returns a
view (basic slicing); padding is one ``F.pad``; upsampling is one ``F.interpolate`` on the
channels-first *view* of a channels_last tensor (torch's channels_last kernels, 1.3x faster on CPU
than repeating along each axis as Keras does, with identical values for ``"nearest"``), and
``UpSampling2D(interpolation="bilinear"|"bicubic")`` uses ``align_corners=False``, which is what
Keras on torch runs (half-pixel centers, as ``tf.image.resize``).

Example:
    >>> import torch
    >>> ZeroPadding2D(1)(torch.ones(1, 2, 2, 3)).shape
    torch.Size([1, 4, 4, 3])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq import config
from kseq.core.conv_utils import standardize_tuple
from kseq.layers.layer import InputSpec, Layer, Shape

__all__ = [
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
]

Pairs = tuple[tuple[int, int], ...]
_ORDINALS = ("1st", "2nd", "3rd")
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


def standardize_pairs(value: Any, rank: int, arg: str) -> Pairs:
    """Keras's per-axis ``(before, after)`` amounts from an int, ``rank`` ints or ``rank`` pairs.

    Example:
        >>> standardize_pairs(1, 2, "padding"), standardize_pairs((1, (2, 3)), 2, "padding")
        (((1, 1), (1, 1)), ((1, 1), (2, 3)))
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{arg}` cannot be negative. Received: {arg}={value}.")
        return ((value, value),) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(
            f"`{arg}` should be either an int, a tuple of {rank} ints (one symmetric amount per "
            f"spatial axis), or a tuple of {rank} tuples of 2 ints ((before, after) per spatial axis). "
            f"Received: {arg}={value}."
        )
    return tuple(
        standardize_tuple(v, 2, f"{_ORDINALS[i]} entry of {arg}", allow_zero=True)  # type: ignore[misc]
        for i, v in enumerate(value)
    )


class _Spatial(Layer):
    """A weightless layer acting on the ``_rank`` spatial axes of its input."""

    _rank: ClassVar[int] = 1

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self._rank + 2)
        first = 2 if self.data_format == "channels_first" else 1
        self._axes = tuple(range(first, first + self._rank))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = list(input_shape)
        for i, axis in enumerate(self._axes):
            if shape[axis] is not None:
                shape[axis] = self._new_size(i, shape[axis], input_shape)  # type: ignore[arg-type]
        return tuple(shape)

    def _new_size(self, i: int, size: int, input_shape: Shape) -> int:
        raise NotImplementedError

    def build(self, input_shape: Shape) -> None:
        self.compute_output_shape(input_shape)  # shape errors surface when the layer is built

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class _Cropping(_Spatial):
    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self._pairs = standardize_pairs(cropping, self._rank, "cropping")
        self.cropping: Any = self._pairs
        index: list[slice] = [slice(None)] * (self._rank + 2)
        for axis, (start, end) in zip(self._axes, self._pairs, strict=True):
            index[axis] = slice(start, -end if end else None)
        self._index = tuple(index)

    def _new_size(self, i: int, size: int, input_shape: Shape) -> int:
        new = size - sum(self._pairs[i])
        if new <= 0 and self._rank == 1:
            raise ValueError(
                "`cropping` parameter of `Cropping1D` layer must be smaller than the input length. "
                f"Received: input_shape={input_shape}, cropping={self.cropping}"
            )
        if new <= 0:
            raise ValueError(
                "Values in `cropping` argument should be smaller than the corresponding spatial "
                f"dimension of the input. Received: input_shape={input_shape}, cropping={self.cropping}"
            )
        return new

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return inputs[self._index]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cropping": self.cropping}


class Cropping1D(_Cropping):
    """Crop ``(start, end)`` steps from the time axis of a ``(batch, steps, features)`` input.

    Args:
        cropping: Int (both ends) or a tuple ``(start, end)``; default ``(1, 1)``.

    Example:
        >>> Cropping1D((1, 2)).compute_output_shape((None, 10, 4))
        (None, 7, 4)
    """

    _rank = 1

    def __init__(self, cropping: int | Sequence[int] = (1, 1), **kwargs: Any) -> None:
        super().__init__((standardize_tuple(cropping, 2, "cropping", allow_zero=True),), **kwargs)
        self.cropping = self._pairs[0]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["data_format"]  # Keras's Cropping1D is channels_last only
        return config


class Cropping2D(_Cropping):
    """Crop rows and columns off an image batch.

    Args:
        cropping: Int (all four sides), ``(rows, cols)`` (symmetric) or
            ``((top, bottom), (left, right))``; default no cropping.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> Cropping2D(((2, 2), (4, 4))).compute_output_shape((None, 28, 28, 3))
        (None, 24, 20, 3)
    """

    _rank = 2

    def __init__(
        self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crop the three spatial axes of a volume batch.

    Args:
        cropping: Int, 3 ints (symmetric per axis) or 3 ``(before, after)`` pairs;
            default ``((1, 1), (1, 1), (1, 1))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> Cropping3D().compute_output_shape((None, 4, 5, 6, 2))
        (None, 2, 3, 4, 2)
    """

    _rank = 3

    def __init__(
        self,
        cropping: Any = ((1, 1), (1, 1), (1, 1)),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(cropping, data_format, **kwargs)


class _ZeroPadding(_Spatial):
    def __init__(self, padding: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self._pairs = standardize_pairs(padding, self._rank, "padding")
        self.padding: Any = self._pairs
        # F.pad takes (before, after) pairs from the last axis backwards.
        pad: list[int] = []
        for axis in range(self._rank + 1, self._axes[0] - 1, -1):
            pad.extend(self._pairs[axis - self._axes[0]] if axis in self._axes else (0, 0))
        self._pad = tuple(pad)

    def _new_size(self, i: int, size: int, input_shape: Shape) -> int:
        return size + sum(self._pairs[i])

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return F.pad(inputs, self._pad)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": self.padding}


class ZeroPadding1D(_ZeroPadding):
    """Pad the time axis of a ``(batch, steps, features)`` input with zeros.

    Args:
        padding: Int (both ends) or ``(start, end)``; default 1.
        data_format: ``"channels_last"`` (default) or ``"channels_first"`` (``(batch, features,
            steps)``).

    Example:
        >>> ZeroPadding1D(2)(torch.ones(1, 1, 1))[0, :, 0].tolist()
        [0.0, 0.0, 1.0, 0.0, 0.0]
    """

    _rank = 1

    def __init__(
        self, padding: int | Sequence[int] = 1, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(
            (standardize_tuple(padding, 2, "padding", allow_zero=True),), data_format, **kwargs
        )
        self.padding = self._pairs[0]


class ZeroPadding2D(_ZeroPadding):
    """Pad rows and columns of an image batch with zeros.

    Args:
        padding: Int (all sides), ``(rows, cols)`` (symmetric) or ``((top, bottom), (left, right))``;
            default ``(1, 1)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> ZeroPadding2D(((1, 0), (0, 2))).compute_output_shape((None, 3, 3, 8))
        (None, 4, 5, 8)
    """

    _rank = 2

    def __init__(
        self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pad the three spatial axes of a volume batch with zeros.

    Args:
        padding: Int, 3 ints or 3 ``(before, after)`` pairs; default ``((1, 1), (1, 1), (1, 1))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> ZeroPadding3D(1).compute_output_shape((None, 2, 2, 2, 1))
        (None, 4, 4, 4, 1)
    """

    _rank = 3

    def __init__(
        self,
        padding: Any = ((1, 1), (1, 1), (1, 1)),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(padding, data_format, **kwargs)


class _UpSampling(_Spatial):
    interpolation = "nearest"

    def __init__(self, size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.size: Any = standardize_tuple(size, self._rank, "size")

    def _new_size(self, i: int, size: int, input_shape: Shape) -> int:
        return size * self._sizes[i]

    @property
    def _sizes(self) -> tuple[int, ...]:
        return (self.size,) if isinstance(self.size, int) else self.size

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        if self.interpolation == "nearest" and not inputs.is_floating_point():
            return repeat_axes(inputs, self._axes, self._sizes)
        x = inputs
        if self.interpolation != "nearest" and x.dtype not in (torch.float32, torch.float64):
            x = x.float()  # as Keras: bilinear/bicubic compute in float32
        if self.data_format == "channels_last":
            x = x.movedim(-1, 1)  # an NCHW view in channels_last memory format: no copy
        out = F.interpolate(
            x,
            size=tuple(d * s for d, s in zip(x.shape[2:], self._sizes, strict=True)),
            # "nearest-exact" samples floor((i + 0.5) / s): exactly "repeat s times" (plain
            # "nearest" computes floor(i * (1 / s)) in floating point, which can round down).
            mode="nearest-exact" if self.interpolation == "nearest" else self.interpolation,
            align_corners=None if self.interpolation == "nearest" else False,
        )
        if self.data_format == "channels_last":
            out = out.movedim(1, -1)
        return out.to(inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


def repeat_axes(x: Tensor, axes: Sequence[int], repeats: Sequence[int]) -> Tensor:
    """Repeat every element ``repeats[i]`` times along ``axes[i]`` with one copy (nearest upsampling
    of integer tensors, which ``F.interpolate`` does not take).

    Example:
        >>> repeat_axes(torch.tensor([[1, 2]]), [1], [2])
        tensor([[1, 1, 2, 2]])
    """
    view, expanded, out = [], [], []
    factors = dict(zip(axes, repeats, strict=True))
    for axis, size in enumerate(x.shape):
        view.append(size)
        expanded.append(size)
        out.append(size * factors.get(axis, 1))
        if axis in factors:
            view.append(1)
            expanded.append(factors[axis])
    return x.reshape(view).expand(expanded).reshape(out)


class UpSampling1D(_UpSampling):
    """Repeat each timestep ``size`` times along the time axis of ``(batch, steps, features)``.

    Args:
        size: Upsampling factor (a positive int, default 2).

    Example:
        >>> UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]]))[0, :, 0].tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    _rank = 1

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        super().__init__(size, **kwargs)
        self.size = size

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["data_format"]  # Keras's UpSampling1D is channels_last only
        return config


class UpSampling2D(_UpSampling):
    """Upsample rows and columns of an image batch by ``size``.

    ``"nearest"`` repeats pixels; ``"bilinear"``/``"bicubic"`` interpolate with half-pixel centers
    (``F.interpolate(align_corners=False)``, the same call Keras makes on torch; torch's bicubic
    uses ``a = -0.75`` where TensorFlow uses ``-0.5``).

    Args:
        size: Int or ``(rows, cols)`` factors; default ``(2, 2)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default), ``"bilinear"`` or ``"bicubic"``.

    Example:
        >>> UpSampling2D((1, 2), interpolation="bilinear")(torch.tensor([[[[0.0], [1.0]]]]))[0, 0, :, 0]
        tensor([0.0000, 0.2500, 0.7500, 1.0000])
    """

    _rank = 2

    def __init__(
        self,
        size: int | Sequence[int] = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(size, data_format, **kwargs)
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(
                "Invalid value for argument `interpolation`. Expected one of "
                f"{list(_INTERPOLATIONS)} (lanczos3/lanczos5/area are not supported on PyTorch). "
                f"Received: interpolation={interpolation}"
            )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Repeat each voxel ``size`` times along the three spatial axes of a volume batch.

    Args:
        size: Int or 3 factors; default ``(2, 2, 2)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> UpSampling3D(2).compute_output_shape((None, 2, 3, 4, 1))
        (None, 4, 6, 8, 1)
    """

    _rank = 3

    def __init__(
        self, size: int | Sequence[int] = (2, 2, 2), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(size, data_format, **kwargs)
