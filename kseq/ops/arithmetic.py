"""Element-wise binary ops of ``kseq.ops``: arithmetic, comparisons and logic (``keras.ops``).

Operands may be tensors, NumPy arrays or Python numbers; they are converted and promoted as
Keras's torch backend does (see :func:`kseq.ops.core.operands`), so ``int32 + 1.5`` is
``float32`` and ``maximum(int32, 0.5)`` follows Keras's promotion lattice.

Example:
    >>> add(torch.tensor([1, 2], dtype=torch.int32), 1.5)
    tensor([2.5000, 3.5000])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.ops._wrap import binary_op
from kseq.ops.core import as_tensor_like, convert_to_tensor, operands
from kseq.ops.dtypes import result_type, to_torch_dtype

__all__ = [
    "add",
    "arctan2",
    "divide",
    "divide_no_nan",
    "equal",
    "floor_divide",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logaddexp",
    "logical_and",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "mod",
    "multiply",
    "not_equal",
    "power",
    "subtract",
    "true_divide",
    "where",
]


def _keras_dtype_of(x: Any) -> Any:
    """What Keras's ``result_type`` sees for an operand (Python numbers are weak types)."""
    if isinstance(x, (bool, int, float)):
        return type(x)
    return getattr(x, "dtype", None) or convert_to_tensor(x).dtype


def _promoted(
    x1: Any, x2: Any, *extra: Any, weak_scalars: bool = True
) -> tuple[Tensor, Tensor, torch.dtype]:
    """Both operands cast to Keras's ``result_type`` of their dtypes (and of ``extra`` types).

    With ``weak_scalars`` Python numbers count as weak types (Keras's ``maximum``); otherwise they
    are converted first (``int32``/``floatx``) and count as such (Keras's ``arctan2``).
    """
    a, b = _tensors(x1, x2)
    if weak_scalars:
        dtype = to_torch_dtype(result_type(_keras_dtype_of(x1), _keras_dtype_of(x2), *extra))
    else:
        dtype = to_torch_dtype(result_type(a.dtype, b.dtype, *extra))
    return a.to(dtype), b.to(dtype), dtype


add = binary_op(torch.add, "add", "``x1 + x2``.", "add(torch.ones(2), 1)", "tensor([2., 2.])")  # fmt: skip


def subtract(x1: Any, x2: Any) -> Tensor:
    """``x1 - x2`` (a boolean operand takes the other's dtype, as in Keras).

    Example:
        >>> subtract(5, torch.tensor([1.0, 2.0]))
        tensor([4., 3.])
    """
    a, b = operands(x1, x2)
    if isinstance(a, Tensor) and a.dtype == torch.bool:
        a = a.to(b.dtype if isinstance(b, Tensor) else torch.int32)
    if isinstance(b, Tensor) and b.dtype == torch.bool:
        b = b.to(a.dtype)
    return torch.subtract(a, b)


multiply = binary_op(torch.multiply, "multiply", "``x1 * x2``.", "multiply(torch.tensor([1.0, 2.0]), 3)", "tensor([3., 6.])")  # fmt: skip


divide = binary_op(torch.divide, "divide", "True division ``x1 / x2`` (integers give floats).", "divide(torch.tensor([1, 2], dtype=torch.int32), 2)", "tensor([0.5000, 1.0000])", raw_scalars=True)  # fmt: skip


true_divide = binary_op(torch.divide, "true_divide", "Alias of :func:`divide`.", "true_divide(1.0, torch.tensor([4.0]))", "tensor([0.2500])", raw_scalars=True)  # fmt: skip


def floor_divide(x1: Any, x2: Any) -> Tensor:
    """``x1 // x2`` in Keras's promoted dtype.

    Example:
        >>> floor_divide(torch.tensor([7, -7], dtype=torch.int32), 2)
        tensor([ 3, -4], dtype=torch.int32)
    """
    dtype = to_torch_dtype(result_type(_keras_dtype_of(x1), _keras_dtype_of(x2)))
    return torch.floor_divide(*operands(x1, x2, raw_scalars=True)).to(dtype)


def divide_no_nan(x1: Any, x2: Any) -> Tensor:
    """``x1 / x2``, with 0 where ``x2 == 0``.

    Example:
        >>> divide_no_nan(torch.tensor([1.0, 1.0]), torch.tensor([2.0, 0.0]))
        tensor([0.5000, 0.0000])
    """
    a, b, _ = _promoted(x1, x2, float)
    zero = b == 0
    return torch.where(zero, torch.zeros_like(a), a / torch.where(zero, torch.ones_like(b), b))


def mod(x1: Any, x2: Any) -> Tensor:
    """Remainder with the sign of the divisor (NumPy's ``mod``).

    Example:
        >>> mod(torch.tensor([5, -5], dtype=torch.int32), 3)
        tensor([2, 1], dtype=torch.int32)
    """
    a, b = operands(x1, x2)
    if isinstance(a, Tensor) and a.dtype == torch.bool:
        a = a.to(torch.int32)
    if isinstance(b, Tensor) and b.dtype == torch.bool:
        b = b.to(torch.int32)
    return torch.remainder(a, b)


