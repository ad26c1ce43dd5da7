"""Reductions, scans and top-k of ``kseq.ops`` (Keras's ``keras.ops``): ``sum``, ``mean``,
``max``, ``std``, ``argmax``, ``logsumexp``, ``cumsum``, ``top_k``...

Keras argument names (``axis`` as an int or a tuple, ``keepdims``) and Keras's result dtypes:
the mean of integers is ``float32``, sums of small integers are ``int32``, arg-indices are
``int32``, and ``var``/``cumsum``/``prod`` results follow Keras's promotion (capped at 32 bits).

Example:
    >>> x = torch.tensor([[1, 2], [3, 4]], dtype=torch.int32)
    >>> mean(x), sum(x, axis=0), argmax(x, axis=1)
    (tensor(2.5000), tensor([4, 6], dtype=torch.int32), tensor([1, 1], dtype=torch.int32))
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq.ops.core import as_tensor_like, convert_to_tensor
from kseq.ops.dtypes import result_type, to_torch_dtype

__all__ = [
    "all",
    "amax",
    "amin",
    "any",
    "argmax",
    "argmin",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "in_top_k",
    "logsumexp",
    "max",
    "mean",
    "median",
    "min",
    "prod",
    "std",
    "sum",
    "top_k",
    "var",
]

Axis = int | Sequence[int] | None
_SMALL_INTS = (torch.bool, torch.uint8, torch.int8, torch.int16)


def _dims(axis: Axis) -> int | tuple[int, ...] | None:
    """A torch ``dim`` argument from a Keras ``axis`` (int, list or tuple)."""
    if axis is None or isinstance(axis, int):
        return axis
    return tuple(int(a) for a in axis)


def _input(x: Any) -> Tensor:
    if isinstance(x, (list, tuple)) and builtins.any(isinstance(v, Tensor) for v in x):
        return torch.stack([convert_to_tensor(v) for v in x])
    return convert_to_tensor(x)


def _float_compute(x: Tensor) -> Tensor:
    """Integers, booleans and half floats are reduced in ``float32`` (as Keras does)."""
    if x.dtype in (torch.float32, torch.float64) or x.is_complex():
        return x
    return x.to(torch.float32)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (all axes when ``None``); booleans and small integers sum as ``int32``.

    Example:
        >>> sum(torch.tensor([True, True, False]))
        tensor(2, dtype=torch.int32)
    """
    x = _input(x)
    if axis in ((), []):
        return x
    dtype = torch.int32 if x.dtype in _SMALL_INTS else x.dtype
    out = torch.sum(x) if axis is None else torch.sum(x, dim=_dims(axis), keepdim=keepdims)
    return out.to(dtype)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``; integers and booleans give ``float32``, half floats keep their dtype.

    Example:
        >>> mean(torch.tensor([[1.0, 2.0], [3.0, 5.0]]), axis=-1)
        tensor([1.5000, 4.0000])
    """
    x = _input(x)
    if axis in ((), []):
        return x
    out_dtype = x.dtype if x.is_floating_point() or x.is_complex() else torch.float32
    x = _float_compute(x)
    out = torch.mean(x) if axis is None else torch.mean(x, dim=_dims(axis), keepdim=keepdims)
    return out.to(out_dtype)


def _extreme(
    fn: Any, x: Any, axis: Axis, keepdims: bool, initial: Any, combine: Any, name: str
) -> Tensor:
    x = _input(x)
    if x.numel() == 0:
        if initial is None:
            raise ValueError(
                f"Cannot compute the {name} of an empty tensor. Pass `initial=` to give a value."
            )
        return torch.full((1,) * x.ndim if keepdims else (), initial, device=x.device)
    if axis in ((), []):
        out = x
    elif axis is None:
        out = fn(x, dim=tuple(range(x.ndim)), keepdim=keepdims) if keepdims else fn(x)
    else:
        out = fn(x, dim=_dims(axis), keepdim=keepdims)
    if initial is not None:
        out = combine(out, as_tensor_like(initial, out).to(out.dtype))
    return out


def max(x: Any, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> Tensor:
    """Maximum over ``axis``; ``initial`` is a lower bound (and the value for empty input).

    With ``axis=None, keepdims=True`` the result has shape ``(1,) * ndim`` as in NumPy (Keras's
    torch backend drops ``keepdims`` there).

    Example:
        >>> max(torch.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=0)
        tensor([3., 5.])
    """
    return _extreme(torch.amax, x, axis, keepdims, initial, torch.maximum, "max")


def min(x: Any, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> Tensor:
    """Minimum over ``axis``; ``initial`` is an upper bound (and the value for empty input).

    Example:
        >>> min(torch.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1)
        tensor([1., 2.])
    """
    return _extreme(torch.amin, x, axis, keepdims, initial, torch.minimum, "min")


def amax(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Alias of :func:`max` (without ``initial``).

    Example:
        >>> amax(torch.tensor([1, 4, 2]))
        tensor(4)
    """
    return max(x, axis=axis, keepdims=keepdims)


