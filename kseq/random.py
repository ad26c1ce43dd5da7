"""``kseq.random``: Keras's random ops (``keras.random``) on torch, and ``SeedGenerator``.

Seeding follows Keras's torch backend exactly: an integer ``seed`` draws from a fresh
``torch.Generator`` seeded with it (the same call gives the same values every time, and the same
values as Keras on the same device); a :class:`SeedGenerator` hands out the seeds
``seed, seed + 1, ...`` one per call (its counter lives on the host, so drawing never syncs).
Without a seed, kseq draws from torch's global generator, which
:func:`kseq.utils.set_random_seed` seeds (Keras uses a hidden global ``SeedGenerator`` instead).

New tensors go to the default device (:func:`kseq.ops.core.default_device`); ``dropout`` and
``shuffle`` follow their input.

Example:
    >>> a = normal((2,), seed=42); b = normal((2,), seed=42)
    >>> bool((a == b).all())
    True
"""

from __future__ import annotations

import random as python_random
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq.core.naming import auto_name
from kseq.ops.core import convert_to_tensor, default_device
from kseq.ops.dtypes import to_torch_dtype

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]


class SeedGenerator:
    """A stream of seeds for random ops: each op given ``seed=generator`` draws new values.

    Args:
        seed: Initial seed (a random one when ``None``).
        name: Name (``seed_generator`` auto-naming when omitted).

    Example:
        >>> gen = SeedGenerator(1337)
        >>> bool((normal((3,), seed=gen) == normal((3,), seed=gen)).all())
        False
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if kwargs.pop("backend", None) is not None or kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs or {'backend': '...'}}")
        self.name = name or auto_name(type(self).__name__)
        self._initial_seed = seed
        if seed is None:
            seed = python_random.randint(1, int(1e9))
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        self._seed = seed
        self._counter = 0
        self._generators: dict[torch.device, torch.Generator] = {}

    @property
    def state(self) -> Tensor:
        """``[seed, counter]`` as an ``int32`` tensor (Keras's ``state`` variable)."""
        return torch.tensor([_as_int32(self._seed), self._counter], dtype=torch.int32)

    def next(self, ordered: bool = True) -> Tensor:
        """The current ``[seed, counter]`` pair; advances the counter.

        Example:
            >>> SeedGenerator(5).next().tolist()
            [5, 0]
        """
        state = self.state
        self._counter += 1
        return state

    def _torch_seed(self) -> int:
        seed = (_as_int32(self._seed) + self._counter) & 0xFFFFFFFF
        self._counter += 1
        return seed

    def get_config(self) -> dict[str, Any]:
        """Keras's config: ``{"seed": ..., "name": ...}``.

        Example:
            >>> SeedGenerator(3, name="gen").get_config()
            {'seed': 3, 'name': 'gen'}
        """
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        """Instantiate from :meth:`get_config`'s output.

        Example:
            >>> SeedGenerator.from_config({"seed": 3, "name": "gen"}).name
            'gen'
        """
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name} seed={self._initial_seed}>"


Seed = int | SeedGenerator | None


