"""Tensor creation ops of ``kseq.ops`` (Keras's ``keras.ops``): ``zeros``, ``ones``, ``full``,
``*_like``, ``arange``, ``linspace``, ``eye``, ``identity``, ``tri``, ``diag``.

``dtype=None`` means ``floatx()`` for ``zeros``/``ones``/``eye``, the input's dtype for ``*_like``
and the promoted dtype of the arguments for ``arange``/``linspace`` (``arange(3)`` is ``int32``).
New tensors go to the default device (:func:`kseq.ops.core.default_device`); ``*_like`` ops
follow their input.

Example:
    >>> zeros((2,)), arange(3), ones_like(torch.tensor([1, 2])).dtype
    (tensor([0., 0.]), tensor([0, 1, 2], dtype=torch.int32), torch.int64)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq.ops.core import convert_to_tensor, default_device
from kseq.ops.dtypes import result_type, to_torch_dtype

__all__ = [
    "arange",
    "diag",
    "empty",
    "eye",
    "full",
    "full_like",
    "identity",
    "linspace",
    "ones",
    "ones_like",
    "tri",
    "zeros",
    "zeros_like",
]

Shape = int | Sequence[int]


def _shape(shape: Shape) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)


def zeros(shape: Shape, dtype: Any = None) -> Tensor:
    """A tensor of zeros (``floatx()`` unless ``dtype`` is given).

    Example:
        >>> zeros((2, 1), dtype="int32").tolist()
        [[0], [0]]
    """
    return torch.zeros(_shape(shape), dtype=to_torch_dtype(dtype), device=default_device())


def ones(shape: Shape, dtype: Any = None) -> Tensor:
    """A tensor of ones (``floatx()`` unless ``dtype`` is given).

    Example:
        >>> ones(2)
        tensor([1., 1.])
    """
    return torch.ones(_shape(shape), dtype=to_torch_dtype(dtype), device=default_device())


def empty(shape: Shape, dtype: Any = None) -> Tensor:
    """An uninitialized tensor (``floatx()`` unless ``dtype`` is given).

    Example:
        >>> empty((2, 3)).shape
        torch.Size([2, 3])
    """
    return torch.empty(_shape(shape), dtype=to_torch_dtype(dtype), device=default_device())


def full(shape: Shape, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (a scalar or a broadcastable tensor), of
    ``dtype`` (``floatx()`` by default, whatever the fill value, as in Keras).

    Example:
        >>> full((2,), 7)
        tensor([7., 7.])
    """
    torch_dtype = to_torch_dtype(dtype)
    if isinstance(fill_value, (bool, int, float)):
        return torch.full(_shape(shape), fill_value, dtype=torch_dtype, device=default_device())
    fill = convert_to_tensor(fill_value, dtype=torch_dtype)
    return torch.broadcast_to(fill, _shape(shape)).clone()


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros with the shape (and, without ``dtype``, the dtype) of ``x``.

    Example:
        >>> zeros_like(torch.ones(2, dtype=torch.int32))
        tensor([0, 0], dtype=torch.int32)
    """
    x = convert_to_tensor(x)
    return torch.zeros_like(x, dtype=to_torch_dtype(dtype) if dtype is not None else x.dtype)


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones with the shape (and, without ``dtype``, the dtype) of ``x``.

    Example:
        >>> ones_like(torch.zeros(2), dtype="int32")
        tensor([1, 1], dtype=torch.int32)
    """
    x = convert_to_tensor(x)
    return torch.ones_like(x, dtype=to_torch_dtype(dtype) if dtype is not None else x.dtype)


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """``fill_value`` with the shape (and, without ``dtype``, the dtype) of ``x``.

    Example:
        >>> full_like(torch.zeros(2), 3)
        tensor([3., 3.])
    """
    x = convert_to_tensor(x)
    out = torch.empty_like(x, dtype=to_torch_dtype(dtype) if dtype is not None else x.dtype)
    if isinstance(fill_value, (bool, int, float)):
        return out.fill_(fill_value)
    return out.copy_(torch.broadcast_to(convert_to_tensor(fill_value).to(out.device), out.shape))


def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)`` (``[0, start)`` with one argument); the dtype is
    the promoted type of the arguments (``int32`` for ints, ``float32`` with a float).

    Example:
        >>> arange(1, 2, 0.5)
        tensor([1.0000, 1.5000])
    """
    if dtype is None:
        given = [v for v in (start, stop, step) if v is not None]
        dtype = result_type(*(getattr(v, "dtype", type(v)) for v in given))
    if stop is None:
        start, stop = 0, start
    return torch.arange(
        start,
        stop,
        1 if step is None else step,
        dtype=to_torch_dtype(dtype),
        device=default_device(),
    )


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Tensor | tuple[Tensor, Any]:
    """``num`` evenly spaced values from ``start`` to ``stop`` (excluded when ``endpoint`` is
    False); ``retstep=True`` also returns the spacing.

    Example:
        >>> linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    if axis != 0:
        raise ValueError(
            f"kseq's linspace supports scalar `start`/`stop` along axis 0 only. Received axis={axis}"
        )
    if dtype is None:
        dtype = result_type(
            getattr(start, "dtype", type(start)), getattr(stop, "dtype", type(stop)), float
        )
    divisions = (num - 1) if endpoint else num
    step = (stop - start) / divisions if divisions > 0 else float("nan")
    end = stop if endpoint else stop - step if num > 0 else stop
    out = torch.linspace(start, end, num, dtype=to_torch_dtype(dtype), device=default_device())
    return (out, step) if retstep else out


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:
    """An ``N x M`` matrix with ones on diagonal ``k`` and zeros elsewhere.

    Example:
        >>> eye(2, 3, k=1).tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    M = N if M is None else M
    out = torch.zeros((N, M), dtype=to_torch_dtype(dtype), device=default_device())
    out.diagonal(k).fill_(1)
    return out


def identity(n: int, dtype: Any = None) -> Tensor:
    """The ``n x n`` identity matrix.

    Example:
        >>> identity(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    return eye(n, dtype=dtype)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:
    """An ``N x M`` matrix with ones on and below diagonal ``k``.

    Example:
        >>> tri(2).tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    M = N if M is None else M
    ones_ = torch.ones((N, M), dtype=to_torch_dtype(dtype), device=default_device())
    return torch.tril(ones_, diagonal=k)


def diag(x: Any, k: int = 0) -> Tensor:
    """The diagonal ``k`` of a matrix, or a matrix with vector ``x`` on diagonal ``k``.

    Example:
        >>> diag(torch.tensor([1, 2])).tolist()
        [[1, 0], [0, 2]]
    """
    return torch.diag(convert_to_tensor(x), diagonal=k)
