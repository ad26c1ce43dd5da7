"""``kseq.Variable``: Keras's variable API on a ``torch.nn.Parameter``.

A Keras layer keeps its state in variables (``self.w = self.add_weight(...)``) and updates
non-trainable state in place (``self.total.assign_add(...)``); a Keras metric does the same with
``add_variable``. A variable created on its own goes to the default device (CUDA when available,
as in Keras); one created by ``add_weight`` starts on the CPU and moves with its layer. In kseq such a variable **is** an ``nn.Parameter`` (a subclass with Keras's
methods), so a layer that holds it is an ordinary ``nn.Module``: the variable is in
``parameters()``/``state_dict()`` (or in ``buffers()`` for metric state), moves with ``.to()``,
trains with any torch optimizer and works under ``torch.compile``. Arithmetic on a variable gives
plain tensors.

Keras's methods:

* ``assign(value)`` / ``assign_add(value)`` / ``assign_sub(value)``: in-place updates under
  ``torch.no_grad()`` (no host sync, not recorded by autograd, as Keras's torch backend does);
  ``value`` may be a tensor, a NumPy array or a Python number; they return the variable;
* ``value`` (the tensor itself: ``v.value.grad`` works), ``numpy()``, ``name``, ``path``,
  ``trainable``.

Differences from Keras: ``dtype`` is the torch dtype (``torch.float32``), as everywhere on the
torch face of kseq; use ``kseq.ops.dtype(v)`` for Keras's string.

Example:
    >>> v = Variable(initializer="zeros", shape=(2,), trainable=False, name="total")
    >>> _ = v.assign_add([1.0, 2.0]); _ = v.assign_sub(1.0); v.numpy()
    array([0., 1.], dtype=float32)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from kseq import initializers
from kseq.core.naming import auto_name
from kseq.ops.core import convert_to_tensor, default_device
from kseq.ops.dtypes import to_torch_dtype

__all__ = ["Variable"]


class Variable(nn.Parameter):
    """A Keras variable: an ``nn.Parameter`` with ``assign``/``assign_add``/``assign_sub``.

    Args:
        initializer: Initial value (tensor, array, number) or an initializer (name, object or
            callable taking ``(shape, dtype)``), which then needs ``shape``.
        shape: The variable's shape (required with an initializer).
        dtype: Keras dtype name or torch dtype; default ``floatx()`` for an initializer, the
            value's dtype for a value (Python floats are ``floatx()``).
        trainable: Whether optimizers update it (``requires_grad``).
        autocast: Accepted for Keras compatibility (torch autocast decides compute dtypes).
        aggregation: Accepted for Keras compatibility (how replicas combine it).
        synchronization: Accepted for Keras compatibility.
        name: Keras name (``variable``, ``variable_1``... when omitted).

    Example:
        >>> w = Variable(initializer="ones", shape=(2, 2), name="w")
        >>> isinstance(w, torch.nn.Parameter), w.requires_grad, w.name
        (True, True, 'w')
    """

    def __new__(
        cls,
        initializer: Any = None,
        shape: Sequence[int] | None = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        aggregation: str = "none",
        synchronization: str = "auto",
        name: str | None = None,
    ) -> Variable:
        if isinstance(initializer, Tensor) and isinstance(shape, bool):
            # ``type(p)(data, requires_grad)``: how torch utilities (``copy.deepcopy``,
            # ``nn.Module._apply`` under ``swap_module_params_on_conversion``) rebuild parameters.
            return cls._make(initializer, trainable=shape, name=name)
        value = _initial_value(initializer, shape, dtype)
        return cls._make(value, trainable=trainable, name=name, aggregation=aggregation)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Everything happens in ``__new__`` (tensor subclasses are built there).
        pass

    @classmethod
    def _make(
        cls,
        data: Tensor,
        trainable: bool = True,
        name: str | None = None,
        path: str | None = None,
        aggregation: str = "none",
    ) -> Variable:
        """Wrap ``data`` (not copied) as a variable; non-floating data is never trainable."""
        trainable = bool(trainable) and (data.is_floating_point() or data.is_complex())
        var = torch.Tensor._make_subclass(cls, data.detach(), trainable)
        var._keras_name = name or auto_name("Variable")
        var.path = path or var._keras_name
        var.aggregation = aggregation
        if not trainable:
            var._kseq_non_trainable = True
        return var

    @classmethod
    def _adopt(cls, param: nn.Parameter, name: str, path: str) -> Variable:
        """Turn an existing ``nn.Parameter`` (e.g. ``nn.Linear.weight``) into a variable, in place:
        same object, same storage, same autograd identity; only the class and Keras names change."""
        param.__class__ = cls
        param._kseq_adopted = True  # a torch-created parameter (its Keras name is its path)
        param._keras_name = name
        param.path = path
        return param  # type: ignore[return-value]

    # ---------------------------------------------------------------- Keras face
    @property  # type: ignore[override]
    def name(self) -> str:
        """The Keras name (``"kernel"``); :attr:`path` adds the owner (``"dense/kernel"``)."""
        return self.__dict__.get("_keras_name", "variable")

    @name.setter
    def name(self, value: str) -> None:
        self._keras_name = value

    @property
    def value(self) -> Variable:
        """The variable's tensor (the variable itself: ``v.value.grad`` is its gradient)."""
        return self

    @property
    def trainable(self) -> bool:
        """Whether optimizers update this variable (False too once its layer is frozen)."""
        return self.requires_grad and not getattr(self, "_kseq_non_trainable", False)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._kseq_non_trainable = not value
        self.requires_grad_(bool(value))

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The value as a NumPy array (a copy on the host: a sync for device variables)."""
        return self.detach().cpu().numpy().copy()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def assign(self, value: Any) -> Variable:
        """Set the value in place (shapes must match, as in Keras).

        Example:
            >>> v = Variable(initializer="zeros", shape=(2,)); v.assign([3.0, 4.0]).tolist()
            [3.0, 4.0]
        """
        with torch.no_grad():
            if isinstance(value, (bool, int, float)) and self.ndim == 0:
                self.fill_(value)
                return self
            new = _tensor_like(value, self)
            if tuple(new.shape) != tuple(self.shape):
                raise ValueError(
                    "The shape of the target variable and the shape of the target value in "
                    f"`variable.assign(value)` must match. variable.shape={tuple(self.shape)}, "
                    f"Received: value.shape={tuple(new.shape)}. Target variable: {self!r}"
                )
            self.copy_(new)
        return self

    def assign_add(self, value: Any) -> Variable:
        """Add ``value`` in place (broadcast to the variable's shape).

        Example:
            >>> v = Variable(initializer="ones", shape=(2,)); v.assign_add(1.0).tolist()
            [2.0, 2.0]
        """
        return self._update(torch.Tensor.add_, value, "assign_add")

    def assign_sub(self, value: Any) -> Variable:
        """Subtract ``value`` in place (broadcast to the variable's shape).

        Example:
            >>> v = Variable(initializer="ones", shape=(2,)); v.assign_sub([1.0, 2.0]).tolist()
            [0.0, -1.0]
        """
        return self._update(torch.Tensor.sub_, value, "assign_sub")

    def _update(self, op: Any, value: Any, what: str) -> Variable:
        with torch.no_grad():
            operand = value if isinstance(value, (bool, int, float)) else _tensor_like(value, self)
            try:
                op(self, operand)
            except RuntimeError as error:
                shape = (
                    tuple(np.shape(operand))
                    if not isinstance(operand, Tensor)
                    else tuple(operand.shape)
                )
                raise ValueError(
                    f"Cannot {what} a value of shape {shape} to variable '{self.name}' of shape "
                    f"{tuple(self.shape)}: the value must broadcast to the variable's shape. "
                    f"({error})"
                ) from None
        return self

    # ------------------------------------------------------------- torch plumbing
    def __repr__(self) -> str:
        value = np.array2string(self.numpy()) if self.device.type != "meta" else "?"
        dtype = str(self.dtype).removeprefix("torch.")
        return (
            f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={dtype}, value={value}>"
        )

    def _rewrap(self, data: Tensor) -> Variable:
        """A variable with this one's Keras identity (name, path, flags) over ``data`` (used when
        torch hands back a plain tensor, e.g. a moved metric buffer)."""
        return _rebuild_variable(data, self.requires_grad, self.__dict__)

    def __deepcopy__(self, memo: dict[int, Any]) -> Variable:
        if id(self) in memo:
            return memo[id(self)]
        data = self.detach().clone(memory_format=torch.preserve_format)
        result = _rebuild_variable(data, self.requires_grad, copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild_variable, (self.detach().clone(), self.requires_grad, dict(self.__dict__)))


def _rebuild_variable(data: Tensor, requires_grad: bool, state: dict[str, Any]) -> Variable:
    """A :class:`Variable` over ``data`` with the given attributes (unpickling, copies, moves)."""
    var = Variable._make(data, trainable=requires_grad)
    var.__dict__.update(state)
    return var


def _tensor_like(value: Any, like: Tensor) -> Tensor:
    """``value`` as a tensor of ``like``'s dtype on ``like``'s device (no copy when it already is)."""
    if isinstance(value, Tensor):
        return value.to(device=like.device, dtype=like.dtype, non_blocking=True)
    return torch.as_tensor(np.asarray(value), dtype=like.dtype).to(like.device, non_blocking=True)


def _initial_value(initializer: Any, shape: Sequence[int] | None, dtype: Any) -> Tensor:
    """The first value of a variable: a given value, or an initializer drawn for ``shape``."""
    is_value = isinstance(initializer, (Tensor, np.ndarray, list, tuple, bool, int, float))
    if initializer is None or (not is_value and shape is None):
        raise ValueError(
            "A variable needs an initial value, or an initializer and a `shape`. Received: "
            f"initializer={initializer!r}, shape={shape!r}. Write e.g. "
            "Variable(initializer='zeros', shape=(3,)) or Variable(np.zeros(3))."
        )
    if is_value:
        value = convert_to_tensor(initializer, dtype=dtype).detach().clone()
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(
                f"Initial value of shape {tuple(value.shape)} does not match `shape={tuple(shape)}`."
            )
        return value
    torch_dtype = to_torch_dtype(dtype)
    value = initializers.get(initializer)(tuple(shape), dtype=torch_dtype)
    return torch.as_tensor(value, dtype=torch_dtype).to(default_device())
