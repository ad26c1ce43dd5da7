"""Products and norms of ``kseq.ops`` (Keras's ``keras.ops``): ``matmul``, ``dot``, ``einsum``,
``tensordot``, ``outer``, ``inner``, ``norm``, ``trace``.

Result dtypes follow Keras's promotion (``int8 @ int8`` is ``int32``, mixed int/float is float);
half-precision products on the CPU are computed in ``float32`` (torch's CPU kernels lack them) and
cast back, as Keras does.

Example:
    >>> matmul(torch.ones(2, 3), torch.ones(3, 4)).shape, norm(torch.tensor([3.0, 4.0]))
    (torch.Size([2, 4]), tensor(5.))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from kseq import config
from kseq.ops.core import as_tensor_like, convert_to_tensor
from kseq.ops.dtypes import result_type, to_torch_dtype

__all__ = ["dot", "einsum", "inner", "matmul", "norm", "outer", "tensordot", "trace"]


def _product(
    x1: Any, x2: Any, fn: Callable[[Tensor, Tensor], Tensor], float_compute: bool
) -> Tensor:
    """``fn(x1, x2)`` computed in a dtype torch supports and returned in Keras's result dtype."""
    if isinstance(x1, Tensor) or not isinstance(x2, Tensor):
        a = convert_to_tensor(x1)
        b = as_tensor_like(x2, a)
    else:
        b = x2
        a = as_tensor_like(x1, b)
    if a.dtype == torch.int8 and b.dtype == torch.int8:
        out_dtype = torch.int32
    else:
        out_dtype = to_torch_dtype(result_type(a.dtype, b.dtype))
    compute = to_torch_dtype(result_type(out_dtype, float)) if float_compute else out_dtype
    if compute == torch.bool or (not compute.is_floating_point and a.device.type != "cpu"):
        compute = config.floatx_dtype()  # no boolean matmul; no integer matmul on GPUs
    if compute == torch.float16 and a.device.type == "cpu":
        compute = torch.float32
    return fn(a.to(compute), b.to(compute)).to(out_dtype)


def matmul(x1: Any, x2: Any) -> Tensor:
    """Matrix product with NumPy's broadcasting rules (``x1 @ x2``).

    Example:
        >>> matmul(torch.tensor([[1, 2]]), torch.tensor([[3], [4]]))
        tensor([[11]], dtype=torch.int32)
    """
    return _product(x1, x2, torch.matmul, float_compute=False)


def _dot(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim >= 2:
        return torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2]))
    return torch.matmul(a, b)


def dot(x1: Any, x2: Any) -> Tensor:
    """NumPy's ``dot``: sum product over the last axis of ``x1`` and the second-to-last of ``x2``.

    Example:
        >>> dot(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
        tensor(11.)
    """
    return _product(x1, x2, _dot, float_compute=True)


def tensordot(x1: Any, x2: Any, axes: int | Sequence[Any] = 2) -> Tensor:
    """Sum product over ``axes`` (an int: the last ``axes`` of ``x1`` with the first of ``x2``).

    Example:
        >>> tensordot(torch.ones(2, 3), torch.ones(3, 4), axes=1).shape
        torch.Size([2, 4])
    """
    if not isinstance(axes, int):
        first, second = axes
        axes = (
            [first] if isinstance(first, int) else list(first),
            [second] if isinstance(second, int) else list(second),
        )
    return _product(x1, x2, lambda a, b: torch.tensordot(a, b, dims=axes), float_compute=True)


def inner(x1: Any, x2: Any) -> Tensor:
    """Sum product over the last axes of ``x1`` and ``x2``.

    Example:
        >>> inner(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
        tensor(11.)
    """
    return _product(x1, x2, torch.inner, float_compute=True)


def outer(x1: Any, x2: Any) -> Tensor:
    """Outer product of the flattened inputs.

    Example:
        >>> outer(torch.tensor([1, 2]), torch.tensor([1, 10])).tolist()
        [[1, 10], [2, 20]]
    """
    x1 = convert_to_tensor(x1)
    return torch.outer(x1.reshape(-1), as_tensor_like(x2, x1).reshape(-1))


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Tensor:
    """Einstein summation (``torch.einsum``); ``int8`` operands sum in ``int32``, as in Keras.

    Example:
        >>> einsum("ij,jk->ik", torch.ones(2, 3), torch.ones(3, 4)).shape
        torch.Size([2, 4])
    """
    first = next((t for t in operands if isinstance(t, Tensor)), None)
    tensors = [
        convert_to_tensor(t) if first is None else as_tensor_like(t, first) for t in operands
    ]
    if tensors and all(t.dtype == torch.int8 for t in tensors):
        return torch.einsum(subscripts, *(t.to(torch.int32) for t in tensors)).to(torch.int32)
    return torch.einsum(subscripts, *tensors)


def norm(
    x: Any, ord: Any = None, axis: int | Sequence[int] | None = None, keepdims: bool = False
) -> Tensor:
    """Vector or matrix norm (``torch.linalg.norm``; integers are promoted to floats).

    Example:
        >>> norm(torch.tensor([[3.0, 4.0]]), axis=-1)
        tensor([5.])
    """
    x = convert_to_tensor(x)
    dtype = (
        config.floatx_dtype()
        if x.dtype == torch.int64
        else to_torch_dtype(result_type(x.dtype, float))
    )
    dim = axis if axis is None or isinstance(axis, int) else tuple(axis)
    return torch.linalg.norm(x.to(dtype), ord=ord, dim=dim, keepdim=keepdims)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum of the diagonal ``offset`` over the plane ``(axis1, axis2)``.

    Example:
        >>> trace(torch.tensor([[1, 2], [3, 4]], dtype=torch.int32))
        tensor(5, dtype=torch.int32)
    """
    x = convert_to_tensor(x)
    small = (torch.bool, torch.int8, torch.int16, torch.uint8)
    dtype = torch.int32 if x.dtype in small else x.dtype
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=dtype)
