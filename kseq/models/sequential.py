"""``Sequential``: a linear stack of layers with eager shape inference.

With a known input shape (``kseq.Input(shape=...)`` first, or ``input_shape=`` on the first layer),
``add()`` builds each layer at once from the previous layer's output shape, so a mismatch fails in
``add()`` naming both layers and both shapes. Without one, the whole stack builds on the first data
(``fit``/``evaluate``/``predict`` or a call).

The forward pass is just ``for layer in layers: x = layer(x)`` (plus mask propagation when some
layer produces a mask, e.g. ``Embedding(mask_zero=True)``).

Example:
    >>> import kseq
    >>> model = kseq.Sequential([kseq.Input(shape=(10,)), kseq.layers.Dense(4), kseq.layers.Dense(1)])
    >>> model.output_shape, model.count_params()
    ((None, 1), 49)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from kseq import activations
from kseq.core.input_errors import incompatible_input
from kseq.layers import deserialize, serialize
from kseq.layers.input_layer import InputLayer, KerasTensor
from kseq.layers.layer import Layer, Shape, format_shape, standardize_shape
from kseq.layers.loss_collection import MODEL_CALL_LOSSES
from kseq.layers.mask_rules import MaskedOutputs, accepts_mask, output_mask, produces_mask
from kseq.layers.modes import modes_of, restore_modes
from kseq.layers.torch_module_wrapper import TorchModuleWrapper
from kseq.models.model import Model
from kseq.registry.namespace import MODELS


class Sequential(MaskedOutputs, Model):
    """A stack of layers, each with one input and one output.

    Args:
        layers: Initial layers (an ``Input``/``InputLayer`` may come first).
        trainable: Whether the model's weights are trained.
        name: Model name (``sequential``, ``sequential_1``, ... by default).

    Example:
        >>> import torch, kseq
        >>> m = kseq.Sequential([kseq.layers.Dense(3), kseq.layers.Dense(2)])
        >>> m(torch.ones(5, 7)).shape, m.built
        (torch.Size([5, 2]), True)
    """

    # Keras saves the stack as the `layers` list: variables under `layers/<snake_class>[_n]`.
    keras_saves_layers_as_list: ClassVar[bool] = True

    def __init__(
        self, layers: Iterable[Any] | None = None, trainable: bool = True, name: str | None = None
    ) -> None:
        super().__init__(trainable=trainable, name=name)
        # Layers are the only child modules, registered as "0", "1", ... as in torch.nn.Sequential,
        # so state_dict keys read "0.linear.weight". (The input layer holds no state and is not one.)
        object.__setattr__(self, "_input_layer", None)
        self._mask_aware = False
        for layer in layers or ():
            self.add(layer, rebuild=False)
        if layers:
            self._maybe_rebuild()

    # ----------------------------------------------------------------- stack
    @property
    def _stack(self) -> list[Layer]:
        # The layers `add` registered ("0", "1", ...). Other modules a subclass assigns (metrics,
        # losses, helper layers: Keras's custom-train-step models) are not part of the stack.
        return [m for key, m in self._modules.items() if key.isdigit()]  # type: ignore[misc]

    def _pop_last(self) -> None:
        del self._modules[str(len(self._stack) - 1)]
        self._mask_aware = any(produces_mask(lyr) for lyr in self._stack)

    def __getitem__(self, index: int) -> Layer:
        """``model[i]`` is ``model.layers[i]`` (as with ``torch.nn.Sequential``)."""
        return self.layers[index]

    @property
    def layers(self) -> list[Layer]:
        """The layers, without the input layer (Keras's ``model.layers``)."""
        return self._stack

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Add a layer on top of the stack (building it now when the input shape is known).

        Example:
            >>> import kseq
            >>> m = kseq.Sequential([kseq.Input(shape=(3,))])
            >>> m.add(kseq.layers.Dense(2)); m.output_shape
            (None, 2)
        """
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history[0]
        if isinstance(layer, nn.Module) and not isinstance(layer, Layer):
            layer = TorchModuleWrapper(layer)  # a plain torch module joins the stack as a layer
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer)})."
            )
        if isinstance(layer, InputLayer):
            if self._input_layer is not None:
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input shape "
                    f"{self._input_layer.batch_shape}. You cannot add a different Input layer to it."
                )
            if len(self._stack):
                raise ValueError(
                    f"An Input / InputLayer must come first in Sequential model '{self.name}', which already "
                    f"has {len(self._stack)} layer(s)."
                )
            object.__setattr__(self, "_input_layer", layer)
            self.built = False
            return
        if (
            not len(self._stack)
            and self._input_layer is None
            and layer._input_shape_arg is not None
        ):
            self.add(InputLayer(shape=layer._input_shape_arg, batch_size=layer._input_batch_size))
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the `name` argument "
                "to pass a unique name."
            )
        self.add_module(str(len(self._stack)), layer)
        self._mask_aware = any(produces_mask(lyr) for lyr in self._stack)
        if not rebuild:
            self.built = False
            return
        if self._input_layer is not None:
            previous = self._stack[-2] if len(self._stack) > 1 else self._input_layer
            try:
                self._build_layer(layer, previous, previous._build_output_shape)
            except ValueError:
                self._pop_last()  # a failed add changes nothing
                raise
            self.built = True
            self._build_input_shape = self._input_layer.batch_shape
            self._trace()
        else:
            self.built = False

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer.

        Example:
            >>> import kseq
            >>> m = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(2), kseq.layers.Dense(1)])
            >>> m.pop().name, m.output_shape
            ('dense_1', (None, 2))
        """
        if not len(self._stack):
            raise TypeError("There are no layers in the model.")
        layer = self._stack[-1]
        self._pop_last()
        del self.__dict__.setdefault("_traced", [])[len(self._stack) :]
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self) -> None:
        if self._input_layer is not None and len(self._stack):
            self.build(self._input_layer.batch_shape)

    # ----------------------------------------------------------------- build
    def build(self, input_shape: Any = None) -> None:
        """Build every layer for ``input_shape`` (batch dim included, e.g. ``(None, 16)``).

        Example:
            >>> import kseq
            >>> m = kseq.Sequential([kseq.layers.Dense(8)]); m.build((None, 16)); len(m.weights)
            2
        """
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError(
                    f"Sequential model {self.name} cannot be built without an input shape: pass "
                    "`build(input_shape)` (e.g. `(None, 16)`) or start the model with `kseq.Input(shape=...)`."
                )
            input_shape = self._input_layer.batch_shape
        input_shape = standardize_shape(input_shape)
        if not len(self._stack):
            raise ValueError(
                f"Sequential model {self.name} cannot be built because it has no layers. Call `model.add(layer)`."
            )
        if self._input_layer is None:
            object.__setattr__(self, "_input_layer", InputLayer(batch_shape=input_shape))
        elif self._input_layer.batch_shape[1:] != input_shape[1:]:
            raise ValueError(
                f"Sequential model '{self.name}' has already been configured to use input shape "
                f"{self._input_layer.batch_shape}. You cannot build it with input_shape {input_shape}"
            )
        previous: Layer = self._input_layer
        for layer in self._stack:
            self._build_layer(layer, previous, previous._build_output_shape)  # type: ignore[arg-type]
            previous = layer  # type: ignore[assignment]
        self.built = True
        self._build_input_shape = self._input_layer.batch_shape
        self._remove_build_hook()
        self.__dict__["_traced"] = []
        self._trace()

    def _trace(self) -> None:
        """Call the untraced layers on symbolic tensors, so that ``layer.input``/``layer.output``
        and ``model.outputs`` exist (a feature extractor: ``Model(m.inputs, m.layers[-2].output)``)."""
        traced: list[Any] = self.__dict__.setdefault("_traced", [])
        stack = self._stack
        del traced[len(stack) :]
        x = traced[-1] if traced else self._input_layer.output  # type: ignore[union-attr]
        for layer in stack[len(traced) :]:
            try:
                x = layer(x)
            except Exception:  # a layer that cannot run symbolically stays untraced
                return
            traced.append(x)

    def _build_layer(self, layer: Layer, previous: Layer, shape: Shape) -> Shape:
        """Build ``layer`` on ``previous``'s output, naming both layers and shapes on failure."""
        if isinstance(shape, list):  # e.g. LSTM(return_state=True): (output, *states)
            raise ValueError(
                f'Layer "{layer.name}" ({type(layer).__name__}) expects 1 input, but "{previous.name}" '
                f"({type(previous).__name__}) outputs {len(shape)} tensors with shapes "
                f"{', '.join(format_shape(s) for s in shape)}. All layers in a Sequential model should have a single "
                "output tensor: set `return_state=False`, or use a subclassed `Model` for multi-output layers."
            )
        try:
            return layer.build_from_shape(shape)
        except (ValueError, TypeError) as exc:
            prev = (
                "the model input"
                if isinstance(previous, InputLayer)
                else f'"{previous.name}" ({type(previous).__name__})'
            )
            raise ValueError(
                f'Layer "{layer.name}" ({type(layer).__name__}) cannot follow {prev}, which outputs shape '
                f"{format_shape(shape)}: {exc}"
            ) from None

    def _build_once(self, input_shape: Any) -> None:
        # Called by the lazy pre-hook on a first direct call: the batch size is not part of the model.
        if not self.built:
            self.build((None, *tuple(input_shape)[1:]))
        self._remove_build_hook()

    def _to_device(self, device: torch.device) -> None:
        self._place(device)

    def _build_from_data_shape(self, input_shape: Any) -> None:
        if not isinstance(input_shape, tuple):
            raise ValueError(
                "A Sequential model takes a single input array; received a nested structure of inputs."
            )
        self.build((None, *input_shape[1:]))

    def _check_input_shape(self, input_shape: Any) -> None:
        if not isinstance(input_shape, tuple):
            raise ValueError(
                f"Sequential model '{self.name}' takes a single input array; received a nested structure "
                f"{input_shape}."
            )
        expected = self._input_layer.batch_shape if self._input_layer is not None else None
        if expected is None:
            return
        input_shape = _rank_adjusted(input_shape, expected)
        first = self._stack[0].name if len(self._stack) else self.name
        message = incompatible_input(first, expected, input_shape)
        if message is not None:
            raise ValueError(message)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = standardize_shape(input_shape)
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)  # type: ignore[operator]
        return shape

    # --------------------------------------------------------------- shapes
    @property
    def input_shape(self) -> Shape:
        if self._input_layer is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input shape yet.")
        return self._input_layer.batch_shape

    @property
    def output_shape(self) -> Shape:
        if not self.built or not len(self._stack):
            raise AttributeError(f"Sequential model '{self.name}' has no defined output shape yet.")
        return self._stack[-1]._build_output_shape  # type: ignore[return-value]

    @property
    def inputs(self) -> list[KerasTensor]:
        if self._input_layer is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined inputs yet.")
        return [self._input_layer.output]

    @property
    def outputs(self) -> list[KerasTensor]:
        traced = self.__dict__.get("_traced")
        if not self.built or not traced or len(traced) != len(self._stack):
            raise AttributeError(f"Sequential model '{self.name}' has no defined outputs yet.")
        return [traced[-1]]

    @property
    def input(self) -> KerasTensor:  # type: ignore[override]
        return self.inputs[0]

    @property
    def output(self) -> KerasTensor:  # type: ignore[override]
        return self.outputs[0]

    @property
    def output_names(self) -> list[str]:
        return [self._stack[-1].name] if len(self._stack) else []

    # -------------------------------------------------------------- forward
    def forward(
        self,
        inputs: Any,
        training: bool | None = None,
        mask: Tensor | None = None,
        return_logits: bool = False,
    ) -> Any:
        """Run the stack. ``return_logits=True`` stops before the last layer's sigmoid/softmax (the
        training step uses it, also through DistributedDataParallel, to fuse loss and activation)."""
        if training is not None:  # explicit `training=` wins for every layer, for this call
            was = modes_of(self)
            self.train(bool(training))
            try:
                return self.forward(inputs, mask=mask, return_logits=return_logits)
            finally:
                restore_modes(self, was)
        if return_logits:
            return self._forward_logits(inputs)
        MODEL_CALL_LOSSES.open()
        try:
            x = self._standardize_input(inputs)
            if self._mask_aware or mask is not None:
                return self._forward_masked(x, mask)
            layer = None
            try:
                for layer in self._stack:
                    x = layer(x)
            except RuntimeError as exc:
                raise self._runtime_error(layer, x, exc) from exc
            return x
        finally:
            MODEL_CALL_LOSSES.close()

    def _standardize_input(self, inputs: Any) -> Tensor:
        """Cast inputs to the model's input dtype, as Keras does (float64 or int arrays into a float
        model become float32); integer ids stay integers for a first layer that takes them."""
        x = inputs if isinstance(inputs, Tensor) else torch.as_tensor(inputs)
        input_layer = self._input_layer
        if input_layer is not None and x.dim() != len(input_layer.batch_shape):
            x = x.reshape(_rank_adjusted(tuple(x.shape), input_layer.batch_shape))
        if (
            input_layer is None
            or x.dtype == input_layer._torch_dtype
            or torch.is_autocast_enabled()
        ):
            return x
        target = input_layer._torch_dtype
        if target.is_floating_point and (x.is_floating_point() or not self._first_takes_integers()):
            return x.to(target)
        return x

    def _first_takes_integers(self) -> bool:
        first = next(iter(self._stack), None)
        return bool(getattr(first, "integer_inputs", False))

    def _forward_masked(
        self, x: Tensor, mask: Tensor | None, return_logits: bool = False
    ) -> Tensor:
        stack = self._stack
        for index, layer in enumerate(stack):
            if return_logits and index == len(stack) - 1:
                y = layer._pre_activation(x)  # type: ignore[operator]
            else:
                y = layer(x, mask=mask) if accepts_mask(layer) and mask is not None else layer(x)
            mask = output_mask(layer, x, mask, y)
            x = y
        if mask is not None:
            x._keras_mask = mask  # type: ignore[attr-defined]
        return x

    def _runtime_error(self, layer: Any, x: Tensor, exc: RuntimeError) -> Exception:
        expected = getattr(layer, "_build_input_shape", None)
        name = getattr(layer, "name", layer)
        # A shape the layer was not built for is said in Keras words; anything else keeps torch's.
        message = None if expected is None else incompatible_input(str(name), expected, x.shape)
        return ValueError(
            f'Exception encountered when calling layer "{name}" ({type(layer).__name__}) '
            f"of Sequential model '{self.name}': received input with shape {format_shape(tuple(x.shape))}"
            f"{f' (the layer was built for {format_shape(expected)})' if expected is not None else ''}. "
            f"{message or f'torch said: {exc}'}"
        )

    def _final_activation_split(self) -> Callable[[Tensor], Tensor] | None:
        """The last layer's sigmoid/softmax when the loss may be computed from its logits."""
        if not len(self._stack) or type(self).forward is not Sequential.forward:
            return None
        last = self._stack[-1]
        activation = getattr(last, "activation", None)
        if (
            activation not in activations.FUSABLE
            or not hasattr(last, "_pre_activation")
            or getattr(last, "activity_regularizer", None) is not None
            or last._forward_hooks
        ):
            return None
        return activation

    def _forward_logits(self, inputs: Any) -> Tensor:
        MODEL_CALL_LOSSES.open()
        layer, x = None, inputs
        try:
            x = self._standardize_input(inputs)
            if self._mask_aware:
                return self._forward_masked(x, None, return_logits=True)
            layers = self._stack
            for layer in layers[:-1]:
                x = layer(x)
            layer = layers[-1]
            return layer._pre_activation(x)  # type: ignore[operator]
        except RuntimeError as exc:
            raise self._runtime_error(layer, x, exc) from exc
        finally:
            MODEL_CALL_LOSSES.close()

    # --------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        layers = ([serialize(self._input_layer)] if self._input_layer is not None else []) + [
            serialize(layer) for layer in self._stack
        ]
        config: dict[str, Any] = {**super().get_config(), "layers": layers}
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Sequential:
        config = dict(config)
        layer_configs = config.pop("layers")
        build_input_shape = config.pop("build_input_shape", None)
        config.pop("dtype", None)
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in layer_configs:
            model.add(deserialize(layer_config, custom_objects=custom_objects), rebuild=False)
        if model._input_layer is not None:
            model._maybe_rebuild()
        elif build_input_shape is not None:
            model.build(tuple(build_input_shape))
        return model


def _rank_adjusted(shape: tuple[Any, ...], expected: Shape) -> tuple[Any, ...]:
    """Keras's rank fix for a model input (``Functional._adjust_input_rank``): data one rank
    below an input whose last axis is 1 (``(n,)`` into ``(None, 1)``) gains that axis; else
    unchanged (Keras's squeeze of a trailing 1 is left out: a wrong rank stays an error)."""
    if len(shape) == len(expected) - 1 and expected[-1] == 1:
        return (*shape, 1)
    return shape


MODELS.register(Sequential)  # configs find it by name (layers.deserialize, load_model)
