"""Neural-network ops of ``kseq.ops`` (Keras's ``keras.ops``): activations, ``one_hot``, the
element-wise / per-sample crossentropies, ``conv``, ``max_pool``, ``average_pool``, ``moments``
and ``normalize``.

The activations are :mod:`kseq.activations` (one formula, one place) with Keras's *ops* defaults
(``ops.gelu`` is the tanh approximation unless ``approximate=False``); the crossentropies reuse
:mod:`kseq.losses`' clipping and formulas. Images are **channels_last** unless ``data_format``
(or ``kseq.config.image_data_format()``) says otherwise, and conv kernels are in Keras layout
``(*spatial, in_channels, out_channels)``.

Example:
    >>> one_hot(torch.tensor([0, 2]), 3)
    tensor([[1., 0., 0.],
            [0., 0., 1.]])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq import activations, config
from kseq.core.conv_utils import flat_pads, same_padding, standardize_tuple
from kseq.losses import probabilistic
from kseq.ops._wrap import unary_op
from kseq.ops.core import as_tensor_like, convert_to_tensor
from kseq.ops.dtypes import to_torch_dtype

__all__ = [
    "average_pool",
    "binary_crossentropy",
    "categorical_crossentropy",
    "conv",
    "elu",
    "gelu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "max_pool",
    "moments",
    "multi_hot",
    "normalize",
    "one_hot",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "sparse_categorical_crossentropy",
    "swish",
]


relu = unary_op(activations.relu, "relu", "``max(x, 0)``.", "relu(torch.tensor([-1.0, 2.0]))", "tensor([0., 2.])")  # fmt: skip


relu6 = unary_op(activations.relu6, "relu6", "``min(max(x, 0), 6)``.", "relu6(torch.tensor([-1.0, 8.0]))", "tensor([0., 6.])")  # fmt: skip


sigmoid = unary_op(activations.sigmoid, "sigmoid", "``1 / (1 + exp(-x))``.", "sigmoid(torch.tensor([0.0]))", "tensor([0.5000])")  # fmt: skip


silu = unary_op(activations.silu, "silu", "``x * sigmoid(x)``.", "silu(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip


swish = silu


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """Gaussian error linear unit; the tanh approximation by default (Keras's ``ops.gelu``).

    Example:
        >>> gelu(torch.tensor([0.0, 1.0]), approximate=False)
        tensor([0.0000, 0.8413])
    """
    return activations.gelu(convert_to_tensor(x), approximate=approximate)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` if positive, else ``alpha * (exp(x) - 1)``.

    Example:
        >>> elu(torch.tensor([1.0]))
        tensor([1.])
    """
    return activations.elu(convert_to_tensor(x), alpha)


selu = unary_op(activations.selu, "selu", "Scaled ELU with the self-normalizing constants.", "selu(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip


softplus = unary_op(activations.softplus, "softplus", "``log(1 + exp(x))``.", "softplus(torch.tensor([0.0]))", "tensor([0.6931])")  # fmt: skip


softsign = unary_op(activations.softsign, "softsign", "``x / (1 + |x|)``.", "softsign(torch.tensor([1.0]))", "tensor([0.5000])")  # fmt: skip


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` if positive, else ``negative_slope * x``.

    Example:
        >>> leaky_relu(torch.tensor([-1.0]))
        tensor([-0.2000])
    """
    return activations.leaky_relu(convert_to_tensor(x), negative_slope)


hard_sigmoid = unary_op(activations.hard_sigmoid, "hard_sigmoid", "``relu6(x + 3) / 6``.", "hard_sigmoid(torch.tensor([0.0]))", "tensor([0.5000])")  # fmt: skip


hard_silu = unary_op(activations.hard_silu, "hard_silu", "``x * hard_sigmoid(x)``.", "hard_silu(torch.tensor([3.0]))", "tensor([3.])")  # fmt: skip


hard_swish = hard_silu


log_sigmoid = unary_op(activations.log_sigmoid, "log_sigmoid", "``log(sigmoid(x))``, computed stably.", "log_sigmoid(torch.tensor([0.0]))", "tensor([-0.6931])")  # fmt: skip


def _over_axes(fn: Any, x: Any, axis: int | Sequence[int] | None, name: str) -> Tensor:
    """``fn`` (softmax / log_softmax over the last axis) over ``axis``: one, several or all."""
    x = convert_to_tensor(x)
    if isinstance(axis, int) and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(
            f"You are using a {name} over axis {axis} of a tensor of shape {tuple(x.shape)}. This "
            f"axis has size 1. The {name} operation will always return the value "
            f"{'1' if name == 'softmax' else '0'}, which is likely not what you intended. Did you "
            "mean to use a sigmoid instead?",
            stacklevel=3,
        )
    dtype = x.dtype
    if dtype == torch.float16 and x.device.type == "cpu":
        x = x.float()  # no half-precision softmax kernel on the CPU
    if isinstance(axis, int):
        return fn(x, dim=axis).to(dtype)
    axes = list(range(x.ndim)) if axis is None else [a % x.ndim for a in axis]
    keep = [d for d in range(x.ndim) if d not in axes]
    moved = x.permute(*keep, *axes)
    out = fn(moved.reshape(*moved.shape[: len(keep)], -1), dim=-1).reshape(moved.shape)
    order = [*keep, *axes]
    return out.permute(*(order.index(d) for d in range(x.ndim))).to(dtype)


def softmax(x: Any, axis: int | Sequence[int] | None = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` over ``axis`` (an int, a tuple of axes, or all axes for ``None``).

    Example:
        >>> softmax(torch.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """
    return _over_axes(F.softmax, x, axis, "softmax")


def log_softmax(x: Any, axis: int | Sequence[int] | None = -1) -> Tensor:
    """``log(softmax(x))`` over ``axis``, computed stably.

    Example:
        >>> log_softmax(torch.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])
    """
    return _over_axes(F.log_softmax, x, axis, "log_softmax")


def one_hot(
    x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> Tensor:
    """One-hot encoding of integer class ids (negative ids give all-zero rows), as ``floatx()``
    unless ``dtype`` is given; the class axis is ``axis`` of the result.

    Example:
        >>> one_hot(torch.tensor([1, -1]), 2, dtype="int32").tolist()
        [[0, 1], [0, 0]]
    """
    if sparse:
        raise ValueError("Unsupported value `sparse=True` with the torch backend.")
    ids = convert_to_tensor(x).long()
    out = F.one_hot(ids.clamp(min=0), num_classes) * (ids >= 0).unsqueeze(-1)
    out = out.to(to_torch_dtype(dtype))
    return out if axis in (-1, out.ndim - 1) else out.movedim(-1, axis)


def multi_hot(
    x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> Tensor:
    """Multi-hot encoding: 1 for every class id present in each row of ``x``.

    Example:
        >>> multi_hot(torch.tensor([[0, 2], [1, 1]]), 3).tolist()
        [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    ids = convert_to_tensor(x)
    reduce_axis = 1 if ids.ndim > 1 else 0
    return torch.amax(
        one_hot(ids, num_classes, axis=axis, dtype=dtype, sparse=sparse), dim=reduce_axis
    )


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """Element-wise binary crossentropy (no reduction); probabilities are clipped to
    ``[epsilon, 1 - epsilon]`` as in Keras.

    Example:
        >>> binary_crossentropy(torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.5]))
        tensor([0.6931, 0.6931])
    """
    output = convert_to_tensor(output)
    target = as_tensor_like(target, output).to(output.dtype)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    return F.binary_cross_entropy(
        probabilistic.clip_probabilities(output), target, reduction="none"
    )


def categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Crossentropy of one-hot (or soft) targets, summed over the class ``axis``.

    Example:
        >>> categorical_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))
        tensor([0.6931])
    """
    output = convert_to_tensor(output)
    target = as_tensor_like(target, output)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    return probabilistic.categorical_crossentropy(
        target, output, from_logits=from_logits, axis=axis
    )


def sparse_categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Crossentropy of integer class targets against scores over the class ``axis``.

    Example:
        >>> sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[0.5, 0.5]]))
        tensor([0.6931])
    """
    output = convert_to_tensor(output)
    return probabilistic.sparse_categorical_crossentropy(
        as_tensor_like(target, output), output, from_logits=from_logits, axis=axis
    )


def _channels_first(inputs: Tensor, data_format: str | None) -> tuple[Tensor, bool]:
    if inputs.ndim not in (3, 4, 5):
        raise ValueError(
            "Inputs must have ndim=3, 4 or 5, corresponding to 1D, 2D and 3D inputs. Received "
            f"input shape: {tuple(inputs.shape)}."
        )
    last = config.standardize_data_format(data_format) == "channels_last"
    return (inputs.movedim(-1, 1) if last else inputs), last


def _same_pads(
    spatial: Sequence[int], window: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> list[tuple[int, int]]:
    return [
        same_padding(n, k, s, d)
        for n, k, s, d in zip(spatial, window, strides, dilation, strict=True)
    ]


def conv(
    inputs: Any,
    kernel: Any,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> Tensor:
    """N-D convolution (cross-correlation) with a Keras-layout kernel
    ``(*spatial, in_channels / groups, out_channels)``; channels_last by default.

    Example:
        >>> conv(torch.ones(1, 5, 5, 2), torch.ones(3, 3, 2, 4), padding="same").shape
        torch.Size([1, 5, 5, 4])
    """
    x, last = _channels_first(convert_to_tensor(inputs), data_format)
    kernel = as_tensor_like(kernel, x)
    rank = x.ndim - 2
    strides_ = standardize_tuple(strides, rank, "strides")
    dilation = standardize_tuple(dilation_rate, rank, "dilation_rate")
    weight = kernel.permute(rank + 1, rank, *range(rank))  # -> (out, in, *spatial)
    if x.shape[1] % weight.shape[1]:
        raise ValueError(
            f"Input channels ({x.shape[1]}) must be divisible by kernel input channels "
            f"({weight.shape[1]})"
        )
    pad: Any = 0
    if str(padding).lower() == "same":
        pads = _same_pads(x.shape[2:], weight.shape[2:], strides_, dilation)
        if all(a == b for a, b in pads):
            pad = tuple(a for a, _ in pads)
        else:
            x = F.pad(x, flat_pads(pads))
    conv_fn = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    out = conv_fn(x, weight, None, strides_, pad, dilation, x.shape[1] // weight.shape[1])
    return out.movedim(1, -1) if last else out


def _pool(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
    data_format: str | None,
    mode: str,
) -> Tensor:
    x, last = _channels_first(convert_to_tensor(inputs), data_format)
    rank = x.ndim - 2
    window = standardize_tuple(pool_size, rank, "pool_size")
    step = window if strides is None else standardize_tuple(strides, rank, "strides")
    pads = (
        _same_pads(x.shape[2:], window, step, (1,) * rank)
        if str(padding).lower() == "same"
        else [(0, 0)] * rank
    )
    symmetric = all(a == b for a, b in pads)
    if mode == "max":
        pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[rank - 1]
        if not symmetric:
            x = F.pad(x, flat_pads(pads), value=float("-inf"))
        out = pool(x, window, step, tuple(a for a, _ in pads) if symmetric else 0)
    else:
        pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[rank - 1]
        if symmetric:
            out = pool(x, window, step, tuple(a for a, _ in pads), count_include_pad=False)
        else:  # mean over the valid cells of each zero-padded window
            ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
            flat = flat_pads(pads)
            out = pool(F.pad(x, flat), window, step) / pool(F.pad(ones, flat), window, step)
    return out.movedim(1, -1) if last else out


def max_pool(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """Max pooling over N-D windows (``strides`` defaults to ``pool_size``); channels_last by
    default.

    Example:
        >>> max_pool(torch.arange(4.0).reshape(1, 4, 1), 2).flatten()
        tensor([1., 3.])
    """
    return _pool(inputs, pool_size, strides, padding, data_format, "max")


def average_pool(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """Average pooling over N-D windows ("same" padding cells are not counted); channels_last by
    default.

    Example:
        >>> average_pool(torch.arange(4.0).reshape(1, 4, 1), 2).flatten()
        tensor([0.5000, 2.5000])
    """
    return _pool(inputs, pool_size, strides, padding, data_format, "average")


def moments(
    x: Any, axes: int | Sequence[int], keepdims: bool = False, synchronized: bool = False
) -> tuple[Tensor, Tensor]:
    """Mean and (population) variance over ``axes``; float16 inputs are reduced in float32.

    Example:
        >>> moments(torch.tensor([[1.0, 3.0]]), axes=[1])
        (tensor([2.]), tensor([1.]))
    """
    if synchronized:
        raise NotImplementedError(
            "`synchronized=True` is not supported by kseq.ops.moments: under DDP, all-reduce the "
            "statistics with torch.distributed.all_reduce yourself."
        )
    x = convert_to_tensor(x)
    dtype = x.dtype
    dims = (axes,) if isinstance(axes, int) else tuple(axes)
    compute = x.float() if dtype == torch.float16 else x
    variance, mean = torch.var_mean(compute, dim=dims, correction=0, keepdim=keepdims)
    if dtype == torch.float16:
        limit = torch.finfo(torch.float16).max
        mean, variance = (t.clamp(-limit, limit).to(dtype) for t in (mean, variance))
    return mean, variance


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> Tensor:
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``).

    Example:
        >>> normalize(torch.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = convert_to_tensor(x)
    if x.ndim == 0:
        x = x.unsqueeze(0)
    eps = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        square_sum = torch.sum(torch.square(x), dim=axis, keepdim=True)
        return x * torch.rsqrt(torch.clamp(square_sum, min=eps * eps))
    norm_ = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm_, min=eps)
