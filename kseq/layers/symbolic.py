"""Calling a layer on symbolic tensors: build at once, infer the output, record a :class:`Node`.

``Layer.__call__`` sends a call whose first argument holds :class:`KerasTensor` s here
(:func:`symbolic_call`); real tensors never come here. The layer is built for the known input
shape(s) (a shape it cannot take raises ``ValueError`` naming both layers and shapes, as
``Sequential.add`` does), its output shape comes from ``compute_output_shape`` (or, for a layer
that does not define one, from running it once on a zero batch), and the call is recorded in
``layer._inbound_nodes``. A layer called twice keeps its weights: the second call only adds a node.

:func:`layer_input` / :func:`layer_output` are ``layer.input`` / ``layer.output``: the tensors of
the layer's first call, as in Keras.

Example:
    >>> from kseq.layers import Input, Dense
    >>> x = Input(shape=(4,))
    >>> dense = Dense(3)
    >>> y1, y2 = dense(x), dense(x)
    >>> y1.shape, len(dense._inbound_nodes), dense.output is y1, dense.input is x
    ((None, 3), 2, True, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from kseq.core.shapes import format_shape
from kseq.layers.node import KerasTensor, Node, flatten_tensors

if TYPE_CHECKING:
    from kseq.layers.layer import Layer

__all__ = ["is_symbolic", "layer_input", "layer_output", "symbolic_call", "inbound_nodes"]


def is_symbolic(x: Any) -> bool:
    """Whether a call argument holds symbolic tensors (a KerasTensor, or a list/dict of them).

    Example:
        >>> from kseq.layers import Input
        >>> is_symbolic([Input(shape=(2,))]), is_symbolic(3)
        (True, False)
    """
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(is_symbolic(v) for v in x)
    if isinstance(x, dict):
        return any(is_symbolic(v) for v in x.values())
    return False


def inbound_nodes(layer: Layer) -> list[Node]:
    """The layer's nodes, in call order (created on first use).

    Example:
        >>> from kseq.layers import Dense
        >>> inbound_nodes(Dense(1))
        []
    """
    nodes = layer.__dict__.get("_inbound_nodes")
    if nodes is None:
        nodes = []
        layer.__dict__["_inbound_nodes"] = nodes
    return nodes


def _shape_structure(inputs: Any) -> Any:
    if isinstance(inputs, KerasTensor):
        return inputs.shape
    if isinstance(inputs, dict):
        return {k: _shape_structure(v) for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)):
        return [_shape_structure(v) for v in inputs]
    raise ValueError(
        "A layer called on symbolic tensors takes KerasTensors (or a list / dict of them) as its "
        f"input; received {inputs!r} among them. Wrap constants in a layer instead."
    )


def _describe(tensor: KerasTensor) -> str:
    layer = tensor._keras_history.operation
    if layer is None or type(layer).__name__ == "InputLayer":
        return f'the model input "{tensor.name}", of shape {format_shape(tensor.shape)}'
    return (
        f'"{layer.name}" ({type(layer).__name__}), which outputs shape {format_shape(tensor.shape)}'
    )


def _defines_output_shape(layer: Layer) -> bool:
    """Whether the layer's class defines ``compute_output_shape`` below the base ``Layer``."""
    for cls in type(layer).__mro__:
        if "compute_output_shape" in cls.__dict__:
            return cls.__name__ != "Layer" or cls.__module__ != "kseq.layers.layer"
    return False


def _zero_batch(shape: Any, dtype: str, device: torch.device) -> Any:
    if isinstance(shape, list):
        return [_zero_batch(s, dtype, device) for s in shape]
    if isinstance(shape, dict):
        return {k: _zero_batch(v, dtype, device) for k, v in shape.items()}
    return torch.zeros((1, *shape[1:]), dtype=getattr(torch, dtype), device=device)


def _run_once(layer: Layer, inputs: Any, kwargs: dict[str, Any]) -> Any:
    """Output shapes and dtypes from one run on a zero batch (layers without compute_output_shape)."""
    shapes = _shape_structure(inputs)
    if any(d is None for s in _shape_leaves(shapes) for d in s[1:]):
        return None
    dtype = next(iter(flatten_tensors(inputs))).dtype
    device = next(iter(layer.parameters()), torch.zeros(())).device
    was_training = layer.training
    layer.eval()
    try:
        with torch.no_grad():
            out = layer(_zero_batch(shapes, dtype, device), **kwargs)
    finally:
        layer.train(was_training)
    return out


def _is_shape(shape: Any) -> bool:
    return isinstance(shape, (tuple, list)) and all(d is None or isinstance(d, int) for d in shape)


