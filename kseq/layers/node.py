"""Symbolic tensors and the call history of a graph: :class:`KerasTensor` and :class:`Node`.

A :class:`KerasTensor` is what ``kseq.Input`` returns and what a layer called on symbolic tensors
returns: a shape (batch dim included, ``None`` when unknown), a dtype name and its Keras history
``(layer, node_index, tensor_index)``. A :class:`Node` records one such call: the layer, the
inbound tensors (in the structure the layer was called with), the other call arguments and the
output tensors. ``layer._inbound_nodes`` lists a layer's nodes in call order, as in Keras, so a
graph can be traced back from its outputs (``kseq.models.functional``).

Example:
    >>> from kseq.layers import Input, Dense
    >>> x = Input(shape=(3,), name="features")
    >>> y = Dense(2, name="head")(x)
    >>> layer, node_index, tensor_index = y._keras_history
    >>> layer.name, node_index, tensor_index, y.shape
    ('head', 0, 0, (None, 2))
    >>> layer._inbound_nodes[0].input_tensors[0] is x
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from kseq.core.shapes import Shape
from kseq.ops.symbolic_dispatch import dispatch

if TYPE_CHECKING:
    from kseq.layers.layer import Layer

__all__ = [
    "KerasHistory",
    "KerasTensor",
    "Node",
    "flatten_tensors",
    "get_source_inputs",
    "is_keras_tensor",
]


class KerasHistory(NamedTuple):
    """Where a symbolic tensor comes from: ``(layer, node_index, tensor_index)``."""

    operation: Any
    node_index: int
    tensor_index: int


class KerasTensor:
    """A symbolic tensor: a shape (batch dim included), a dtype name and the call that made it.

    Example:
        >>> from kseq.layers import Input
        >>> t = Input(shape=(3,), batch_size=8)
        >>> t.shape, t.ndim, t.dtype
        ((8, 3), 2, 'float32')
    """

    def __init__(
        self,
        shape: Shape,
        dtype: str,
        layer: Layer | None = None,
        node_index: int = 0,
        tensor_index: int = 0,
        name: str | None = None,
    ) -> None:
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name or (layer.name if layer is not None else "keras_tensor")
        self._keras_history = KerasHistory(layer, node_index, tensor_index)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("A KerasTensor is symbolic and cannot be called.")

    # Python operators record graph steps, as Keras's KerasTensor does (ops/symbolic_dispatch.py).
    def __add__(self, other: Any) -> Any:
        return dispatch("add", (self, other))

    def __radd__(self, other: Any) -> Any:
        return dispatch("add", (other, self))

    def __sub__(self, other: Any) -> Any:
        return dispatch("subtract", (self, other))

    def __rsub__(self, other: Any) -> Any:
        return dispatch("subtract", (other, self))

    def __mul__(self, other: Any) -> Any:
        return dispatch("multiply", (self, other))

    def __rmul__(self, other: Any) -> Any:
        return dispatch("multiply", (other, self))

    def __matmul__(self, other: Any) -> Any:
        return dispatch("matmul", (self, other))

    def __rmatmul__(self, other: Any) -> Any:
        return dispatch("matmul", (other, self))

    def __truediv__(self, other: Any) -> Any:
        return dispatch("true_divide", (self, other))

    def __rtruediv__(self, other: Any) -> Any:
        return dispatch("true_divide", (other, self))

    def __floordiv__(self, other: Any) -> Any:
        return dispatch("floor_divide", (self, other))

    def __rfloordiv__(self, other: Any) -> Any:
        return dispatch("floor_divide", (other, self))

    def __mod__(self, other: Any) -> Any:
        return dispatch("mod", (self, other))

    def __rmod__(self, other: Any) -> Any:
        return dispatch("mod", (other, self))

    def __pow__(self, other: Any) -> Any:
        return dispatch("power", (self, other))

    def __rpow__(self, other: Any) -> Any:
        return dispatch("power", (other, self))

    def __neg__(self) -> Any:
        return dispatch("negative", (self,))

    def __abs__(self) -> Any:
        return dispatch("absolute", (self,))

    def __lt__(self, other: Any) -> Any:
        return dispatch("less", (self, other))

    def __le__(self, other: Any) -> Any:
        return dispatch("less_equal", (self, other))

    def __gt__(self, other: Any) -> Any:
        return dispatch("greater", (self, other))

    def __ge__(self, other: Any) -> Any:
        return dispatch("greater_equal", (self, other))

    def __ne__(self, other: Any) -> Any:  # (no __eq__: tensors stay hashable, as in Keras)
        return dispatch("not_equal", (self, other))

    def __and__(self, other: Any) -> Any:
        return dispatch("logical_and", (self, other))

    def __rand__(self, other: Any) -> Any:
        return dispatch("logical_and", (other, self))

    def __or__(self, other: Any) -> Any:
        return dispatch("logical_or", (self, other))

    def __ror__(self, other: Any) -> Any:
        return dispatch("logical_or", (other, self))

    def __xor__(self, other: Any) -> Any:
        return dispatch("logical_xor", (self, other))

    def __rxor__(self, other: Any) -> Any:
        return dispatch("logical_xor", (other, self))

    def __invert__(self) -> Any:
        return dispatch("logical_not", (self,))

    def __getitem__(self, key: Any) -> Any:
        return dispatch("get_item", (self, key))

    def __iter__(self) -> Any:
        raise NotImplementedError(
            "Iterating over a symbolic tensor is not supported (its batch size is unknown). "
            "Index it (`x[:, 0]`) or use `ops.unstack(x, num=..., axis=...)` with a known axis."
        )

    def __bool__(self) -> bool:
        raise TypeError("A symbolic KerasTensor cannot be used as a Python boolean.")

    def numpy(self) -> Any:
        raise ValueError(
            "A KerasTensor is symbolic: it has no value. Build a `Model(inputs, outputs)` and call "
            "it on data, or use `model.predict(x)`."
        )


def flatten_tensors(structure: Any) -> list[Any]:
    """The leaves of a tensor structure (a tensor, or a list / tuple / dict of them), in order.

    Example:
        >>> flatten_tensors({"b": 2, "a": [1, (3,)]})
        [1, 3, 2]
    """
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten_tensors(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten_tensors(item)]
    return [structure]


class Node:
    """One call of ``layer`` on symbolic tensors (Keras's ``Node``).

    Args:
        layer: The layer that was called.
        call_inputs: The first call argument as given (a tensor, a list or a dict of tensors).
        call_kwargs: The other keyword arguments (no tensors), e.g. ``{"training": False}``.
        outputs: The output tensors, flat.
        is_input: Whether this is an ``InputLayer``'s own node (no inbound tensors).

    Example:
        >>> from kseq.layers import Input
        >>> x = Input(shape=(2,))
        >>> node = x._keras_history.operation._inbound_nodes[0]
        >>> node.is_input, node.outputs[0] is x
        (True, True)
    """

    def __init__(
        self,
        layer: Layer,
        call_inputs: Any = None,
        call_kwargs: dict[str, Any] | None = None,
        outputs: list[KerasTensor] | None = None,
        is_input: bool = False,
    ) -> None:
        self.operation = layer
        self.call_inputs = call_inputs
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs: list[KerasTensor] = list(outputs or [])
        self.output_structure: Any = None
        self.is_input = is_input
        self.input_tensors: list[KerasTensor] = (
            [] if is_input else [t for t in flatten_tensors(call_inputs)]
        )

    @property
    def layer(self) -> Layer:
        return self.operation

    @property
    def parent_nodes(self) -> list[Node]:
        """The nodes that made this node's input tensors."""
        parents = []
        for tensor in self.input_tensors:
            layer, node_index, _ = tensor._keras_history
            if layer is not None:
                parents.append(layer._inbound_nodes[node_index])
        return parents

    def __repr__(self) -> str:
        return f"<Node layer={self.operation.name!r} inputs={len(self.input_tensors)}>"


def is_keras_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic :class:`KerasTensor` (Keras's ``keras.utils.is_keras_tensor``).

    Example:
        >>> import torch
        >>> from kseq.layers import Input
        >>> is_keras_tensor(Input(shape=(2,))), is_keras_tensor(torch.zeros(2))
        (True, False)
    """
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor: Any) -> list[Any]:
    """The model inputs (``Input`` tensors) that ``tensor`` was computed from, in first-seen order
    (Keras's ``keras.utils.get_source_inputs``).

    Example:
        >>> from kseq.layers import Input, Dense, concatenate
        >>> a, b = Input(shape=(2,), name="a"), Input(shape=(3,), name="b")
        >>> [t.name for t in get_source_inputs(Dense(1)(concatenate([a, b])))]
        ['a', 'b']
    """
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return [tensor]
    layer, node_index, _ = history
    nodes = getattr(layer, "_inbound_nodes", None) if layer is not None else None
    if not nodes:
        return [tensor]
    node = nodes[node_index]
    if node.is_input:
        return list(node.outputs)
    sources: list[Any] = []
    for inbound in node.input_tensors:
        for source in get_source_inputs(inbound):
            if all(source is not seen for seen in sources):
                sources.append(source)
    return sources
