"""Tensor conversion, casts, shape/dtype helpers and control flow of ``kseq.ops`` (Keras's
``keras.ops`` core).

Conversion follows Keras's torch backend: Python ``int`` becomes ``int32``, ``float`` becomes
``floatx()``, NumPy arrays keep their dtype, lists take the promoted dtype of their items. New
tensors go to :func:`kseq.config.default_device` (CUDA when available, as Keras on torch does);
a tensor that already exists is never moved (Keras moves it to its default device; kseq leaves
placement to you and to ``fit``).

Example:
    >>> convert_to_tensor([1, 2]).dtype, convert_to_tensor(1.5).dtype, shape(torch.zeros(2, 3))
    (torch.int32, torch.float32, (2, 3))
"""

from __future__ import annotations

import builtins
import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kseq import config
from kseq.ops.dtypes import result_type, standardize_dtype, to_torch_dtype

__all__ = [
    "cast",
    "cond",
    "convert_to_numpy",
    "convert_to_tensor",
    "dtype",
    "fori_loop",
    "is_tensor",
    "ndim",
    "scatter",
    "scatter_update",
    "shape",
    "size",
    "slice",
    "slice_update",
    "stop_gradient",
    "unstack",
    "while_loop",
]

Scalar = (bool, int, float, complex)


def default_device() -> torch.device:
    """Where new tensors go: :func:`kseq.config.default_device`, looked up once per
    ``$KSEQ_DEVICE`` value (the lookup costs microseconds; ops run in training steps).

    Example:
        >>> default_device().type in ("cpu", "cuda", "mps")
        True
    """
    return _default_device(os.environ.get("KSEQ_DEVICE"))


@functools.lru_cache(maxsize=4)
def _default_device(_env: str | None) -> torch.device:
    return config.default_device()


def _python_scalar_dtype(x: bool | int | float | complex) -> torch.dtype:
    if isinstance(x, bool):
        return torch.bool
    if isinstance(x, int):
        return torch.int64 if not -(2**31) <= x < 2**31 else torch.int32
    if isinstance(x, float):
        return config.floatx_dtype()
    return torch.complex64


def convert_to_tensor(
    x: Any, dtype: Any = None, sparse: bool | None = None, ragged: bool | None = None
) -> Tensor:
    """A tensor from ``x`` (tensor, NumPy array, Python number or nested list), as Keras converts.

    Args:
        x: The value. Tensors keep their device; new tensors go to the default device.
        dtype: Keras dtype name (or torch/NumPy dtype) to cast to.
        sparse: Not supported on torch (``True`` raises).
        ragged: Not supported on torch (``True`` raises).

    Example:
        >>> convert_to_tensor(np.ones(2)).dtype, convert_to_tensor([1, 2.5]).dtype
        (torch.float64, torch.float32)
    """
    if sparse or ragged:
        raise ValueError(
            f"`{'sparse' if sparse else 'ragged'}=True` is not supported with the torch backend. "
            "Pass a dense array instead."
        )
    torch_dtype = None if dtype is None else to_torch_dtype(dtype)
    if isinstance(x, Tensor):
        return x if torch_dtype is None or x.dtype == torch_dtype else x.to(torch_dtype)
    device = default_device()
    if isinstance(x, Scalar):
        return torch.tensor(x, dtype=torch_dtype or _python_scalar_dtype(x), device=device)
    if isinstance(x, (list, tuple)):
        if any(isinstance(item, Tensor) for item in x):
            return torch.stack([convert_to_tensor(item, dtype) for item in x])
        if torch_dtype is None:
            torch_dtype = to_torch_dtype(
                result_type(*(getattr(v, "dtype", type(v)) for v in _leaves(x)))
            )
        return torch.tensor(x, dtype=torch_dtype, device=device)
    array = np.asarray(x)
    if array.dtype.kind not in "biufc":
        raise ValueError(
            f"Cannot convert {type(x).__name__} with dtype {array.dtype} to a tensor: only numbers "
            "and booleans can be."
        )
    if array.dtype == np.uint32:
        array = array.astype(np.int64)  # torch has no uint32 (Keras does the same)
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    return tensor.to(device=device, dtype=torch_dtype or tensor.dtype)


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


