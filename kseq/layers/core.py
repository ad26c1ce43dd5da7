"""Core layers: ``Dense``, ``Activation``, ``Dropout``, ``Identity``.

Example:
    >>> import torch
    >>> Dense(3, activation="relu")(torch.ones(2, 5)).shape
    torch.Size([2, 3])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kseq import activations, constraints, initializers, regularizers
from kseq.layers.layer import InputSpec, Layer, Shape
from kseq.layers.weight_views import KerasWeight
from kseq.variables import Variable

__all__ = ["Dense", "Activation", "Identity", "Dropout"]


def _transpose(w: Tensor) -> Tensor:
    return w.T


class Dense(Layer):
    """Densely-connected layer ``activation(inputs @ kernel + bias)`` on ``nn.Linear``.

    The Keras kernel ``(in, units)`` is ``linear.weight.T``; ``get_weights()`` returns
    ``[kernel, bias]`` in Keras layout. Inputs of rank > 2 are handled on the last axis.

    Args:
        units: Output size.
        activation: Activation name or callable (``None`` = linear).
        use_bias: Whether to add a bias.
        kernel_initializer: Default ``"glorot_uniform"`` (Keras's, not torch's kaiming).
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer, bias_regularizer, activity_regularizer: Optional penalties.
        kernel_constraint, bias_constraint: Optional projections applied after each step.

    Input shape: ``(batch, ..., input_dim)``. Output shape: ``(batch, ..., units)``.

    Example:
        >>> layer = Dense(2, kernel_initializer="ones", input_shape=(3,))
        >>> layer.build((None, 3)); layer(torch.ones(1, 3))
        tensor([[3., 3.]], grad_fn=<AddmmBackward0>)
    """

    supports_masking = True

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if quantization_config is not None:
            raise NotImplementedError(
                "Dense(quantization_config=...) is not supported by kseq; pass quantization_config=None."
            )
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. Received: units={units}"
            )
        if lora_rank:
            raise NotImplementedError(
                "Dense(lora_rank=...) is not supported by kseq; fine-tune with a frozen base and a "
                "low-rank Dense pair instead."
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape: Shape) -> None:
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(
                f"The last dimension of the input to Dense layer '{self.name}' must be defined. "
                f"Received input_shape={input_shape}"
            )
        self.linear = nn.Linear(in_features, self.units, bias=self.use_bias)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_features})
        self.track_weight(
            "linear.weight", self.kernel_regularizer, self.kernel_constraint, _transpose
        )
        if self.use_bias:
            self.track_weight("linear.bias", self.bias_regularizer, self.bias_constraint)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """(Re-)initialize with the Keras initializers (kernel drawn in Keras layout, then transposed)."""
        with torch.no_grad():
            kernel = self.kernel_initializer((self.linear.in_features, self.units))
            self.linear.weight.copy_(kernel.T)
            if self.use_bias:
                self.linear.bias.copy_(self.bias_initializer((self.units,)))

    def _keras_weight_specs(self) -> list[KerasWeight]:
        specs = [KerasWeight("kernel", ("linear.weight",), _transpose)]
        return specs + ([KerasWeight("bias", ("linear.bias",))] if self.use_bias else [])

    @property
    def kernel(self) -> Variable:
        """The Keras-layout kernel ``(in, units)``: a variable over ``linear.weight``'s storage."""
        return self._keras_weight("kernel")

    @property
    def bias(self) -> Variable | None:
        return self._keras_weight("bias") if self.use_bias else None

    def _pre_activation(self, inputs: Tensor) -> Tensor:
        return self.linear(inputs)

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        linear = self.linear
        x = F.linear(
            inputs, linear.weight, linear.bias
        )  # (the nn.Linear's own call frame, skipped)
        return x if self.activation is activations.linear else self.activation(x)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def _get_own_weights(self) -> list[np.ndarray]:
        out = [self.linear.weight.detach().T.cpu().numpy().copy()]
        if self.use_bias:
            out.append(self.linear.bias.detach().cpu().numpy().copy())
        return out

    def _set_own_weights(self, arrays: list[np.ndarray]) -> None:
        self.linear.weight.copy_(torch.as_tensor(arrays[0]).T)
        if self.use_bias:
            self.linear.bias.copy_(torch.as_tensor(arrays[1]))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }


class Activation(Layer):
    """Apply an activation function (name or callable) to the input.

    Example:
        >>> Activation("relu")(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    supports_masking = True

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._mark_built()

    def _pre_activation(self, inputs: Tensor) -> Tensor:
        return inputs

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return self.activation(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Return the input unchanged (a placeholder layer).

    Example:
        >>> Identity()(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    supports_masking = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return inputs


class Dropout(Layer):
    """Randomly zero a fraction ``rate`` of inputs during training, scaling the rest by
    ``1 / (1 - rate)``. Inactive in inference (``evaluate``/``predict``/``model.eval()``).

    Args:
        rate: Fraction of units to drop, in ``[0, 1]``.
        noise_shape: Shape of the binary mask broadcast over the input (``None`` entries take the
            input's size), e.g. ``(None, 1, features)`` drops whole features across timesteps.
        seed: Seed for a layer-private generator (reproducible masks, independent of the global RNG).

    Example:
        >>> layer = Dropout(0.5).eval()
        >>> layer(torch.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    supports_masking = True

    def __init__(
        self,
        rate: float,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate}"
            )
        if noise_shape is not None:
            if isinstance(noise_shape, str):
                raise ValueError(
                    "Invalid value received for argument `noise_shape`. Expected a tuple or list of "
                    f"integers. Received: noise_shape={noise_shape}"
                )
            noise_shape = tuple(noise_shape)
            for i, dim in enumerate(noise_shape):
                if dim is not None and (not isinstance(dim, int) or dim <= 0):
                    raise ValueError(
                        "Invalid value received for argument `noise_shape`. Expected all dimensions to "
                        f"be positive integers or None. Received {dim!r} at index {i}"
                    )
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        training = self.training if training is None else training
        if not training or self.rate == 0.0:
            return inputs
        if self.noise_shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, True)
        if self.rate == 1.0:
            return torch.zeros_like(inputs)
        shape = inputs.shape if self.noise_shape is None else [
            inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape)
        ]  # fmt: skip
        keep = 1.0 - self.rate
        probs = torch.full(tuple(shape), keep, device=inputs.device, dtype=inputs.dtype)
        mask = torch.bernoulli(probs, generator=self._seeded_generator(inputs.device))
        return inputs * mask / keep

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        }
