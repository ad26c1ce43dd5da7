"""Ops and operators between layers in a functional graph: :class:`TensorOp`.

Keras code writes functional models with ops and Python operators as well as layers::

    inputs = keras.Input((None,), dtype="int32")
    mask = ops.not_equal(inputs, 0)
    x = layers.Embedding(1000, 16)(inputs)
    x = x + layers.Dense(16)(x)            # a residual
    outputs = ops.mean(x, axis=1) * 0.5

Each such call on symbolic tensors becomes a :class:`TensorOp` step: a weightless layer that holds
the op's name and its arguments with the symbolic tensors taken out (a template), is called on the
list of those tensors, and puts them back in to call the plain torch op when the model runs. Its
row in ``summary()`` reads like Keras's (``add (Add)``), its output shape is found by running the
op once, and its config names the op and its constant arguments (no code is stored: ops are found
by name in ``kseq.ops`` when a model is loaded).

Example:
    >>> import kseq
    >>> from kseq import ops
    >>> x = kseq.Input((3,))
    >>> y = ops.mean(x * 2, axis=-1)
    >>> y.shape, type(y._keras_history.operation).__name__, y._keras_history.operation.name
    ((None,), 'TensorOp', 'mean')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from kseq import ops
from kseq.core.naming import auto_name
from kseq.layers.layer import Layer
from kseq.layers.node import KerasTensor
from kseq.layers.shape_probe import probe_output_shape
from kseq.ops.symbolic_dispatch import register_symbolic_handler

__all__ = ["TensorOp", "get_item"]


def get_item(x: Any, key: Any) -> Any:
    """``x[key]`` (the op behind ``tensor[...]`` on a symbolic tensor).

    Example:
        >>> import torch
        >>> get_item(torch.arange(6).reshape(2, 3), (slice(None), 0)).tolist()
        [0, 3]
    """
    return x[key]


_OPERATOR_OPS: dict[str, Callable[..., Any]] = {"get_item": get_item}


def _op_function(name: str) -> Callable[..., Any]:
    fn = _OPERATOR_OPS.get(name) or getattr(ops, name, None)
    if fn is None or not callable(fn):
        raise ValueError(f"Unknown op '{name}' in a TensorOp config: kseq.ops has no such op.")
    return getattr(fn, "__wrapped_op__", fn)


class _Slot:
    """Where the ``index``-th symbolic tensor goes back into an op's arguments."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Const:
    """Where the ``index``-th constant tensor (a buffer of the op, so ``.to()`` moves it) goes."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _take(value: Any, kinds: Any, marker: Any, found: list[Any], convert: Any = None) -> Any:
    """``value`` with each leaf of type ``kinds`` moved to ``found`` (converted by ``convert``)
    and replaced by ``marker(its index)``; lists, tuples and dicts are walked."""
    if isinstance(value, kinds):
        found.append(value if convert is None else convert(value))
        return marker(len(found) - 1)
    if isinstance(value, (list, tuple)):
        return type(value)(_take(v, kinds, marker, found, convert) for v in value)
    if isinstance(value, dict):
        return {k: _take(v, kinds, marker, found, convert) for k, v in value.items()}
    return value


def _take_constants(value: Any, found: list[torch.Tensor]) -> Any:
    return _take(value, (torch.Tensor, np.ndarray), _Const, found, torch.as_tensor)


def _take_tensors(value: Any, found: list[KerasTensor]) -> Any:
    return _take(value, KerasTensor, _Slot, found)


def _put_tensors(template: Any, tensors: list[Any], constants: list[Any]) -> Any:
    if isinstance(template, _Slot):
        return tensors[template.index]
    if isinstance(template, _Const):
        return constants[template.index]
    if isinstance(template, (list, tuple)):
        return type(template)(_put_tensors(v, tensors, constants) for v in template)
    if isinstance(template, dict):
        return {k: _put_tensors(v, tensors, constants) for k, v in template.items()}
    return template


def _to_config(value: Any, constants: list[torch.Tensor] | None = None) -> Any:
    if isinstance(value, _Slot):
        return {"__tensor__": value.index}
    if isinstance(value, _Const):
        constant = (constants or [])[value.index]
        return {
            "__constant__": constant.detach().cpu().tolist(),
            "dtype": str(constant.dtype).removeprefix("torch."),
        }
    if isinstance(value, slice):
        return {"__slice__": [_to_config(value.start), _to_config(value.stop), value.step]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_to_config(v, constants) for v in value]}
    if isinstance(value, list):
        return [_to_config(v, constants) for v in value]
    if isinstance(value, dict):
        return {"__dict__": {str(k): _to_config(v, constants) for k, v in value.items()}}
    raise ValueError(
        f"An op called on symbolic tensors takes tensors and Python constants; received "
        f"{type(value).__name__} ({value!r}). Compute it inside a custom layer's `call` instead."
    )


def _from_config(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_config(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return _Slot(int(value["__tensor__"]))
    if "__constant__" in value:
        return torch.tensor(value["__constant__"], dtype=getattr(torch, str(value["dtype"])))
    if "__slice__" in value:
        start, stop, step = value["__slice__"]
        return slice(_from_config(start), _from_config(stop), step)
    if "__ellipsis__" in value:
        return Ellipsis
    if "__tuple__" in value:
        return tuple(_from_config(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _from_config(v) for k, v in value["__dict__"].items()}
    raise ValueError(f"Unrecognized TensorOp argument in a config: {value!r}")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


class TensorOp(Layer):
    """One ``kseq.ops`` call (or Python operator) on symbolic tensors, as a graph step.

    Built by calling an op on a :class:`~kseq.layers.node.KerasTensor`; not meant to be made by
    hand. ``inputs`` is the list of the call's tensors, in the order they appear in the arguments.

    Args:
        op: The op's name in ``kseq.ops`` (``"get_item"`` for indexing).
        arguments: The positional arguments, symbolic tensors replaced by slots.
        keyword_arguments: The keyword arguments, likewise.

    Example:
        >>> import torch
        >>> import kseq
        >>> x = kseq.Input((2,))
        >>> step = (x + 1.0)._keras_history.operation
        >>> step(([torch.ones(1, 2)])).tolist(), step.summary_type
        ([[2.0, 2.0]], 'Add')
    """

    def __init__(
        self,
        op: str,
        arguments: tuple[Any, ...] = (),
        keyword_arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", auto_name(op))
        super().__init__(**kwargs)
        self.op = op
        self._fn = _op_function(op)
        constants: list[torch.Tensor] = []
        self._arguments = _take_constants(tuple(arguments), constants)
        self._keyword_arguments = _take_constants(dict(keyword_arguments or {}), constants)
        for index, constant in enumerate(constants):
            self.register_buffer(f"constant_{index}", constant, persistent=False)
        self._n_constants = len(constants)
        self.summary_type = _camel(op)
        self._mark_built()

    def call(self, inputs: list[Any]) -> Any:
        tensors, constants = list(inputs), self._constants()
        args = _put_tensors(self._arguments, tensors, constants)
        kwargs = _put_tensors(self._keyword_arguments, tensors, constants)
        return self._fn(*args, **kwargs)

    def _constants(self) -> list[torch.Tensor]:
        return [getattr(self, f"constant_{i}") for i in range(self._n_constants)]

    def compute_output_shape(self, input_shape: Any) -> Any:
        return probe_output_shape(self, input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "op": self.op,
            "arguments": [_to_config(a, self._constants()) for a in self._arguments],
            "keyword_arguments": {
                k: _to_config(v, self._constants()) for k, v in self._keyword_arguments.items()
            },
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TensorOp:
        config = dict(config)
        config["arguments"] = tuple(_from_config(a) for a in config.get("arguments", []))
        config["keyword_arguments"] = {
            k: _from_config(v) for k, v in config.get("keyword_arguments", {}).items()
        }
        for key in ("trainable", "dtype"):
            config.pop(key, None)
        return cls(**config)


def symbolic_op(
    name: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Record ``fn(*args, **kwargs)`` on symbolic tensors as a :class:`TensorOp` step and return
    its symbolic output (the handler ``kseq.ops`` calls; see ``ops/symbolic_dispatch.py``).

    Example:
    >>> import kseq
    >>> from kseq import ops
    >>> x = kseq.Input((4,))
    >>> symbolic_op("sum", ops.sum, (x,), {"axis": -1}).shape
    (None,)
    """
    found: list[KerasTensor] = []
    arguments = _take_tensors(args, found)
    keyword_arguments = _take_tensors(kwargs, found)
    step = TensorOp(name, arguments, keyword_arguments)
    step.get_config()  # a constant it cannot save is refused now, not at save time
    return step(found)


register_symbolic_handler(symbolic_op)