def as_tensor_like(x: Any, like: Tensor) -> Tensor:
    """``x`` as a tensor on ``like``'s device (Keras conversion rules); tensors are kept as given.

    Example:
        >>> as_tensor_like([1.0], torch.zeros(1)).device.type
        'cpu'
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Scalar):  # `full` is a kernel launch: no host-to-device copy
        return torch.full((), x, dtype=_python_scalar_dtype(x), device=like.device)
    return convert_to_tensor(x).to(like.device)


def operands(x1: Any, x2: Any, raw_scalars: bool = False) -> tuple[Any, Any]:
    """Two operands converted as Keras's torch backend converts them, on one device.

    A Python number next to a floating tensor is passed through as is (torch then keeps the
    tensor's dtype, exactly as with Keras's 0-d ``float32``/``int32`` conversion, without creating
    a tensor); next to an integer or boolean tensor it becomes a 0-d tensor of Keras's dtype
    (``int32``/``floatx``), so that ``bool + 1`` is ``int32`` and ``int32 + 1.5`` is ``float32``.
    ``raw_scalars=True`` always passes Python numbers through (ops where Keras does).

    Example:
        >>> a, b = operands(torch.ones(2, dtype=torch.bool), 1); b.dtype
        torch.int32
    """
    if isinstance(x1, Tensor) and isinstance(x2, Tensor):
        return x1, x2
    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        if raw_scalars and isinstance(x2, (int, float)) and not isinstance(x1, Scalar):
            return convert_to_tensor(x1), x2
        x1 = convert_to_tensor(x1)
    if isinstance(x1, Tensor):
        return x1, _operand(x2, x1, raw_scalars)
    return _operand(x1, x2, raw_scalars), x2


def _operand(x: Any, like: Tensor, raw_scalars: bool) -> Any:
    is_number = isinstance(x, (int, float)) and not isinstance(x, bool)
    if is_number and (raw_scalars or like.is_floating_point()):
        return x
    return as_tensor_like(x, like)


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a NumPy array (detached, copied to the host: a host sync for device tensors).

    Example:
        >>> convert_to_numpy(torch.ones(2, requires_grad=True))
        array([1., 1.], dtype=float32)
    """
    if isinstance(x, (list, tuple)):
        return np.array([convert_to_numpy(item) for item in x])
    if isinstance(x, Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()  # NumPy has no bfloat16
        return x.cpu().numpy()
    return np.asarray(x)


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (a :class:`kseq.Variable` is one).

    Example:
        >>> is_tensor(torch.zeros(1)), is_tensor(np.zeros(1))
        (True, False)
    """
    return isinstance(x, Tensor)


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype`` (a Keras dtype name such as ``"float32"`` or ``"int32"``).

    Example:
        >>> cast(torch.tensor([1.7, -1.7]), "int32")
        tensor([ 1, -1], dtype=torch.int32)
    """
    return convert_to_tensor(x, dtype=dtype)


def shape(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a tuple of ints.

    Example:
        >>> shape(np.zeros((2, 3)))
        (2, 3)
    """
    return tuple(int(d) for d in (x.shape if hasattr(x, "shape") else np.shape(x)))


def ndim(x: Any) -> int:
    """The rank of ``x``.

    Example:
        >>> ndim(torch.zeros(2, 3))
        2
    """
    return len(shape(x))


def size(x: Any) -> Tensor:
    """The number of elements of ``x``, as a 0-d ``int64`` tensor (as Keras returns it).

    Example:
        >>> size(torch.zeros(2, 3))
        tensor(6)
    """
    return torch.tensor(int(np.prod(shape(x))), dtype=torch.int64, device=default_device())


def dtype(x: Any) -> str:
    """The Keras dtype name of ``x`` (``keras.ops.dtype``).

    Example:
        >>> dtype(torch.zeros(1, dtype=torch.int64))
        'int64'
    """
    return standardize_dtype(x.dtype if hasattr(x, "dtype") else type(x))


def stop_gradient(x: Any) -> Tensor:
    """``x`` cut out of the autograd graph (``Tensor.detach``).

    Example:
        >>> stop_gradient(torch.ones(1, requires_grad=True)).requires_grad
        False
    """
    return convert_to_tensor(x).detach()


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()``. A tensor ``pred`` is read on the host (a sync).

    Example:
        >>> cond(torch.tensor(True), lambda: 1, lambda: 2)
        1
    """
    return true_fn() if bool(pred) else false_fn()  # host sync for a device `pred`


def fori_loop(lower: int, upper: int, body_fun: Callable[[int, Any], Any], init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns ``val``.

    Example:
        >>> fori_loop(0, 4, lambda i, v: v + i, 0)
        6
    """
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    maximum_iterations: int | None = None,
) -> Any:
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``; the loop variables become
    tensors, and the condition is read on the host each iteration (a sync for device tensors).

    Example:
        >>> while_loop(lambda i: i < 3, lambda i: i + 1, 0)
        tensor(3, dtype=torch.int32)
    """
    single = not isinstance(loop_vars, (list, tuple))
    state = tuple(convert_to_tensor(v) for v in ((loop_vars,) if single else loop_vars))
    steps = 0
    while bool(cond(*state)) and (maximum_iterations is None or steps < maximum_iterations):
        out = body(*state)
        state = (out,) if single else tuple(out)
        steps += 1
    return state[0] if single else type(loop_vars)(state)


def slice(inputs: Any, start_indices: Sequence[int], shape: Sequence[int]) -> Tensor:
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices``.

    Example:
        >>> slice(torch.arange(6).reshape(2, 3), (0, 1), (2, 2)).tolist()
        [[1, 2], [4, 5]]
    """
    inputs = convert_to_tensor(inputs)
    index = tuple(
        builtins.slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, shape, strict=True)
    )
    return inputs[index]


def slice_update(inputs: Any, start_indices: Sequence[int], updates: Any) -> Tensor:
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    Example:
        >>> slice_update(torch.zeros(4), (1,), torch.ones(2)).tolist()
        [0.0, 1.0, 1.0, 0.0]
    """
    inputs = convert_to_tensor(inputs)
    updates = as_tensor_like(updates, inputs)
    index = tuple(
        builtins.slice(int(s), int(s) + n)
        for s, n in zip(start_indices, updates.shape, strict=True)
    )
    out = inputs.clone()
    out[index] = updates.to(out.dtype)
    return out


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (duplicates accumulate).

    Example:
        >>> scatter([[1], [1], [3]], [1.0, 2.0, 5.0], (4,)).tolist()
        [0.0, 3.0, 0.0, 5.0]
    """
    values = convert_to_tensor(values)
    indices = as_tensor_like(indices, values).long()
    depth = indices.shape[-1]
    out = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    flat = indices.reshape(-1, depth)
    out.index_put_(tuple(flat.T), values.reshape(-1, *tuple(shape)[depth:]), accumulate=True)
    return out


def scatter_update(inputs: Any, indices: Any, updates: Any) -> Tensor:
    """A copy of ``inputs`` with the entries at ``indices`` set to ``updates``.

    Example:
        >>> scatter_update(torch.zeros(3), [[0], [2]], torch.tensor([1.0, 2.0])).tolist()
        [1.0, 0.0, 2.0]
    """
    inputs = convert_to_tensor(inputs)
    indices = as_tensor_like(indices, inputs).long()
    out = inputs.clone()
    out[tuple(indices.T)] = as_tensor_like(updates, inputs).to(out.dtype)
    return out


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[Tensor]:
    """The slices of ``x`` along ``axis``, as a list.

    Example:
        >>> [t.tolist() for t in unstack(torch.tensor([[1, 2], [3, 4]]))]
        [[1, 2], [3, 4]]
    """
    return list(torch.unbind(convert_to_tensor(x), dim=axis))
