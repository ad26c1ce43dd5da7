"""Layer wrappers: ``Bidirectional`` (a forward and a backward copy of a recurrent layer) and
``TimeDistributed`` (apply a layer to every timestep, as one call on ``(batch * time, ...)``).

Both hold the wrapped layers as child modules, so ``get_weights()`` is the children's weights in
Keras's order (forward then backward for ``Bidirectional``) and ``state_dict`` keys read
``forward_layer.lstm.weight_ih_l0`` / ``layer.linear.weight``.

Example:
    >>> import torch
    >>> from kseq.layers import LSTM, Dense
    >>> Bidirectional(LSTM(4))(torch.ones(2, 5, 3)).shape
    torch.Size([2, 8])
    >>> TimeDistributed(Dense(2))(torch.ones(2, 5, 3)).shape
    torch.Size([2, 5, 2])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.layers.layer import Layer, Shape
from kseq.registry.namespace import NAMESPACES
from kseq.registry.namespace import Namespace as _Namespace

__all__ = ["Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _layer_names() -> _Namespace:
    """The layer namespace (``kseq.layers`` registers it once all layer modules are loaded)."""
    return NAMESPACES["layers"]


def _clone(layer: Layer, name: str, **overrides: Any) -> Layer:
    """A fresh layer from ``layer``'s config (Keras's ``Bidirectional`` copies, never shares)."""
    config = _layer_names().serialize(layer)
    config["config"].update(name=name, **overrides)
    return _layer_names().deserialize(config)


class Bidirectional(Layer):
    """Bidirectional wrapper for RNNs: runs a copy of ``layer`` forwards and one backwards, then
    merges the two outputs.

    Each direction is one fused kernel call (see :class:`~kseq.layers.LSTM`), masks included. As in
    Keras, the wrapped ``layer`` is copied (from its config) into ``forward_layer`` and, unless
    ``backward_layer`` is given, into a ``go_backwards=True`` ``backward_layer``; with
    ``return_sequences`` both directions output zeros at masked steps.

    Args:
        layer: A recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN``).
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"``, or ``None`` (a list of
            both outputs).
        weights: Optional initial weights (forward layer's, then backward layer's), set at build.
        backward_layer: Optional layer for the backward direction (must have ``go_backwards=True``).

    Example:
        >>> import torch
        >>> from kseq.layers import GRU
        >>> layer = Bidirectional(GRU(3, return_sequences=True, name="gru"), merge_mode="sum")
        >>> layer(torch.ones(2, 4, 5)).shape, [l.name for l in (layer.forward_layer, layer.backward_layer)]
        (torch.Size([2, 4, 3]), ['forward_gru', 'backward_gru'])
    """

    supports_masking = True
    creates_mask = False

    def __init__(
        self,
        layer: Layer,
        merge_mode: str | None = "concat",
        weights: Any = None,
        backward_layer: Layer | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        self.forward_layer = _clone(layer, f"forward_{layer.name.removeprefix('forward_')}")
        if backward_layer is None:
            backward_layer = _clone(
                layer, f"backward_{layer.name.removeprefix('backward_')}", go_backwards=True
            )
        self.backward_layer = backward_layer
        self._verify_layer_config()
        self._scope_sublayer(self.forward_layer)
        self._scope_sublayer(self.backward_layer)
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences  # Keras forces this on both
        self.merge_mode = merge_mode
        self._initial_weights = weights
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.input_spec = layer.input_spec

    def _verify_layer_config(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. Received: "
                f"forward_layer.go_backwards {forward.go_backwards}, "
                f"backward_layer.go_backwards={backward.go_backwards}"
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            f_value, b_value = getattr(forward, attr), getattr(backward, attr)
            if f_value != b_value:
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same value for attribute "
                    f'"{attr}", got "{f_value}" for forward layer and "{b_value}" for backward layer'
                )

    def build(self, input_shape: Shape) -> None:
        self.forward_layer.build_from_shape(input_shape)
        self.backward_layer.build_from_shape(input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(
        self,
        inputs: Tensor,
        initial_state: Any = None,
        mask: Tensor | None = None,
        training: bool | None = None,
    ) -> Any:
        forward_kwargs: dict[str, Any] = {"training": training}
        backward_kwargs: dict[str, Any] = {"training": training}
        if mask is not None:
            forward_kwargs["mask"] = backward_kwargs["mask"] = mask
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_kwargs["initial_state"] = initial_state[:half]
            backward_kwargs["initial_state"] = initial_state[half:]
        y = self.forward_layer(inputs, **forward_kwargs)
        y_rev = self.backward_layer(inputs, **backward_kwargs)
        states: tuple[Tensor, ...] = ()
        if self.return_state:
            states = (*y[1:], *y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        if self.merge_mode == "concat":
            output: Any = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (*output, *states) if self.merge_mode is None else (output, *states)
        return output

    def reset_states(self) -> None:
        """Zero both directions' carried states (``stateful`` layers)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def compute_output_shape(self, input_shape: Shape) -> Any:
        output_shape = self.forward_layer.compute_output_shape(input_shape)
        state_shapes: list[Shape] = []
        if self.return_state:
            output_shape, state_shapes = output_shape[0], list(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = (*output_shape[:-1], output_shape[-1] * 2)
        outputs = [output_shape, output_shape] if self.merge_mode is None else [output_shape]
        if self.return_state:
            return outputs + state_shapes + state_shapes
        return outputs if self.merge_mode is None else output_shape

    def compute_mask(self, inputs: Tensor, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            return masks + [None] * (2 * len(getattr(self.forward_layer, "state_size", [])))
        return masks if self.merge_mode is None else output_mask

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": _layer_names().serialize(self.forward_layer),
            "backward_layer": _layer_names().serialize(self.backward_layer),
        }

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Bidirectional:
        config = dict(config)
        config["layer"] = _layer_names().deserialize(config["layer"], custom_objects=custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _layer_names().deserialize(
                config["backward_layer"], custom_objects=custom_objects
            )
        return cls(**config)


class TimeDistributed(Layer):
    """Apply ``layer`` to every temporal slice of the input: one call on ``(batch * time, ...)``.

    Keras 3 calls the wrapped layer once per timestep; kseq folds time into the batch (a view when
    the input is contiguous), which gives the same result for every stateless layer and is one
    kernel call instead of ``time`` calls. Differences: a ``BatchNormalization`` inside, in
    training, normalizes over ``batch * time`` (Keras: each timestep separately); an incoming mask
    is passed on to the next layer but not into the wrapped layer.

    Args:
        layer: The layer to apply at each timestep.

    Input shape: ``(batch, time, ...)`` (at least 3-D). Output shape: ``(batch, time, ...)`` with
    the wrapped layer's output shape after the time axis.

    Example:
        >>> import torch
        >>> from kseq.layers import Dense
        >>> td = TimeDistributed(Dense(4)); td.build((None, 10, 3))
        >>> td.compute_output_shape((None, 10, 3)), td.count_params()
        ((None, 10, 4), 16)
    """

    supports_masking = True
    creates_mask = False

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        self._scope_sublayer(layer)

    @staticmethod
    def _child_input_shape(input_shape: Any) -> Shape:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                f"received: {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape: Shape) -> None:
        self.layer.build_from_shape(self._child_input_shape(input_shape))

    def call(
        self, inputs: Tensor, training: bool | None = None, mask: Tensor | None = None
    ) -> Tensor:
        batch, steps = inputs.shape[:2]
        kwargs = {} if training is None else {"training": training}
        y = self.layer(inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs)
        return y.reshape(batch, steps, *y.shape[1:])

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        child = self.layer.compute_output_shape(self._child_input_shape(input_shape))
        return (child[0], input_shape[1], *child[1:])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": _layer_names().serialize(self.layer)}

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> TimeDistributed:
        config = dict(config)
        layer = _layer_names().deserialize(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
