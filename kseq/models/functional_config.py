"""Keras's functional config format: ``layers`` with ``inbound_nodes``, ``input_layers``,
``output_layers`` (what ``Functional.get_config`` writes and ``from_config`` reads).

Each layer entry is the layer's serialized config plus its ``name`` and the calls that belong to the
model (``inbound_nodes``: ``args`` holding ``__keras_tensor__`` references ``[layer, node, tensor]``,
``kwargs``). Reading rebuilds the layers by name from the registry (no code from the file runs) and
calls them in node order.

Example:
    >>> from kseq.layers import Input, Dense
    >>> from kseq.models import Model
    >>> x = Input(shape=(2,), name="x")
    >>> config = functional_config(Model(x, Dense(1, name="y")(x)))
    >>> config["input_layers"], config["output_layers"], config["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
    (['x', 0, 0], ['y', 0, 0], ['x', 0, 0])
"""

from __future__ import annotations

from typing import Any

from kseq.layers import deserialize, serialize
from kseq.layers.node import KerasTensor, flatten_tensors

__all__ = ["functional_config", "functional_from_config"]


def _node_indices(model: Any) -> dict[int, int]:
    """Node id -> its index among the layer's nodes that belong to ``model`` (Keras's reindexing)."""
    own = {id(n) for level in model._nodes_by_depth.values() for n in level}
    index: dict[int, int] = {}
    for layer in model.operations:
        kept = 0
        for node in layer.__dict__.get("_inbound_nodes", []):
            if id(node) in own:
                index[id(node)] = kept
                kept += 1
    return index


def functional_config(model: Any) -> dict[str, Any]:
    """``get_config()`` of a functional model, in Keras's format."""
    reindex = _node_indices(model)

    def ref(tensor: KerasTensor) -> list[Any]:
        layer, node_index, tensor_index = tensor._keras_history
        return [layer.name, reindex[id(layer._inbound_nodes[node_index])], tensor_index]

    def arg(structure: Any) -> Any:
        if isinstance(structure, KerasTensor):
            return {
                "class_name": "__keras_tensor__",
                "config": {
                    "shape": list(structure.shape),
                    "dtype": structure.dtype,
                    "keras_history": ref(structure),
                },
            }
        if isinstance(structure, dict):
            return {k: arg(v) for k, v in structure.items()}
        return [arg(v) for v in structure]

    layers = []
    for layer in model.operations:
        entry = serialize(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": [arg(node.call_inputs)], "kwargs": dict(node.call_kwargs)}
            for node in layer.__dict__.get("_inbound_nodes", [])
            if id(node) in reindex and not node.is_input
        ]
        layers.append(entry)

    def refs(structure: Any) -> Any:
        if isinstance(structure, KerasTensor):
            return ref(structure)
        if isinstance(structure, dict):
            return {k: refs(v) for k, v in structure.items()}
        return [refs(v) for v in structure]

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": refs(model._inputs_struct),
        "output_layers": refs(model._outputs_struct),
    }


def _is_ref(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) for v in value[1:])
    )


def functional_from_config(
    cls: type, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> Any:
    """Rebuild a functional model from :func:`functional_config` output (or a Keras 3 file's)."""
    created: dict[str, Any] = {}
    tensors: dict[tuple[str, int, int], KerasTensor] = {}
    pending: dict[str, list[dict[str, Any]]] = {}
    for entry in config["layers"]:
        entry = dict(entry)
        nodes = entry.pop("inbound_nodes", [])
        entry.pop("build_config", None)  # the symbolic calls below build each layer
        name = entry.pop("name", None) or entry["config"]["name"]
        layer = deserialize(entry, custom_objects=custom_objects)
        created[name] = layer
        if type(layer).__name__ == "InputLayer":
            tensors[(name, 0, 0)] = layer.output
        pending[name] = list(nodes)
    counts = {name: 0 for name in created}

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            key = tuple(value["config"]["keras_history"])
            if key not in tensors:
                raise LookupError(key)
            return tensors[key]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    while any(pending.values()):
        progressed = False
        for name, nodes in pending.items():
            while nodes:
                try:
                    args = [resolve(a) for a in nodes[0].get("args", [])]
                    kwargs = {k: resolve(v) for k, v in nodes[0].get("kwargs", {}).items()}
                except LookupError:
                    break
                nodes.pop(0)
                outputs = created[name](*args, **{k: v for k, v in kwargs.items() if v is not None})
                for i, tensor in enumerate(flatten_tensors(outputs)):
                    tensors[(name, counts[name], i)] = tensor
                counts[name] += 1
                progressed = True
        if not progressed:
            raise ValueError(
                "The functional config is inconsistent: some layers' inbound nodes refer to tensors "
                f"that no layer produces. Pending: { {k: v for k, v in pending.items() if v} }"
            )

    def tensors_of(structure: Any) -> Any:
        if _is_ref(structure):
            return tensors[tuple(structure)]
        if isinstance(structure, dict):
            return {k: tensors_of(v) for k, v in structure.items()}
        return [tensors_of(v) for v in structure]

    inputs = tensors_of(config["input_layers"])
    outputs = tensors_of(config["output_layers"])
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))