def _shape_leaves(shapes: Any) -> list[tuple[Any, ...]]:
    """The shapes in a shape structure (a shape, or a list / dict of them), in order."""
    if isinstance(shapes, dict):
        return [leaf for key in sorted(shapes) for leaf in _shape_leaves(shapes[key])]
    if _is_shape(shapes):
        return [tuple(shapes)]
    return [leaf for item in shapes for leaf in _shape_leaves(item)]


def _outputs_like(structure: Any, make: Any) -> Any:
    """Map output shapes (a shape, a list/tuple of shapes or a dict) to KerasTensors."""
    if isinstance(structure, dict):
        return {k: _outputs_like(v, make) for k, v in structure.items()}
    if _is_shape(structure) and not (
        isinstance(structure, list) and structure and all(d is None for d in structure)
    ):
        return make(tuple(structure))
    return [_outputs_like(s, make) for s in structure]


def symbolic_call(layer: Layer, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Build ``layer`` for symbolic ``args[0]``, record the call and return symbolic outputs.

    Example:
        >>> from kseq.layers import Input, Dense
        >>> symbolic_call(Dense(5), (Input(shape=(2,)),), {}).shape
        (None, 5)
    """
    inputs = args[0]
    if len(args) > 1 or any(is_symbolic(v) for v in kwargs.values()):
        raise NotImplementedError(
            f'Layer "{layer.name}" was called on symbolic tensors with extra tensor arguments; '
            "kseq's functional graphs pass tensors only as the first argument (a tensor, a list or "
            "a dict of tensors). Pass other options as Python values."
        )
    input_shape = _shape_structure(inputs)
    flat_inputs = flatten_tensors(inputs)
    try:
        if not layer.built:
            layer.build_from_shape(input_shape)
        else:
            layer._check_input(input_shape)
        if _defines_output_shape(layer):
            output_shape = layer.compute_output_shape(input_shape)
            dtype = layer.compute_dtype if flat_inputs[0].dtype.startswith("float") else None
            structure = _outputs_like(output_shape, lambda s: (s, dtype))
        else:
            out = _run_once(layer, inputs, kwargs)
            if out is None:  # unknown axes besides the batch: the probe tries two sizes
                dtype = layer.compute_dtype if flat_inputs[0].dtype.startswith("float") else None
                output_shape = layer.compute_output_shape(input_shape)
                structure = _outputs_like(output_shape, lambda s: (s, dtype))
            else:
                structure = _map_tensors(out)
    except (ValueError, TypeError) as exc:
        sources = ", and ".join(_describe(t) for t in flat_inputs)
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) cannot follow {sources}: {exc}'
        ) from None
    nodes = inbound_nodes(layer)
    node = Node(layer, inputs, kwargs)
    index = len(nodes)
    made: list[KerasTensor] = []
    fallback_dtype = flat_inputs[0].dtype

    def make(spec: tuple[Any, Any]) -> KerasTensor:
        shape, dtype = spec
        suffix = f"_{len(made)}" if len(made) else ""
        tensor = KerasTensor(
            (None, *shape[1:]) if shape else shape,
            dtype or fallback_dtype,
            layer,
            index,
            len(made),
            name=f"{layer.name}{suffix}" if index == 0 else f"{layer.name}_{index}{suffix}",
        )
        made.append(tensor)
        return tensor

    outputs = _build_outputs(structure, make)
    node.outputs = made
    node.output_structure = outputs
    nodes.append(node)
    return outputs


def _map_tensors(out: Any) -> Any:
    if isinstance(out, Tensor):
        return ("__spec__", tuple(out.shape), str(out.dtype).removeprefix("torch."))
    if isinstance(out, dict):
        return {k: _map_tensors(v) for k, v in out.items()}
    return [_map_tensors(v) for v in out]


def _build_outputs(structure: Any, make: Any) -> Any:
    if isinstance(structure, tuple) and len(structure) == 3 and structure[0] == "__spec__":
        return make((structure[1], structure[2]))
    if isinstance(structure, tuple) and len(structure) == 2 and _is_shape(structure[0]):
        return make(structure)
    if isinstance(structure, dict):
        return {k: _build_outputs(v, make) for k, v in structure.items()}
    return [_build_outputs(s, make) for s in structure]


def _node_attribute(layer: Layer, attr: str, name: str) -> Any:
    nodes = layer.__dict__.get("_inbound_nodes")
    if not nodes:
        raise AttributeError(
            f"The layer {layer.name} has never been called and thus has no defined {name}."
        )
    values = getattr(nodes[0], attr)
    if isinstance(values, list) and len(values) == 1:
        return values[0]
    return values


def layer_input(layer: Layer) -> Any:
    """``layer.input``: the input tensor(s) of the layer's first call."""
    return _node_attribute(layer, "input_tensors", "input")


def layer_output(layer: Layer) -> Any:
    """``layer.output``: the output tensor(s) of the layer's first call."""
    return _node_attribute(layer, "output_structure", "output")
