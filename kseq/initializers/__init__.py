"""Keras weight initializers, producing tensors in Keras layout (Dense kernel ``(in, out)``).

Layers call an initializer with the *Keras* shape of a weight and copy the result into their torch
parameter (transposing where torch's layout differs), so a seeded Keras initializer gives the same
statistics here. ``seed=None`` draws from torch's global RNG (``kseq.utils.set_random_seed`` makes it
reproducible); an integer ``seed`` gives the same values on every call, as in Keras.

Example:
    >>> w = get("glorot_uniform")((64, 32))
    >>> tuple(w.shape), bool(w.abs().max() <= (6 / 96) ** 0.5)
    ((64, 32), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from kseq import config
from kseq.core.naming import to_snake_case
from kseq.registry.serialization import (
    deserialize_keras_object,
    resolve_class,
    serialize_keras_object,
)

ShapeLike = Sequence[int]


def _dtype(dtype: Any) -> torch.dtype:
    if dtype is None:
        return config.floatx_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    return getattr(torch, str(dtype))


def compute_fans(
    shape: ShapeLike,
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Keras's ``(fan_in, fan_out)`` for a weight shape in Keras layout.

    Conv kernels ``(..., in, out)`` multiply by the receptive field size.

    Example:
        >>> compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``__call__(shape, dtype=None) -> Tensor`` plus ``get_config``.

    Example:
        >>> class Twos(Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return torch.full(tuple(shape), 2.0)
        >>> Twos()((2,))
        tensor([2., 2.])
    """

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        raise NotImplementedError(
            f"Initializer subclass {type(self).__name__} must implement __call__."
        )

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def clone(self) -> Initializer:
        return type(self).from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Constant(Initializer):
    """Fill with a constant ``value``.

    Example:
        >>> Constant(3.0)((2,))
        tensor([3., 3.])
    """

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        return torch.full(tuple(shape), float(self.value), dtype=_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Zeros(Initializer):
    """Fill with zeros.

    Example:
        >>> Zeros()((2,))
        tensor([0., 0.])
    """

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        return torch.zeros(tuple(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    """Fill with ones.

    Example:
        >>> Ones()((2,))
        tensor([1., 1.])
    """

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        return torch.ones(tuple(shape), dtype=_dtype(dtype))


class Identity(Initializer):
    """``gain * eye`` for a 2D shape.

    Example:
        >>> Identity()((2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={tuple(shape)} of rank {len(shape)}."
            )
        return self.gain * torch.eye(*shape, dtype=_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


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
        out = torch.empty(tuple(shape), dtype=_dtype(dtype))
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
        return _truncated_normal(
            tuple(shape), self.mean, self.stddev, _dtype(dtype), self._generator()
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
        out = torch.empty(tuple(shape), dtype=_dtype(dtype))
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
        shape, dt, gen = tuple(shape), _dtype(dtype), self._generator()
        if self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a unit normal truncated to [-2, 2].
            return _truncated_normal(shape, 0.0, math.sqrt(scale) / 0.87962566103423978, dt, gen)
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
        return (self.gain * q.reshape(tuple(shape))).to(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, **super().get_config()}


class STFT(Initializer):
    """Conv kernels computing a short-time Fourier transform (real or imaginary part).

    ``window`` is a torch window name (``"hann"``, ``"hamming"``, ``"blackman"``, ``"bartlett"``),
    a 1-D array, or ``None``. Shape is ``(frame_length, 1, fft_length // 2 + 1)``.

    Example:
        >>> STFT("real", "hann")((16, 1, 9)).shape
        torch.Size([16, 1, 9])
    """

    _WINDOWS: ClassVar[dict[str, Any]] = {"hann": torch.hann_window, "hamming": torch.hamming_window,
                "blackman": torch.blackman_window, "bartlett": torch.bartlett_window}  # fmt: skip

    def __init__(
        self,
        side: str = "real",
        window: Any = "hann",
        scaling: str | None = "density",
        periodic: bool = False,
    ) -> None:
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str) and window not in self._WINDOWS:
            raise ValueError(
                f"Unknown window {window!r}; kseq supports {sorted(self._WINDOWS)} or an array."
            )
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling}"
            )
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        frame_length, _, fft_length = shape
        dt = _dtype(dtype)
        freq = torch.arange(fft_length, dtype=torch.float64).reshape(1, 1, -1) / (
            (fft_length - 1) * 2
        )
        time = torch.arange(frame_length, dtype=torch.float64).reshape(-1, 1, 1)
        args = -2 * time * freq * math.pi
        kernel = torch.cos(args) if self.side == "real" else torch.sin(args)
        if self.window is not None:
            if isinstance(self.window, str):
                win = self._WINDOWS[self.window](
                    frame_length, periodic=self.periodic, dtype=torch.float64
                )
            else:
                win = torch.as_tensor(self.window, dtype=torch.float64)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    f"The shape of `window` must be equal to [frame_length]. Received: window shape={tuple(win.shape)}"
                )
            win = win.reshape(-1, 1, 1)
            scale = {"density": win.square().sum().sqrt(), "spectrum": win.abs().sum(), None: 1.0}[
                self.scaling
            ]
            kernel = kernel * win / scale
        return kernel.to(dt)

    def get_config(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "window": self.window,
            "periodic": self.periodic,
            "scaling": self.scaling,
        }


def _truncated_normal(
    shape: tuple[int, ...],
    mean: float,
    stddev: float,
    dtype: torch.dtype,
    generator: torch.Generator | None,
) -> Tensor:
    out = torch.empty(shape, dtype=dtype)
    torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=generator)
    return out.mul_(stddev).add_(mean)


_CLASSES: tuple[type[Initializer], ...] = (
    Constant, Zeros, Ones, Identity, RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling,
    GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal, STFT,
)  # fmt: skip
_ALL: dict[str, type[Initializer]] = {cls.__name__: cls for cls in _CLASSES}
_ALL.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
_ALL.update({
    "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal, "STFTInitializer": STFT,
    "normal": RandomNormal, "uniform": RandomUniform, "one": Ones, "zero": Zeros,
})  # fmt: skip


def get(identifier: str | dict[str, Any] | Initializer | Any | None) -> Any:
    """Resolve a name (``"glorot_uniform"``, ``"Zeros"``), config dict, instance or callable.

    Example:
        >>> type(get("he_normal")).__name__, type(get({"class_name": "Constant", "config": {"value": 2}})).__name__
        ('HeNormal', 'Constant')
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize_keras_object(identifier, "initializer", _ALL)
    if isinstance(identifier, str):
        return resolve_class("initializer", identifier, _ALL)()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def serialize(initializer: Any) -> dict[str, Any] | None:
    """A JSON-able config dict (``{"class_name": ..., "config": ...}``) for an initializer.

    Example:
        >>> serialize(Constant(2.0))
        {'module': 'keras.initializers', 'class_name': 'Constant', 'config': {'value': 2.0}, 'registered_name': None}
    """
    return serialize_keras_object(initializer, "keras.initializers", _ALL)


def deserialize(config: dict[str, Any] | str) -> Any:
    """Inverse of :func:`serialize`.

    Example:
        >>> type(deserialize({"class_name": "Zeros", "config": {}})).__name__
        'Zeros'
    """
    if config is None:
        return None
    return deserialize_keras_object(config, "initializer", _ALL)