power = binary_op(torch.pow, "power", "``x1 ** x2``.", "power(torch.tensor([2, 3], dtype=torch.int32), 2)", "tensor([4, 9], dtype=torch.int32)")  # fmt: skip


def maximum(x1: Any, x2: Any) -> Tensor:
    """Element-wise maximum, in Keras's promoted dtype.

    Example:
        >>> maximum(torch.tensor([1, 5], dtype=torch.int32), 2)
        tensor([2, 5], dtype=torch.int32)
    """
    a, b, _ = _promoted(x1, x2)
    return torch.maximum(a, b)


def minimum(x1: Any, x2: Any) -> Tensor:
    """Element-wise minimum, in Keras's promoted dtype.

    Example:
        >>> minimum(torch.tensor([1.0, 5.0]), 2)
        tensor([1., 2.])
    """
    a, b, _ = _promoted(x1, x2)
    return torch.minimum(a, b)


def arctan2(x1: Any, x2: Any) -> Tensor:
    """Element-wise ``arctan(x1 / x2)`` in the correct quadrant.

    Example:
        >>> arctan2(torch.tensor([1.0]), torch.tensor([1.0]))
        tensor([0.7854])
    """
    a, b, _ = _promoted(x1, x2, float, weak_scalars=False)
    return torch.arctan2(a, b)


def logaddexp(x1: Any, x2: Any) -> Tensor:
    """``log(exp(x1) + exp(x2))``, computed stably.

    Example:
        >>> logaddexp(torch.tensor([0.0]), torch.tensor([0.0]))
        tensor([0.6931])
    """
    a, b, _ = _promoted(x1, x2, float, weak_scalars=False)
    return torch.logaddexp(a, b)


equal = binary_op(torch.eq, "equal", "``x1 == x2``.", "equal(torch.tensor([1, 2]), 2)", "tensor([False,  True])", raw_scalars=True)  # fmt: skip


not_equal = binary_op(torch.ne, "not_equal", "``x1 != x2``.", "not_equal(torch.tensor([1, 2]), 2)", "tensor([ True, False])", raw_scalars=True)  # fmt: skip


greater = binary_op(torch.gt, "greater", "``x1 > x2``.", "greater(torch.tensor([1.0, 3.0]), 2)", "tensor([False,  True])", raw_scalars=True)  # fmt: skip


greater_equal = binary_op(torch.ge, "greater_equal", "``x1 >= x2``.", "greater_equal(torch.tensor([1.0, 2.0]), 2)", "tensor([False,  True])", raw_scalars=True)  # fmt: skip


less = binary_op(torch.lt, "less", "``x1 < x2``.", "less(torch.tensor([1.0, 3.0]), 2)", "tensor([ True, False])", raw_scalars=True)  # fmt: skip


less_equal = binary_op(torch.le, "less_equal", "``x1 <= x2``.", "less_equal(torch.tensor([2.0, 3.0]), 2)", "tensor([ True, False])", raw_scalars=True)  # fmt: skip


def logical_and(x1: Any, x2: Any) -> Tensor:
    """Element-wise logical AND (non-zero is true).

    Example:
        >>> logical_and(torch.tensor([True, True]), torch.tensor([1, 0]))
        tensor([ True, False])
    """
    return torch.logical_and(*_tensors(x1, x2))


def logical_or(x1: Any, x2: Any) -> Tensor:
    """Element-wise logical OR.

    Example:
        >>> logical_or(torch.tensor([True, False]), False)
        tensor([ True, False])
    """
    return torch.logical_or(*_tensors(x1, x2))


def logical_xor(x1: Any, x2: Any) -> Tensor:
    """Element-wise logical XOR.

    Example:
        >>> logical_xor(torch.tensor([True, False]), True)
        tensor([False,  True])
    """
    return torch.logical_xor(*_tensors(x1, x2))


def _tensors(x1: Any, x2: Any) -> tuple[Tensor, Tensor]:
    """Both operands as tensors on one device (Python numbers as Keras's 0-d tensors)."""
    a, b = operands(x1, x2)
    a = a if isinstance(a, Tensor) else as_tensor_like(a, b)
    return a, as_tensor_like(b, a)


def where(condition: Any, x1: Any = None, x2: Any = None) -> Tensor:
    """``x1`` where ``condition`` holds, else ``x2``; with only ``condition``, the indices of its
    true entries as a ``(ndim, n)`` tensor (a host sync: the size depends on the data).

    Example:
        >>> where(torch.tensor([True, False]), 1.0, 0.0)
        tensor([1., 0.])
    """
    condition = convert_to_tensor(condition, dtype="bool")
    if (x1 is None) != (x2 is None):
        raise ValueError(
            "`x1` and `x2` must be either both given or both `None`. Received: "
            f"x1={'None' if x1 is None else '...'}, x2={'None' if x2 is None else '...'}"
        )
    if x1 is None:
        return torch.stack(torch.where(condition), dim=0)
    return torch.where(condition, as_tensor_like(x1, condition), as_tensor_like(x2, condition))