def amin(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Alias of :func:`min` (without ``initial``).

    Example:
        >>> amin(torch.tensor([1, 4, 2]))
        tensor(1)
    """
    return min(x, axis=axis, keepdims=keepdims)


def prod(x: Any, axis: Axis = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """Product over ``axis`` (small integers multiply as ``int32``; 64-bit types as Keras's
    32-bit result dtype).

    Example:
        >>> prod(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
        tensor([3., 8.])
    """
    x = convert_to_tensor(x)
    if dtype is None:
        out_dtype = torch.int32 if x.dtype in _SMALL_INTS else to_torch_dtype(result_type(x.dtype))
    else:
        out_dtype = to_torch_dtype(dtype)
    compute = torch.float32 if out_dtype == torch.float16 and x.device.type == "cpu" else out_dtype
    if axis is None:
        return torch.prod(x, dtype=compute).to(out_dtype)
    axes = [axis] if isinstance(axis, int) else list(axis)
    for a in sorted((a % x.ndim for a in axes), reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=compute)
    return x.to(out_dtype)


def var(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Population variance over ``axis`` (no Bessel correction, as NumPy and Keras).

    Example:
        >>> var(torch.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor(1.2500)
    """
    x = convert_to_tensor(x)
    out_dtype = to_torch_dtype(result_type(x.dtype, float))
    if axis in ((), []):
        return torch.zeros_like(x, dtype=out_dtype)
    x = x.to(to_torch_dtype(result_type(x.dtype, "float32")))
    return torch.var(x, dim=_dims(axis), keepdim=keepdims, correction=0).to(out_dtype)


def std(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Population standard deviation over ``axis`` (integers give ``float32``).

    Example:
        >>> std(torch.tensor([1.0, 3.0]))
        tensor(1.)
    """
    x = convert_to_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch.float32)
    return torch.std(x, dim=_dims(axis), keepdim=keepdims, correction=0)


def _arg(fn: Any, x: Any, axis: int | None, keepdims: bool) -> Tensor:
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return fn(x, dim=axis, keepdim=keepdims).to(torch.int32)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the maximum along ``axis`` (of the flattened input when ``None``), as ``int32``.

    Example:
        >>> argmax(torch.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1)
        tensor([1, 0], dtype=torch.int32)
    """
    return _arg(torch.argmax, x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the minimum along ``axis`` (of the flattened input when ``None``), as ``int32``.

    Example:
        >>> argmin(torch.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1)
        tensor([0, 1], dtype=torch.int32)
    """
    return _arg(torch.argmin, x, axis, keepdims)


def all(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Whether every entry along ``axis`` is true (non-zero).

    Example:
        >>> all(torch.tensor([[True, False], [True, True]]), axis=1)
        tensor([False,  True])
    """
    x = convert_to_tensor(x)
    if axis in ((), []):
        return x.to(torch.bool)
    return torch.all(x, dim=_dims(axis), keepdim=keepdims)


def any(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Whether any entry along ``axis`` is true (non-zero).

    Example:
        >>> any(torch.tensor([[True, False], [False, False]]), axis=1)
        tensor([ True, False])
    """
    x = convert_to_tensor(x)
    if axis in ((), []):
        return x.to(torch.bool)
    return torch.any(x, dim=_dims(axis), keepdim=keepdims)


def count_nonzero(x: Any, axis: Axis = None) -> Tensor:
    """Number of non-zero entries along ``axis``, as ``int32``.

    Example:
        >>> count_nonzero(torch.tensor([0.0, 1.0, 2.0]))
        tensor(2, dtype=torch.int32)
    """
    x = convert_to_tensor(x)
    if axis in ((), []):
        return torch.ne(x, 0).to(torch.int32)
    return torch.count_nonzero(x, dim=_dims(axis)).to(torch.int32)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably.

    Example:
        >>> logsumexp(torch.tensor([0.0, 0.0]))
        tensor(0.6931)
    """
    x = convert_to_tensor(x)
    dims = tuple(range(x.ndim)) if axis is None else _dims(axis)
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


def _scan(fn: Any, x: Any, axis: int | None, dtype: Any) -> Tensor:
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.flatten(), 0
    out_dtype = to_torch_dtype(result_type(dtype or x.dtype))
    if out_dtype == torch.bool:
        out_dtype = torch.int32
    if out_dtype == torch.float16 and x.device.type == "cpu":
        return fn(x, dim=axis, dtype=torch.float32).to(out_dtype)
    return fn(x, dim=axis, dtype=out_dtype)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """Cumulative sum along ``axis`` (of the flattened input when ``None``).

    Example:
        >>> cumsum(torch.tensor([1.0, 2.0, 3.0]))
        tensor([1., 3., 6.])
    """
    return _scan(torch.cumsum, x, axis, dtype)


def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """Cumulative product along ``axis`` (of the flattened input when ``None``).

    Example:
        >>> cumprod(torch.tensor([1.0, 2.0, 3.0]))
        tensor([1., 2., 6.])
    """
    return _scan(torch.cumprod, x, axis, dtype)


def median(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Median along ``axis``: the mean of the two middle values for even counts (NumPy's rule).

    Example:
        >>> median(torch.tensor([1.0, 4.0, 2.0, 3.0]))
        tensor(2.5000)
    """
    x = convert_to_tensor(x)
    out_dtype = to_torch_dtype(result_type(x.dtype, float))
    x = x.to(to_torch_dtype(result_type(x.dtype, "float32")))
    if axis is None:
        out = torch.quantile(x.reshape(-1), 0.5)
        return (out.reshape((1,) * x.ndim) if keepdims else out).to(out_dtype)
    axes = sorted(a % x.ndim for a in ([axis] if isinstance(axis, int) else axis))
    rest = [d for d in range(x.ndim) if d not in axes]
    flat = x.permute(*rest, *axes).reshape(*(x.shape[d] for d in rest), -1)
    out = torch.quantile(flat, 0.5, dim=-1)
    if keepdims:
        for a in axes:
            out = out.unsqueeze(a)
    return out.to(out_dtype)


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:
    """The ``k`` largest entries along the last axis and their indices (stable order for ties).

    Example:
        >>> values, indices = top_k(torch.tensor([1.0, 3.0, 2.0]), 2)
        >>> values, indices
        (tensor([3., 2.]), tensor([1, 2]))
    """
    x = convert_to_tensor(x)
    values, indices = torch.sort(x, dim=-1, descending=True, stable=True)
    return values[..., :k], indices[..., :k]


def in_top_k(targets: Any, predictions: Any, k: int) -> Tensor:
    """Whether each target class is among the ``k`` highest predictions (ties count as in).

    Example:
        >>> in_top_k(torch.tensor([1, 0]), torch.tensor([[0.1, 0.9], [0.2, 0.8]]), 1)
        tensor([ True, False])
    """
    predictions = convert_to_tensor(predictions)
    targets = as_tensor_like(targets, predictions).long().unsqueeze(-1)
    kth = torch.topk(predictions, k, dim=-1).values[..., -1:]
    return (torch.take_along_dim(predictions, targets, dim=-1) >= kth).squeeze(-1)
