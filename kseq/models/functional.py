"""The functional API: ``Model(inputs, outputs)``, a graph of kseq layers run as plain PyTorch.

``Model(inputs=..., outputs=...)`` (a tensor, a list or a dict on either side) traces the graph once
(:func:`kseq.models.graph.map_graph`) and turns it into a flat list of steps: each step is one layer
call reading and writing slots of a list, so ``forward`` is a loop over that list (no graph walk,
no dict per step). The layers are the model's submodules under their names (``state_dict`` keys
read ``dense.linear.weight``); masks propagate as in ``Sequential``.

Example:
    >>> import torch
    >>> from kseq.layers import Input, Dense, concatenate
    >>> from kseq.models import Model
    >>> a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    >>> out = Dense(1, name="out")(concatenate([a, b]))
    >>> model = Model(inputs=[a, b], outputs=out)
    >>> model([torch.ones(4, 3), torch.ones(4, 2)]).shape, model.output_names
    (torch.Size([4, 1]), ['out'])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.core.naming import auto_name
from kseq.core.shapes import format_shape
from kseq.layers.input_layer import InputLayer
from kseq.layers.layer import Layer
from kseq.layers.loss_collection import MODEL_CALL_LOSSES
from kseq.layers.mask_rules import MaskedOutputs, accepts_mask, output_mask, produces_mask
from kseq.layers.node import KerasTensor, flatten_tensors
from kseq.layers.symbolic_ops import TensorOp
from kseq.models.functional_config import functional_config, functional_from_config
from kseq.models.graph import map_graph
from kseq.models.model import Model
from kseq.registry.namespace import MODELS

__all__ = ["Functional"]

_SINGLE, _LIST, _DICT = 0, 1, 2


def _spec(structure: Any, slots: dict[int, int]) -> tuple[int, Any]:
    if isinstance(structure, KerasTensor):
        return _SINGLE, slots[id(structure)]
    if isinstance(structure, dict):
        return _DICT, {k: slots[id(v)] for k, v in structure.items()}
    return _LIST, [slots[id(v)] for v in structure]


def _gather(kind: int, spec: Any, values: list[Any]) -> Any:
    if kind == _SINGLE:
        return values[spec]
    if kind == _LIST:
        return [values[i] for i in spec]
    return {k: values[i] for k, i in spec.items()}


class Functional(MaskedOutputs, Model):
    """A model defined by its input and output tensors (Keras's ``Functional``).

    Build it with ``kseq.Model(inputs, outputs)``; ``inputs`` and ``outputs`` are a
    :class:`~kseq.layers.node.KerasTensor`, a list or a dict of them.

    Args:
        inputs: The model's input tensor(s) (``kseq.Input(...)``).
        outputs: Tensors computed from ``inputs`` by calling kseq layers.
        name: Model name (``functional``, ``functional_1``, ... by default).
        trainable: Whether the model's weights are trained.

    Example:
        >>> import kseq
        >>> x = kseq.Input(shape=(4,))
        >>> model = kseq.Model(x, kseq.layers.Dense(2)(x))
        >>> model.input_shape, model.output_shape
        ((None, 4), (None, 2))
    """

    def __init__(
        self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True
    ) -> None:
        super().__init__(name=name or auto_name("Functional"), trainable=trainable)
        for side, structure in (("inputs", inputs), ("outputs", outputs)):
            flat = flatten_tensors(structure)
            if not flat:
                raise ValueError(f"`{side}` argument cannot be empty. Received: {side}={structure}")
            for x in flat:
                if not isinstance(x, KerasTensor):
                    raise ValueError(
                        f"All `{side}` values must be KerasTensors (from `kseq.Input(...)` and kseq "
                        f"layers called on them). Received: {side}={structure} including invalid "
                        f"value {x!r} of type {type(x)}"
                    )
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs: Any, outputs: Any) -> None:
        d = self.__dict__
        d["_inputs_struct"] = inputs if not isinstance(inputs, tuple) else list(inputs)
        d["_outputs_struct"] = outputs if not isinstance(outputs, tuple) else list(outputs)
        flat_in, flat_out = flatten_tensors(inputs), flatten_tensors(outputs)
        d["_inputs"], d["_outputs"] = flat_in, flat_out
        nodes, layers, by_depth = map_graph(flat_in, flat_out)
        d["_nodes"], d["_graph_layers"], d["_nodes_by_depth"] = nodes, layers, by_depth
        for layer in layers:
            if not isinstance(layer, InputLayer):
                self._modules[layer.name.replace(".", "_")] = layer
        slots: dict[int, int] = {}
        for t in flat_in:
            slots[id(t)] = len(slots)
        for node in nodes:
            for t in node.outputs:
                slots.setdefault(id(t), len(slots))
        steps = []
        for node in nodes:
            kind, spec = _spec(node.call_inputs, slots)
            single = isinstance(node.output_structure, KerasTensor)
            steps.append(
                (
                    node.operation,
                    kind,
                    spec,
                    node.call_kwargs,
                    [slots[id(t)] for t in node.outputs],
                    single,
                )
            )
        d["_steps"], d["_n_slots"] = steps, len(slots)
        d["_input_slots"] = list(range(len(flat_in)))
        d["_output_kind"], d["_output_spec"] = _spec(self._outputs_struct, slots)
        d["_input_dtypes"] = [getattr(torch, t.dtype, None) for t in flat_in]
        self._mask_aware = any(produces_mask(layer) for layer in layers)
        self.output_names = [t._keras_history.operation.name for t in flat_out]
        self.built = True
        self._build_input_shape = (
            flat_in[0].shape if len(flat_in) == 1 else [t.shape for t in flat_in]
        )
        self._remove_build_hook()

    # ----------------------------------------------------------------- faces
    @property
    def layers(self) -> list[Layer]:
        """The layers in Keras's order (inputs first, by depth), ``InputLayer`` s included; ops
        between layers (``x + y``, ``ops.mean(x)``) are in :attr:`operations`, as in Keras."""
        return [layer for layer in self._graph_layers if not isinstance(layer, TensorOp)]

    @property
    def operations(self) -> list[Layer]:
        """Every step of the graph in Keras's order: the layers and the ops between them."""
        return list(self._graph_layers)

    def summary_rows(self) -> list[Layer]:
        """``summary()`` shows every step, ops included, as Keras's does."""
        return self.operations

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._outputs)

    @property
    def input(self) -> Any:  # type: ignore[override]
        return self._inputs_struct

    @property
    def output(self) -> Any:  # type: ignore[override]
        return self._outputs_struct

    @property
    def input_names(self) -> list[str]:
        return [t._keras_history.operation.name for t in self._inputs]

    @property
    def input_shape(self) -> Any:
        shapes = [t.shape for t in self._inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        shapes = [t.shape for t in self._outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_output_shape(self, input_shape: Any) -> Any:
        if input_shape == self.input_shape or (
            not isinstance(input_shape, list)
            and tuple(input_shape)[1:] == tuple(self.input_shape)[1:]
        ):
            return _map(self._outputs_struct, lambda t: t.shape)
        return super().compute_output_shape(input_shape)

    def _build_from_data_shape(self, input_shape: Any) -> None:
        self.built = True

    def _check_input_shape(self, input_shape: Any) -> None:
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if isinstance(input_shape, dict):
            return
        if len(shapes) != len(self._inputs):
            raise ValueError(
                f"Model '{self.name}' expects {len(self._inputs)} input(s) "
                f"({', '.join(self.input_names)}), but it received {len(shapes)} input array(s)."
            )
        for index, (tensor, shape) in enumerate(zip(self._inputs, shapes, strict=True)):
            expected = tensor.shape
            if not isinstance(shape, tuple):
                continue
            if len(expected) != len(shape) or any(
                e is not None and e != s for e, s in zip(expected[1:], shape[1:], strict=False)
            ):
                raise ValueError(
                    f'Input {index} of model "{self.name}" is incompatible with the model: expected '
                    f"shape {format_shape(expected)}, but received input with shape {format_shape(shape)}"
                )

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """Keras's functional config (``layers`` with ``inbound_nodes``, ``input_layers``,
        ``output_layers``)."""
        return functional_config(self)

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Functional:
        """Rebuild the graph from :meth:`get_config` output (also a Keras 3 file's config)."""
        return functional_from_config(cls, config, custom_objects)  # type: ignore[no-any-return]

    # --------------------------------------------------------------- forward
    def _flat_inputs(self, inputs: Any) -> list[Any]:
        if isinstance(inputs, dict):
            names = self.input_names
            if isinstance(self._inputs_struct, dict):
                keys = sorted(self._inputs_struct)
                names = keys
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(
                    f"Model '{self.name}' expects inputs keyed by {names}; received keys "
                    f"{list(inputs)} (missing {missing})."
                )
            flat = [inputs[n] for n in names]
        elif isinstance(inputs, (list, tuple)):
            flat = list(inputs)
        else:
            flat = [inputs]
        if len(flat) != len(self._inputs):
            raise ValueError(
                f"Model '{self.name}' expects {len(self._inputs)} input(s) "
                f"({', '.join(self.input_names)}), but it received {len(flat)}."
            )
        out = []
        for x, dtype in zip(flat, self._input_dtypes, strict=True):
            if not isinstance(x, Tensor):
                x = torch.as_tensor(x)
            if (
                dtype is not None
                and x.dtype != dtype
                and dtype.is_floating_point
                and x.is_floating_point()
                and not torch.is_autocast_enabled()
            ):
                x = x.to(dtype)
            out.append(x)
        return out

    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        """Run the graph: one pass over the precomputed steps."""
        if training is not None and bool(training) != self.training:
            was = self.training
            self.train(bool(training))
            try:
                return self.forward(inputs, mask=mask)
            finally:
                self.train(was)
        MODEL_CALL_LOSSES.open()
        try:
            values: list[Any] = [None] * self._n_slots
            for slot, x in zip(self._input_slots, self._flat_inputs(inputs), strict=True):
                values[slot] = x
            if self._mask_aware or mask is not None:
                return self._forward_masked(values, mask)
            for layer, kind, spec, kwargs, out_slots, single in self._steps:
                y = layer(_gather(kind, spec, values), **kwargs)
                if single:
                    values[out_slots[0]] = y
                else:
                    for slot, t in zip(out_slots, flatten_tensors(y), strict=True):
                        values[slot] = t
            return _gather(self._output_kind, self._output_spec, values)
        finally:
            MODEL_CALL_LOSSES.close()

    def _forward_masked(self, values: list[Any], mask: Any) -> Any:
        masks: list[Any] = [None] * self._n_slots
        if mask is not None:
            for slot, m in zip(
                self._input_slots, mask if isinstance(mask, list) else [mask], strict=False
            ):
                masks[slot] = m
        for layer, kind, spec, kwargs, out_slots, single in self._steps:
            x = _gather(kind, spec, values)
            m = _gather(kind, spec, masks)
            has_mask = any(v is not None for v in flatten_tensors(m))
            y = (
                layer(x, mask=m, **kwargs)
                if has_mask and accepts_mask(layer)
                else layer(x, **kwargs)
            )
            out_mask = output_mask(layer, x, m if has_mask else None, y)
            if single:
                values[out_slots[0]], masks[out_slots[0]] = y, out_mask
            else:
                out_masks = (
                    flatten_tensors(out_mask)
                    if isinstance(out_mask, (list, tuple))
                    else [out_mask] * len(out_slots)
                )
                for slot, t, mk in zip(out_slots, flatten_tensors(y), out_masks, strict=True):
                    values[slot], masks[slot] = t, mk
        out = _gather(self._output_kind, self._output_spec, values)
        if self._output_kind == _SINGLE and masks[self._output_spec] is not None:
            out._keras_mask = masks[self._output_spec]
        return out


def _map(structure: Any, fn: Any) -> Any:
    if isinstance(structure, dict):
        return {k: fn(v) for k, v in structure.items()}
    if isinstance(structure, list):
        return [fn(v) for v in structure]
    return fn(structure)


MODELS.register(Functional)
