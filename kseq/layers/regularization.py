"""Regularization layers: ``SpatialDropout1D/2D/3D``, ``GaussianNoise``, ``GaussianDropout``,
``AlphaDropout`` and ``ActivityRegularization`` (``Dropout`` itself is in ``core.py``).

The random layers act only in training (``fit``, ``model.train()`` or ``training=True``) and are
the identity in inference. With ``seed=`` a layer draws from its own ``torch.Generator`` (one per
device), so its noise is reproducible and independent of the global RNG; without it, from torch's
global RNG (seeded by ``kseq.utils.set_random_seed``). Random values cannot match Keras's draw for
draw; their distributions do.

Example:
    >>> import torch
    >>> GaussianNoise(0.1).eval()(torch.ones(2)).tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from kseq import config as config_mod
from kseq import regularizers
from kseq.layers.core import Dropout
from kseq.layers.layer import InputSpec, Layer, Shape

__all__ = [
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
]

# SELU's constants (Klambauer et al., 2017), which AlphaDropout keeps the statistics of.
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def _check_rate(rate: Any, arg: str = "rate") -> float:
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
        raise ValueError(
            f"Invalid value received for argument `{arg}`. Expected a float value between 0 and 1. "
            f"Received: {arg}={rate}"
        )
    return rate


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: the mask is shared over every spatial axis."""

    _rank: int = 1

    def __init__(
        self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any
    ) -> None:
        self.data_format = config_mod.standardize_data_format(data_format)
        ones = (1,) * self._rank
        channels_first = self.data_format == "channels_first"
        noise_shape = (None, None, *ones) if channels_first else (None, *ones, None)
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def get_config(self) -> dict[str, Any]:
        # Keras's spatial dropouts save exactly these keys (no `trainable`, no `noise_shape`).
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
        if self._rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drop entire 1D feature maps (channels) of a ``(batch, steps, channels)`` input.

    Adjacent timesteps are strongly correlated, so regular dropout barely regularizes them; this
    zeroes a channel at every step at once and scales the kept ones by ``1 / (1 - rate)``.

    Args:
        rate: Fraction of channels to drop, in ``[0, 1]``.
        seed: Optional seed of the layer's own generator.

    Example:
        >>> layer = SpatialDropout1D(0.5, seed=1)
        >>> y = layer(torch.ones(1, 4, 3), training=True)
        >>> bool((y == y[:, :1]).all())  # one decision per channel, shared over the steps
        True
    """

    _rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, data_format="channels_last", seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drop entire 2D feature maps (channels) of an image batch.

    Args:
        rate: Fraction of channels to drop, in ``[0, 1]``.
        data_format: ``"channels_last"`` (default, ``(batch, rows, cols, channels)``) or
            ``"channels_first"``.
        seed: Optional seed of the layer's own generator.

    Example:
        >>> SpatialDropout2D(0.5)(torch.ones(2, 4, 4, 3), training=True).shape
        torch.Size([2, 4, 4, 3])
    """

    _rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drop entire 3D feature maps (channels) of a volume batch.

    Args:
        rate: Fraction of channels to drop, in ``[0, 1]``.
        data_format: ``"channels_last"`` (default, ``(batch, d1, d2, d3, channels)``) or
            ``"channels_first"``.
        seed: Optional seed of the layer's own generator.

    Example:
        >>> SpatialDropout3D(0.5)(torch.ones(1, 2, 2, 2, 3), training=True).shape
        torch.Size([1, 2, 2, 2, 3])
    """

    _rank = 3


class _SeededNoise(Layer):
    """A weightless random layer with an optional private generator (shared with ``Dropout``)."""

    supports_masking = True

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self._mark_built()

    def _normal(self, like: Tensor, mean: float, stddev: float) -> Tensor:
        noise = torch.randn(
            like.shape,
            generator=self._seeded_generator(like.device),
            device=like.device,
            dtype=like.dtype,
        )
        return noise * stddev + mean


class GaussianNoise(_SeededNoise):
    """Add zero-centered Gaussian noise of standard deviation ``stddev`` in training.

    Args:
        stddev: Standard deviation of the noise, in ``[0, 1]`` (Keras's bounds).
        seed: Optional seed of the layer's own generator.

    Example:
        >>> y = GaussianNoise(0.5, seed=0)(torch.zeros(10000), training=True)
        >>> round(y.std().item(), 1)
        0.5
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.stddev = _check_rate(stddev, "stddev")

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        training = self.training if training is None else training
        if not training or self.stddev == 0:
            return inputs
        return inputs + self._normal(inputs, 0.0, self.stddev)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_SeededNoise):
    """Multiply by ``1``-centered Gaussian noise of stddev ``sqrt(rate / (1 - rate))`` in training.

    The expected value of the output equals the input, as with ``Dropout(rate)``, whose variance it
    matches.

    Args:
        rate: Drop probability of the equivalent ``Dropout``, in ``[0, 1)``.
        seed: Optional seed of the layer's own generator.

    Example:
        >>> y = GaussianDropout(0.5, seed=0)(torch.ones(10000), training=True)
        >>> round(y.mean().item(), 1), round(y.std().item(), 1)
        (1.0, 1.0)
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate)

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        training = self.training if training is None else training
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            raise ValueError(
                f"GaussianDropout layer '{self.name}' cannot train with rate=1 (the noise's standard "
                "deviation sqrt(rate / (1 - rate)) is infinite). Use a rate below 1."
            )
        return inputs * self._normal(inputs, 1.0, math.sqrt(self.rate / (1.0 - self.rate)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Dropout):
    """Dropout that keeps the mean and variance of its inputs, for self-normalizing (SELU) nets.

    Dropped units are set to SELU's negative saturation value ``-alpha * scale`` and the result is
    affinely corrected: ``a * x + b`` with ``a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5``
    and ``b = -a * alpha_p * rate``.

    Args:
        rate: Fraction of units to drop, in ``[0, 1]``.
        noise_shape: Shape of the keep mask, broadcast over the input (``None`` entries: the input's).
        seed: Optional seed of the layer's own generator.

    Example:
        >>> x = torch.randn(20000, generator=torch.Generator().manual_seed(1))
        >>> y = AlphaDropout(0.2, seed=0)(x, training=True)
        >>> round(y.mean().item(), 1), round(y.std().item(), 1)
        (0.0, 1.0)
    """

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        training = self.training if training is None else training
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape if self.noise_shape is None else [
            inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape)
        ]  # fmt: skip
        uniform = torch.rand(
            tuple(shape),
            generator=self._seeded_generator(inputs.device),
            device=inputs.device,
            dtype=inputs.dtype,
        )
        kept = (uniform >= self.rate).to(inputs.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * kept + alpha_p * (1 - kept)) + b


class ActivityRegularization(Layer):
    """Identity that adds ``l1 * sum(|x|) + l2 * sum(x**2)`` of its input (divided by the batch size,
    as Keras does for every activity regularizer) to the model's losses.

    Args:
        l1: L1 factor (default 0).
        l2: L2 factor (default 0).

    Example:
        >>> layer = ActivityRegularization(l2=0.5)
        >>> _ = layer(torch.ones(2, 3)); [round(float(v), 3) for v in layer.losses]
        [1.5]
    """

    supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return inputs

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