def _as_int32(seed: int) -> int:
    """Keras stores seeds as int32 bit patterns."""
    return ((seed & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


def _generator(seed: Seed, device: torch.device) -> torch.Generator | None:
    """The generator a random op draws from (``None``: torch's global one)."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        generator = seed._generators.get(device)
        if generator is None:
            generator = seed._generators[device] = torch.Generator(device=device)
        return generator.manual_seed(seed._torch_seed())
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(
            "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
            f"Received: seed={seed!r} (of type {type(seed)})"
        )
    return torch.Generator(device=device).manual_seed(seed & 0xFFFFFFFF)


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)


def _draw(sampler: Any, *args: Any, shape: tuple[int, ...], dtype: Any, seed: Seed) -> Tensor:
    """``sampler(*args, size=shape, ...)`` on the default device, from the seed's generator."""
    device = default_device()
    return sampler(
        *args,
        size=shape,
        generator=_generator(seed, device),
        dtype=to_torch_dtype(dtype),
        device=device,
    )


def normal(
    shape: Sequence[int],
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Seed = None,
) -> Tensor:
    """Samples from a normal distribution.

    Example:
        >>> normal((2, 3), seed=1).shape
        torch.Size([2, 3])
    """
    return _draw(torch.normal, mean, stddev, shape=_shape(shape), dtype=dtype, seed=seed)


def uniform(
    shape: Sequence[int],
    minval: float = 0.0,
    maxval: float = 1.0,
    dtype: Any = None,
    seed: Seed = None,
) -> Tensor:
    """Samples from the uniform distribution on ``[minval, maxval)``.

    Example:
        >>> x = uniform((100,), minval=2.0, maxval=3.0, seed=1)
        >>> bool(((x >= 2) & (x < 3)).all())
        True
    """
    size = _shape(shape)
    draws = _draw(torch.rand, shape=size or (1,), dtype=dtype, seed=seed)
    out = (maxval - minval) * draws + minval
    return out if size else out[0]


def randint(
    shape: Sequence[int], minval: int, maxval: int, dtype: Any = "int32", seed: Seed = None
) -> Tensor:
    """Random integers in ``[minval, maxval)``.

    Example:
        >>> x = randint((50,), 0, 3, seed=1); bool(((x >= 0) & (x < 3)).all()), x.dtype
        (True, torch.int32)
    """
    return _draw(torch.randint, minval, maxval, shape=_shape(shape), dtype=dtype, seed=seed)


def truncated_normal(
    shape: Sequence[int],
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Seed = None,
) -> Tensor:
    """Normal samples redrawn until within two standard deviations of the mean (Keras's
    algorithm: the first of four draws that lands inside).

    Example:
        >>> bool((truncated_normal((1000,), seed=1).abs() < 2).all())
        True
    """
    size = _shape(shape)
    draws = normal((*size, 4), dtype=dtype, seed=seed)
    first_valid = ((draws > -2) & (draws < 2)).max(-1, keepdim=True)[1]
    return draws.gather(-1, first_valid).squeeze(-1) * stddev + mean


def dropout(
    inputs: Any, rate: float, noise_shape: Sequence[int | None] | None = None, seed: Seed = None
) -> Tensor:
    """Zero each entry with probability ``rate`` and scale the rest by ``1 / (1 - rate)``
    (``noise_shape`` shares the mask along axes of size 1; ``None`` entries take the input's).

    Example:
        >>> x = dropout(torch.ones(1000), 0.5, seed=1)
        >>> sorted(set(x.tolist()))
        [0.0, 2.0]
    """
    x = convert_to_tensor(inputs)
    if rate == 1.0:
        return torch.zeros_like(x)
    if rate == 0.0:
        return x
    unseeded = seed is None or (isinstance(seed, SeedGenerator) and seed._initial_seed is None)
    if unseeded and noise_shape is None:
        return torch.nn.functional.dropout(x, p=rate, training=True)
    keep = 1.0 - rate
    shape = (
        x.shape
        if noise_shape is None
        else [x.shape[i] if d is None else d for i, d in enumerate(noise_shape)]
    )
    probs = torch.full(tuple(shape), keep, device=x.device)
    mask = torch.bernoulli(probs, generator=_generator(seed, x.device)).bool()
    return torch.where(torch.broadcast_to(mask, x.shape), x / keep, torch.zeros_like(x))


def shuffle(x: Any, axis: int = 0, seed: Seed = None) -> Tensor:
    """``x`` shuffled along ``axis``.

    Example:
        >>> sorted(shuffle(torch.arange(5), seed=1).tolist())
        [0, 1, 2, 3, 4]
    """
    x = convert_to_tensor(x)
    axis %= x.ndim
    keys = torch.rand(x.shape[: axis + 1], generator=_generator(seed, x.device), device=x.device)
    order = keys.argsort(axis)
    order = order.reshape(*order.shape, *(1,) * (x.ndim - axis - 1)).expand(x.shape)
    return x.gather(axis, order)


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Seed = None) -> Tensor:
    """Class ids drawn from the categorical distributions given by ``logits`` (one row each).

    Example:
        >>> categorical(torch.tensor([[-1e9, 0.0]]), 3, seed=1).tolist()
        [[1, 1, 1]]
    """
    logits = convert_to_tensor(logits)
    probs = torch.softmax(logits, dim=-1)
    draws = torch.multinomial(
        probs, num_samples, replacement=True, generator=_generator(seed, logits.device)
    )
    return draws.to(to_torch_dtype(dtype))


def _sample(distribution: Any, dtype: Any, seed: Seed) -> Tensor:
    """Keras samples these distributions from torch's *global* generator, seeded for the call;
    the global generator's state is restored afterwards."""
    device = default_device()
    forked = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=forked):
        if seed is not None:
            torch.manual_seed(
                seed._torch_seed() if isinstance(seed, SeedGenerator) else seed & 0xFFFFFFFF
            )
        return distribution.sample().to(to_torch_dtype(dtype))


def gamma(shape: Sequence[int], alpha: Any, dtype: Any = None, seed: Seed = None) -> Tensor:
    """Samples from a Gamma(``alpha``, 1) distribution.

    Example:
        >>> bool((gamma((10,), alpha=2.0, seed=1) > 0).all())
        True
    """
    size = _shape(shape)
    concentration = torch.broadcast_to(convert_to_tensor(alpha, dtype="float32"), size)
    rate = torch.ones(size, device=concentration.device)
    return _sample(torch.distributions.Gamma(concentration, rate), dtype, seed)


def binomial(
    shape: Sequence[int], counts: Any, probabilities: Any, dtype: Any = None, seed: Seed = None
) -> Tensor:
    """Samples from Binomial(``counts``, ``probabilities``) distributions.

    Example:
        >>> binomial((4,), counts=5, probabilities=1.0, seed=1).tolist()
        [5.0, 5.0, 5.0, 5.0]
    """
    size = _shape(shape)
    total = torch.broadcast_to(convert_to_tensor(counts, dtype="float32"), size)
    probs = torch.broadcast_to(convert_to_tensor(probabilities, dtype="float32"), size)
    return _sample(torch.distributions.Binomial(total_count=total, probs=probs), dtype, seed)


def beta(
    shape: Sequence[int], alpha: Any, beta: Any, dtype: Any = None, seed: Seed = None
) -> Tensor:
    """Samples from Beta(``alpha``, ``beta``) distributions.

    Example:
        >>> x = beta((10,), alpha=2.0, beta=3.0, seed=1); bool(((x > 0) & (x < 1)).all())
        True
    """
    size = _shape(shape)
    a = torch.broadcast_to(convert_to_tensor(alpha, dtype="float32"), size)
    b = torch.broadcast_to(convert_to_tensor(beta, dtype="float32"), size)
    return _sample(torch.distributions.Beta(concentration1=a, concentration0=b), dtype, seed)
