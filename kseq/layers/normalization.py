"""Per-sample normalization layers: ``LayerNormalization``, ``GroupNormalization``,
``UnitNormalization`` and ``RMSNormalization`` (``BatchNormalization`` lives in
``batch_normalization.py``), plus the ``gamma``/``beta`` plumbing they share with it.

Each runs on torch's fused kernel (``F.layer_norm``, ``F.group_norm``, ``F.rms_norm``); axes that
are not the trailing ones are moved there first (a view), so any ``axis`` works. Like Keras, the
statistics are computed in at least float32 and the output is cast back to the input's dtype.

Example:
    >>> import torch
    >>> out = LayerNormalization()(torch.tensor([[1.0, 3.0]]))
    >>> [round(v, 4) for v in out[0].tolist()]
    [-0.9995, 0.9995]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kseq import constraints, initializers, regularizers
from kseq.layers.layer import InputSpec, Layer, Shape

__all__ = [
    "LayerNormalization",
    "GroupNormalization",
    "UnitNormalization",
    "RMSNormalization",
]

Axis = int | Sequence[int]


def standardize_axis(axis: Any, cls_name: str) -> int | list[int]:
    """Keras's ``axis`` argument: an int, or a list of ints (from a list or tuple).

    Example:
        >>> standardize_axis((1, 2), "LayerNormalization")
        [1, 2]
    """
    if isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis):
        return list(axis)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    raise TypeError(
        f"Expected an int or a list/tuple of ints for the argument 'axis' of {cls_name}, "
        f"but received: {axis!r}"
    )


def check_axes(layer: Layer, input_shape: Shape) -> Shape:
    """Raise Keras's error when an ``axis`` of ``layer`` is outside ``input_shape``.

    Example:
        >>> check_axes(UnitNormalization(axis=1), (None, 3))
        (None, 3)
    """
    axis = layer.axis  # type: ignore[attr-defined]
    for a in [axis] if isinstance(axis, int) else axis:
        if a >= len(input_shape) or a < -len(input_shape):
            raise ValueError(
                f"Axis {a} is out of bounds for input shape {input_shape}. Received: axis={axis}"
            )
    return input_shape


def positive_axes(axes: int | Sequence[int], rank: int) -> list[int]:
    """Axes as non-negative ints, in the order given.

    Example:
        >>> positive_axes([-1, 1], 3)
        [2, 1]
    """
    return [a % rank for a in ([axes] if isinstance(axes, int) else axes)]


def compute_float(x: Tensor) -> Tensor:
    """``x`` in at least float32: normalization statistics overflow in half precision.

    Example:
        >>> compute_float(torch.ones(1, dtype=torch.float16)).dtype
        torch.float32
    """
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def over_trailing_axes(fn: Any, x: Tensor, axes: list[int], *args: Any, **kwargs: Any) -> Tensor:
    """Apply a "normalize over the last ``len(axes)`` dims" kernel ``fn(x, shape, ...)`` over ``axes``.

    The axes are moved to the end (a view), in the given order, and moved back afterwards.

    Example:
        >>> x = torch.arange(6.0).reshape(1, 3, 2)
        >>> over_trailing_axes(F.layer_norm, x, [1]).shape
        torch.Size([1, 3, 2])
    """
    k = len(axes)
    trailing = list(range(x.ndim - k, x.ndim))
    if axes == trailing:
        return fn(x, tuple(x.shape[-k:]), *args, **kwargs)
    moved = x.movedim(axes, trailing)
    return fn(moved, tuple(moved.shape[-k:]), *args, **kwargs).movedim(trailing, axes)


class AffineNormalization(Layer):
    """Base of the normalization layers with a learned scale ``gamma`` and offset ``beta``.

    Stores the Keras arguments (``center``, ``scale`` and the initializers, regularizers and
    constraints of ``beta``/``gamma``), creates the two weights, and writes them into the config.

    Example:
        >>> layer = AffineNormalization(center=False)
        >>> layer._build_affine((3,)); [n for n, _ in layer.named_parameters()]
        ['gamma']
    """

    supports_masking = True

    def __init__(
        self,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _build_affine(
        self, shape: tuple[int, ...], gamma: bool | None = None, beta: bool | None = None
    ) -> None:
        """Create ``gamma`` (default: when ``scale``) and ``beta`` (default: when ``center``)."""
        self.gamma: nn.Parameter | None
        self.beta: nn.Parameter | None
        gamma = self.scale if gamma is None else gamma
        beta = self.center if beta is None else beta
        for name, wanted in (("gamma", gamma), ("beta", beta)):
            if wanted:
                self.add_weight(
                    shape=shape,
                    initializer=getattr(self, f"{name}_initializer"),
                    regularizer=getattr(self, f"{name}_regularizer"),
                    constraint=getattr(self, f"{name}_constraint"),
                    name=name,
                )
            else:
                self.register_parameter(name, None)

    def reset_parameters(self) -> None:
        """Redraw ``gamma``/``beta`` from their Keras initializers."""
        with torch.no_grad():
            for name in ("gamma", "beta"):
                weight = getattr(self, name)
                if weight is not None:
                    init = getattr(self, f"{name}_initializer")
                    weight.copy_(init(tuple(weight.shape), dtype=weight.dtype))

    def _affine_config(self) -> dict[str, Any]:
        return {
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return check_axes(self, input_shape)


class LayerNormalization(AffineNormalization):
    """Normalize each sample over ``axis``: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Runs ``F.layer_norm``. Keras on torch normalizes the *last* axes whatever ``axis`` says (its
    ``F.layer_norm`` call ignores the axis position); kseq normalizes the axes asked for, as Keras
    does on its other backends.

    Args:
        axis: Axis or list of axes to normalize (default ``-1``). After ``build`` it is a sorted
            list, as in Keras (so ``get_config()["axis"]`` reads ``[-1]``).
        epsilon: Added to the variance (default ``1e-3``).
        center, scale: Whether to learn ``beta`` / ``gamma``.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: As in Keras.
        rms_scaling: Deprecated Keras argument: scale by ``rsqrt(var + epsilon)`` without centering
            (warns). Use ``RMSNormalization``.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> layer = LayerNormalization(axis=(1, 2))
        >>> layer(torch.rand(2, 3, 4)).shape, tuple(layer.gamma.shape)
        (torch.Size([2, 3, 4]), (3, 4))
    """

    def __init__(
        self,
        axis: Axis = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales "
                "the input by the variance, not the root mean square. To correctly use RMS "
                "Normalization, please use `keras.layers.RMSNormalization` instead.",
                stacklevel=2,
            )
        super().__init__(
            center, scale, beta_initializer, gamma_initializer, beta_regularizer,
            gamma_regularizer, beta_constraint, gamma_constraint, **kwargs,
        )  # fmt: skip
        self.axis = standardize_axis(axis, "LayerNormalization")
        self.epsilon = epsilon
        self.rms_scaling = rms_scaling

    def build(self, input_shape: Shape) -> None:
        self.axis = sorted([self.axis] if isinstance(self.axis, int) else self.axis)
        check_axes(self, input_shape)
        self._axes = positive_axes(self.axis, len(input_shape))
        self._build_affine(
            tuple(input_shape[a] for a in self.axis),  # type: ignore[misc]
            gamma=self.scale or self.rms_scaling,
            beta=self.center and not self.rms_scaling,
        )

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        x = compute_float(inputs)
        gamma = None if self.gamma is None else self.gamma.to(x.dtype)
        beta = None if self.beta is None else self.beta.to(x.dtype)
        if self.rms_scaling:
            var = x.var(dim=self._axes, keepdim=True, correction=0)
            out = x * torch.rsqrt(var + self.epsilon)
            if gamma is not None:
                out = over_trailing_axes(_scale_by, out, self._axes, gamma)
        else:
            out = over_trailing_axes(F.layer_norm, x, self._axes, gamma, beta, self.epsilon)
        return out.to(inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "rms_scaling": self.rms_scaling,
            **self._affine_config(),
        }


def _scale_by(x: Tensor, shape: tuple[int, ...], gamma: Tensor) -> Tensor:
    return x * gamma


class GroupNormalization(AffineNormalization):
    """Normalize each sample over groups of channels (``F.group_norm``).

    The channel axis ``axis`` is split into ``groups`` contiguous groups; mean and variance are taken
    over each group and every other non-batch axis. ``groups=1`` is LayerNormalization over all
    axes, ``groups=-1`` (one group per channel) is InstanceNormalization.

    Args:
        groups: Number of groups (default 32); must divide the number of channels.
        axis: The channel axis (default ``-1``, channels_last).
        epsilon: Added to the variance (default ``1e-3``).
        center, scale, beta_initializer, gamma_initializer, beta_regularizer,
        gamma_regularizer, beta_constraint, gamma_constraint: As in Keras.

    Input shape: ``(batch, ..., channels)``. Output shape: same as the input.

    Example:
        >>> layer = GroupNormalization(groups=2)
        >>> layer(torch.rand(2, 5, 4)).shape, tuple(layer.gamma.shape)
        (torch.Size([2, 5, 4]), (4,))
    """

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive integer (or "
                f"`-1` for instance normalization). Received: groups={groups}"
            )
        super().__init__(
            center, scale, beta_initializer, gamma_initializer, beta_regularizer,
            gamma_regularizer, beta_constraint, gamma_constraint, **kwargs,
        )  # fmt: skip
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape: Shape) -> None:
        check_axes(self, input_shape)
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                f"received an input with shape {input_shape}."
            )
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim})."
            )
        if dim % self.groups:
            raise ValueError(
                f"The number of channels ({dim}) must be a multiple of the number of groups "
                f"({self.groups}). Received: groups={self.groups}, input_shape={input_shape}"
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self._channel_axis = self.axis % len(input_shape)
        self._build_affine((dim,))

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        x = compute_float(inputs)
        gamma = None if self.gamma is None else self.gamma.to(x.dtype)
        beta = None if self.beta is None else self.beta.to(x.dtype)
        if x.ndim == 2:  # (batch, channels): group_norm wants a spatial axis
            return F.group_norm(x[..., None], self.groups, gamma, beta, self.epsilon)[..., 0].to(
                inputs.dtype
            )
        out = F.group_norm(x.movedim(self._channel_axis, 1), self.groups, gamma, beta, self.epsilon)
        return out.movedim(1, self._channel_axis).to(inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            **self._affine_config(),
        }


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over ``axis``: ``x / max(||x||, 1e-12)``.

    Args:
        axis: Axis or list of axes the norm is taken over (default ``-1``).

    Example:
        >>> UnitNormalization()(torch.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """

    supports_masking = True

    def __init__(self, axis: Axis = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = standardize_axis(axis, "UnitNormalization")
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        square_sum = inputs.square().sum(dim=self.axis, keepdim=True)
        return inputs * torch.rsqrt(square_sum).clamp(max=1e12)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return check_axes(self, input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class RMSNormalization(Layer):
    """Root-mean-square normalization: ``x * rsqrt(mean(x**2) + epsilon) * scale`` (``F.rms_norm``).

    Args:
        axis: Axis or list of axes to normalize (default ``-1``); a sorted list after ``build``.
        epsilon: Added to the mean square (default ``1e-6``).

    The learned weight is named ``scale`` (initialized to ones), as in Keras.

    Example:
        >>> out = RMSNormalization()(torch.tensor([[3.0, 4.0]]))
        >>> [round(v, 4) for v in out[0].tolist()]
        [0.8485, 1.1314]
    """

    def __init__(self, axis: Axis = -1, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = standardize_axis(axis, "RMSNormalization")
        self.epsilon = epsilon

    def build(self, input_shape: Shape) -> None:
        self.axis = sorted([self.axis] if isinstance(self.axis, int) else self.axis)
        check_axes(self, input_shape)
        self._axes = positive_axes(self.axis, len(input_shape))
        self.add_weight(
            shape=tuple(input_shape[a] for a in self.axis),  # type: ignore[misc]
            initializer="ones",
            name="scale",
        )

    def reset_parameters(self) -> None:
        """Reset ``scale`` to ones."""
        with torch.no_grad():
            self.scale.fill_(1.0)

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        x = compute_float(inputs)
        out = over_trailing_axes(F.rms_norm, x, self._axes, self.scale.to(x.dtype), self.epsilon)
        return out.to(inputs.dtype)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return check_axes(self, input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
