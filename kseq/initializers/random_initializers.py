"""Random initializers: the normal/uniform draws, ``VarianceScaling`` and its fixed-argument
family (Glorot, He, Lecun) and ``Orthogonal``, as in Keras's ``random_initializers``.

``seed=None`` draws from torch's global RNG (``kseq.utils.set_random_seed`` makes it reproducible);
an integer ``seed`` gives the same values on every call, as in Keras.

Example:
    >>> bool(torch.equal(RandomNormal(seed=3)((4,)), RandomNormal(seed=3)((4,))))
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from kseq.initializers.base import (
    Initializer,
    ShapeLike,
    compute_fans,
    float_dtype,
    truncated_normal,
)


class RandomInitializer(Initializer):
    """Base of the random initializers: handles ``seed`` (int or ``None``)."""

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and not isinstance(seed, int):
            raise ValueError(
                "`seed` argument should be an integer or None (kseq has no SeedGenerator seeds "
                f"for initializers). Received: seed={seed!r}"
            )
        self.seed = seed

    def _generator(self) -> torch.Generator | None:
        if self.seed is None:
            return None
        return torch.Generator().manual_seed(self.seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Normal distribution (``mean=0.0, stddev=0.05``).

    Example:
        >>> RandomNormal(seed=1)((3,)).shape
        torch.Size([3])
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        out = torch.empty(tuple(shape), dtype=float_dtype(dtype))
        return out.normal_(self.mean, self.stddev, generator=self._generator())

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """Normal distribution truncated to two standard deviations (``mean=0.0, stddev=0.05``).

    Example:
        >>> bool(TruncatedNormal(stddev=1.0, seed=0)((1000,)).abs().max() <= 2.0)
        True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        return truncated_normal(
            tuple(shape), self.mean, self.stddev, float_dtype(dtype), self._generator()
        )

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
    """Uniform distribution on ``[minval, maxval)`` (``-0.05, 0.05``).

    Example:
        >>> bool(RandomUniform(0.0, 1.0, seed=0)((100,)).min() >= 0.0)
        True
    """

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ) -> None:
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        out = torch.empty(tuple(shape), dtype=float_dtype(dtype))
        return out.uniform_(self.minval, self.maxval, generator=self._generator())

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class VarianceScaling(RandomInitializer):
    """Scale-aware initializer: ``scale / n`` variance with ``n`` from ``mode``.

    Example:
        >>> VarianceScaling(mode="fan_avg", distribution="uniform")((4, 4)).shape
        torch.Size([4, 4])
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"Invalid `mode` argument: {mode}. Please use one of {{'fan_in', 'fan_out', 'fan_avg'}}"
            )
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. Please use one of "
                "{'uniform', 'truncated_normal', 'untruncated_normal'}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        shape, dt, gen = tuple(shape), float_dtype(dtype), self._generator()
        if self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a unit normal truncated to [-2, 2].
            return truncated_normal(shape, 0.0, math.sqrt(scale) / 0.87962566103423978, dt, gen)
        if self.distribution == "untruncated_normal":
            return torch.empty(shape, dtype=dt).normal_(0.0, math.sqrt(scale), generator=gen)
        limit = math.sqrt(3.0 * scale)
        return torch.empty(shape, dtype=dt).uniform_(-limit, limit, generator=gen)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale, "mode": self.mode, "distribution": self.distribution,
            **super().get_config(), "input_axes": self.input_axes, "output_axes": self.output_axes,
        }  # fmt: skip


class _FixedVarianceScaling(VarianceScaling):
    _args: ClassVar[tuple[float, str, str]] = (1.0, "fan_in", "truncated_normal")

    def __init__(
        self,
        seed: int | None = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        scale, mode, distribution = self._args
        super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))`` (Keras's default kernel init).

    Example:
        >>> GlorotUniform(seed=0)((2, 3)).shape
        torch.Size([2, 3])
    """

    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``.

    Example:
        >>> GlorotNormal(seed=0)((2, 3)).shape
        torch.Size([2, 3])
    """

    _args = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / fan_in)``.

    Example:
        >>> HeNormal(seed=0)((2, 3)).shape
        torch.Size([2, 3])
    """

    _args = (2.0, "fan_in", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform with ``limit = sqrt(6 / fan_in)``.

    Example:
        >>> HeUniform(seed=0)((2, 3)).shape
        torch.Size([2, 3])
    """

    _args = (2.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(1 / fan_in)``.

    Example:
        >>> LecunNormal(seed=0)((2, 3)).shape
        torch.Size([2, 3])
    """

    _args = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform with ``limit = sqrt(3 / fan_in)``.

    Example:
        >>> LecunUniform(seed=0)((2, 3)).shape
        torch.Size([2, 3])
    """

    _args = (1.0, "fan_in", "uniform")


class Orthogonal(RandomInitializer):
    """Orthogonal matrix from the QR decomposition of a normal matrix (Saxe et al.), times ``gain``.

    Example:
        >>> q = Orthogonal(seed=0)((4, 4))
        >>> bool(torch.allclose(q @ q.T, torch.eye(4), atol=1e-5))
        True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={tuple(shape)} of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = torch.empty((max(rows, cols), min(rows, cols)), dtype=torch.float64)
        a.normal_(generator=self._generator())
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(tuple(shape))).to(float_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, **super().get_config()}
