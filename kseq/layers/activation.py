"""Activation layers: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU`` and ``Softmax``.

Keras's defaults, which differ from torch's: ``LeakyReLU`` slope ``0.3`` (torch ``0.01``),
``PReLU`` alpha initialized to zeros with one alpha per input element unless ``shared_axes``
(torch: one per channel, initialized to 0.25). ``Softmax(axis=-1)`` as the last layer takes part in
the trainer's loss-from-logits fusion, like ``Activation("softmax")``.

Example:
    >>> import torch
    >>> LeakyReLU()(torch.tensor([-1.0, 2.0]))
    tensor([-0.3000,  2.0000])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq import activations, constraints, initializers, regularizers
from kseq.layers.layer import InputSpec, Layer, Shape

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]


class ReLU(Layer):
    """Rectified linear unit with Keras's optional ceiling, leak and threshold.

    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for ``threshold <= x < max_value``,
    ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: Ceiling (``None``: none). Must be ``>= 0``.
        negative_slope: Slope below the threshold (default ``0.0``). Must be ``>= 0``.
        threshold: Values below it are zeroed / leaked (default ``0.0``). Must be ``>= 0``.

    Example:
        >>> ReLU(max_value=1.0)(torch.tensor([-1.0, 0.5, 3.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """

    supports_masking = True

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(
                f"max_value of a ReLU layer cannot be a negative value. Received: max_value={max_value}"
            )
        for arg, value in (("negative_slope", negative_slope), ("threshold", threshold)):
            if value is None or value < 0.0:
                raise ValueError(
                    f"{arg} of a ReLU layer cannot be None or a negative value. Received: {arg}={value}"
                )
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return activations.relu(
            inputs,
            negative_slope=self.negative_slope,
            max_value=self.max_value,
            threshold=self.threshold,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise (``F.leaky_relu``).

    Args:
        negative_slope: Slope for negative inputs; Keras's default ``0.3`` (torch's is ``0.01``).
            The deprecated Keras name ``alpha=`` is accepted with a warning.

    Example:
        >>> LeakyReLU(negative_slope=0.5)(torch.tensor([-2.0, 2.0]))
        tensor([-1.,  2.])
    """

    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2
            )
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. "
                f"Expected a float. Received: negative_slope={negative_slope}"
            )
        self.negative_slope = negative_slope
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise, with a learned ``alpha``.

    ``alpha`` has the input's shape without the batch axis (Keras layout), with size 1 along each
    of ``shared_axes`` (e.g. ``shared_axes=[1, 2]`` after a Conv2D: one alpha per channel).

    Args:
        alpha_initializer: Default ``"Zeros"`` (torch's ``nn.PReLU`` uses 0.25).
        alpha_regularizer, alpha_constraint: Optional penalty / projection of ``alpha``.
        shared_axes: Axis or axes (1-based, batch excluded) along which ``alpha`` is shared.

    Example:
        >>> layer = PReLU(alpha_initializer="ones", shared_axes=[1])
        >>> layer(torch.tensor([[[-2.0, 3.0]]])), tuple(layer.alpha.shape)
        (tensor([[[-2.,  3.]]], grad_fn=<WhereBackward0>), (1, 2))
    """

    supports_masking = True

    def __init__(
        self,
        alpha_initializer: Any = "Zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes: list[int] | None = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape: Shape) -> None:
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(
                    f"Invalid `shared_axes` {self.shared_axes} for PReLU layer '{self.name}': axes are "
                    f"1-based (the batch axis excluded) and must be < {len(input_shape)} for input shape "
                    f"{input_shape}."
                )
            param_shape[axis - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(
                f"PReLU layer '{self.name}' needs a defined size on every non-shared axis to create "
                f"`alpha`; received input shape {input_shape}. Pass `shared_axes` for the variable "
                "axes (e.g. shared_axes=[1] for sequences of any length)."
            )
        self.add_weight(
            shape=param_shape,  # type: ignore[arg-type]
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
            name="alpha",
        )
        axes = {
            i: input_shape[i]
            for i in range(1, len(input_shape))
            if i not in (self.shared_axes or ())
        }
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)  # type: ignore[arg-type]

    def reset_parameters(self) -> None:
        """Redraw ``alpha`` from ``alpha_initializer``."""
        with torch.no_grad():
            self.alpha.copy_(self.alpha_initializer(tuple(self.alpha.shape)))

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return torch.where(inputs > 0, inputs, self.alpha * inputs)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class ELU(Layer):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        alpha: Scale of the negative part (default ``1.0``).

    Example:
        >>> ELU(alpha=2.0)(torch.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = alpha
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return F.elu(inputs, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax over ``axis``, optionally restricted to the positions where ``mask`` is true.

    As the last layer with ``axis=-1``, the trainer may compute a matching crossentropy from the
    logits (``activation`` is ``kseq.activations.softmax`` then, as for ``Activation("softmax")``).

    Args:
        axis: Axis, or list of axes, the softmax normalizes over (default ``-1``).

    Call arguments:
        inputs: Logits.
        mask: Optional tensor broadcastable to ``inputs``; positions where it is false (or
            ``<= 0.5`` for float masks) get probability 0.

    Example:
        >>> Softmax()(torch.zeros(1, 3), mask=torch.tensor([[True, True, False]]))
        tensor([[0.5000, 0.5000, 0.0000]])
    """

    supports_masking = True

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis
        self._mark_built()

    @property
    def activation(self) -> Callable[[Tensor], Tensor] | None:
        """``activations.softmax`` when this layer is exactly it (``axis=-1``), for logits fusion."""
        return activations.softmax if _axes(self.axis) == [-1] else None

    def _pre_activation(self, inputs: Tensor) -> Tensor:
        return inputs

    def call(
        self, inputs: Tensor, training: bool | None = None, mask: Tensor | None = None
    ) -> Tensor:
        if mask is not None:
            mask = self._standardize_mask(inputs, mask)
            inputs = inputs.masked_fill(~mask, -3e4 if inputs.dtype == torch.float16 else -1e9)
        axes = _axes(self.axis)
        if len(axes) > 1:
            outputs = torch.exp(inputs - torch.logsumexp(inputs, dim=axes, keepdim=True))
        else:
            outputs = torch.softmax(inputs, dim=axes[0])
        if mask is not None:
            outputs = outputs.masked_fill(~mask, 0.0)
        return outputs

    @staticmethod
    def _standardize_mask(inputs: Tensor, mask: Tensor) -> Tensor:
        if mask.ndim > inputs.ndim or any(
            m not in (1, i) for m, i in zip(mask.shape[::-1], inputs.shape[::-1], strict=False)
        ):
            raise ValueError(
                "The `mask` must be broadcastable to `inputs`. Each mask dimension must be 1 or match "
                f"the corresponding input dimension. Received: inputs.shape={tuple(inputs.shape)}, "
                f"mask.shape={tuple(mask.shape)}"
            )
        return mask if mask.dtype == torch.bool else mask > 0.5

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def _axes(axis: int | Sequence[int]) -> list[int]:
    return [axis] if isinstance(axis, int) else list(axis)
