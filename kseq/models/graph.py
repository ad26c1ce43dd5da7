"""Tracing a functional graph: from output tensors back to the inputs, in Keras's order.

:func:`map_graph` walks the Keras history of the outputs once (depth first, as Keras's
``ops.function.map_graph``), checks the graph (every tensor reachable from the inputs, no input
given twice, unique layer names) and returns the nodes to run (inputs first) and the layers in
Keras's ``model.layers`` order (by decreasing depth, then by first traversal).

Example:
    >>> from kseq.layers import Input, Dense
    >>> x = Input(shape=(2,), name="x")
    >>> y = Dense(1, name="y")(Dense(3, name="h")(x))
    >>> nodes, layers, by_depth = map_graph([x], [y])
    >>> [layer.name for layer in layers], len(nodes)
    (['x', 'h', 'y'], 2)
"""

from __future__ import annotations

from typing import Any

from kseq.layers.node import KerasTensor, Node

__all__ = ["map_graph"]


def _build_map(
    inputs: list[KerasTensor], outputs: list[KerasTensor]
) -> tuple[list[Node], dict[Any, int]]:
    finished: set[int] = set()
    in_progress: set[int] = set()
    ordered: list[Node] = []
    indices: dict[Any, int] = {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor: KerasTensor) -> None:
        layer, node_index, _ = tensor._keras_history
        if layer is None:
            return
        node = layer._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if not node.is_input and id(tensor) in input_ids:
            finished.add(id(node))
            return
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor} from layer '{layer.name}' is part of a cycle.")
        indices.setdefault(layer, len(indices))
        in_progress.add(id(node))
        if not node.is_input:
            for parent in node.input_tensors:
                visit(parent)
        finished.add(id(node))
        in_progress.discard(id(node))
        ordered.append(node)

    for output in outputs:
        visit(output)
    return ordered, indices


def map_graph(
    inputs: list[KerasTensor], outputs: list[KerasTensor]
) -> tuple[list[Node], list[Any]]:
    """The nodes to run (inputs first), the layers in Keras's order and the nodes (input nodes too)
    by decreasing depth; ``ValueError`` on a bad graph.

    Example:
        >>> from kseq.layers import Input, Dense
        >>> a, b = Input(shape=(2,)), Input(shape=(2,))
        >>> map_graph([a], [Dense(1)(b)])
        Traceback (most recent call last):
        ...
        ValueError: Graph disconnected: ...
    """
    seen: set[int] = set()
    for tensor in inputs:
        if id(tensor) in seen:
            raise ValueError(
                f"The input {tensor} is passed twice in `inputs`. Each input tensor of a model must "
                "be listed once: pass each `Input(...)` a single time."
            )
        seen.add(id(tensor))
    ordered, indices = _build_map(inputs, outputs)
    node_ids = {id(n) for n in ordered}
    depths: dict[int, int] = {}
    layer_depths: dict[Any, int] = {}
    for node in reversed(ordered):
        depth = depths.setdefault(id(node), 0)
        depth = max(depth, layer_depths.get(node.operation, 0))
        layer_depths[node.operation] = depth
        depths[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in node_ids:
                depths[id(parent)] = max(depth + 1, depths.get(id(parent), 0))
    for tensor in inputs:  # unused inputs are still model inputs
        layer = tensor._keras_history.operation
        node = layer._inbound_nodes[tensor._keras_history.node_index]
        if node.is_input and layer not in layer_depths:
            layer_depths[layer] = 0
            indices[layer] = -1
    layers = sorted(layer_depths, key=lambda lyr: (-layer_depths[lyr], indices[lyr]))
    nodes = sorted(ordered, key=lambda n: -depths[id(n)])  # stable: DFS order within a depth
    computable = {id(t) for t in inputs}
    reached: list[str] = []
    for node in nodes:
        if node.is_input and not any(id(t) in computable for t in node.outputs):
            raise ValueError(
                f"Graph disconnected: cannot find parent for tensor {node.outputs[0]} at layer "
                f"'{node.operation.name}'. The model's outputs depend on an input that is not in "
                f"`inputs`; received inputs={[t.name for t in inputs]}. Pass every `Input` the "
                f"outputs are computed from. Layers reached without issue: {reached}"
            )
        for tensor in node.input_tensors:
            if id(tensor) not in computable:
                raise ValueError(
                    f"Graph disconnected: cannot find parent for tensor {tensor} at layer "
                    f"'{node.operation.name}'. Layers reached without issue: {reached}"
                )
        reached.append(node.operation.name)
        computable.update(id(t) for t in node.outputs)
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(
                f'The name "{name}" is used {names.count(name)} times in the model. All layer '
                "names should be unique: pass a different `name=` to one of them."
            )
    by_depth: dict[int, list[Node]] = {}
    for node in nodes:
        by_depth.setdefault(depths.get(id(node), 0), []).append(node)
    for tensor in inputs:
        node = tensor._keras_history.operation._inbound_nodes[tensor._keras_history.node_index]
        if node.is_input and id(node) not in depths:
            by_depth.setdefault(0, []).append(node)
    nodes_by_depth = {d: by_depth[d] for d in sorted(by_depth, reverse=True)}
    return [n for n in nodes if not n.is_input], layers, nodes_by_depth
