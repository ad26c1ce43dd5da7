"""Step-based learning-rate schedules (``keras.optimizers.schedules``).

A schedule is called with the optimizer's ``iterations`` (a Python int) and returns the learning
rate as a float, on the host: no device work, no sync.

Keras evaluates the same formulas in float32 tensor ops; kseq evaluates them exactly in Python
floats. The values agree to ``1e-6`` relative except where Keras's float32 arithmetic cancels
(the last steps of a cosine or polynomial decay to zero, ``CosineDecayRestarts`` with
``t_mul=1``): there Keras is off by a few float32 rounding units of the *peak* rate (measured:
at most ``4e-7 * initial_learning_rate`` over steps 0..1000), and kseq is the exact value.

``serialize`` gives a schedule's config dict (``None`` stays ``None``) and ``deserialize`` is its
inverse.

Example:
    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 / 2 ** (step // 100)
    >>> Halving()(250)
    0.025
    >>> serialize(None) is None
    True
    >>> type(deserialize({"class_name": "LearningRateSchedule", "config": {}})).__name__
    'LearningRateSchedule'
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

from kseq.registry.namespace import Namespace as _Namespace

# Importable from here as before (kseq's public API snapshot lists them).
from kseq.registry.serialization import deserialize_keras_object as deserialize_keras_object
from kseq.registry.serialization import serialize_keras_object as serialize_keras_object


class LearningRateSchedule:
    """Base class: implement ``__call__(step) -> float`` and ``get_config``.

    Example:
        >>> isinstance(LearningRateSchedule(), LearningRateSchedule)
        True
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()`."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)


_SCHEDULES = _Namespace("learning rate schedule", "schedules", "keras.optimizers.schedules")
_SCHEDULES.register(LearningRateSchedule)
_ALL = _SCHEDULES.table
serialize = _SCHEDULES.serialize
deserialize = _SCHEDULES.deserialize


def register_builtin(*classes: type[LearningRateSchedule]) -> None:
    """Add built-in schedule classes to the name table used by ``deserialize``.

    Example:
        >>> register_builtin(LearningRateSchedule); "LearningRateSchedule" in _ALL
        True
    """
    _SCHEDULES.register(*classes)


def _check_decay_steps(name: str, value: Any) -> None:
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class _StepDecay(LearningRateSchedule):
    """Shared arguments of the two ``decay_rate`` schedules, and their progress
    ``step / decay_steps`` (floored when ``staircase``)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool,
        name: str,
    ) -> None:
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name
        _check_decay_steps("decay_steps", decay_steps)

    def _progress(self, step: int) -> float:
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}  # fmt: skip


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent floored when
    ``staircase``).

    Example:
        >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
        0.025
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]`` (``values[0]`` up to and
    including ``boundaries[0]``, ``values[-1]`` after the last boundary).

    Example:
        >>> schedule = PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
        >>> schedule(100), schedule(101), schedule(500)
        (1.0, 0.5, 0.1)
    """

    def __init__(
        self, boundaries: Sequence[float], values: Sequence[float], name: str = "PiecewiseConstant"
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} "
                f"of length {len(values)}."
            )
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step: int) -> float:
        return float(self.values[bisect.bisect_left(self.boundaries, step)])

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` over
    ``decay_steps``: ``(initial - end) * (1 - step / decay_steps) ** power + end``.

    With ``cycle=True`` the decay restarts with ``decay_steps`` multiplied by
    ``ceil(step / decay_steps)``; otherwise the rate stays at ``end_learning_rate``.

    Example:
        >>> schedule = PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.0)
        >>> schedule(50), schedule(150)
        (0.05, 0.0)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = (
            end_learning_rate,
            power,
            cycle,
            name,
        )
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step: int) -> float:
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, self.decay_steps)
        p = step / decay_steps
        span = self.initial_learning_rate - self.end_learning_rate
        return span * (1.0 - p) ** self.power + self.end_learning_rate

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power,
                "cycle": self.cycle, "name": self.name}  # fmt: skip


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the ratio floored when
    ``staircase``).

    Example:
        >>> InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)(10)
        0.05
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step))


def _cosine(fraction: float, alpha: float) -> float:
    """``(1 - alpha) * 0.5 * (1 + cos(pi * fraction)) + alpha``."""
    return (1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * fraction)) + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR without restarts) from ``initial_learning_rate`` to
    ``alpha * initial_learning_rate`` over ``decay_steps``, after an optional linear warmup from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps`` (the decay then starts
    from ``warmup_target``).

    Example:
        >>> schedule = CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10)
        >>> round(schedule(5), 4), round(schedule(10), 4), round(schedule(60), 4)
        (0.05, 0.1, 0.05)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        self.initial_learning_rate, self.decay_steps, self.alpha = (
            initial_learning_rate,
            decay_steps,
            alpha,
        )
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            fraction = min(step, self.decay_steps) / self.decay_steps
            return self.initial_learning_rate * _cosine(fraction, self.alpha)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (step / self.warmup_steps) + self.initial_learning_rate
        fraction = (step - self.warmup_steps) / self.decay_steps
        return self.warmup_target * _cosine(fraction, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}  # fmt: skip


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): the ``i``-th period lasts
    ``first_decay_steps * t_mul ** i`` steps and starts from
    ``initial_learning_rate * m_mul ** i``.

    Example:
        >>> schedule = CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
        >>> round(schedule(0), 4), round(schedule(10), 4), round(schedule(30), 4)
        (0.1, 0.05, 0.025)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        self.initial_learning_rate, self.first_decay_steps = (
            initial_learning_rate,
            first_decay_steps,
        )
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name
        _check_decay_steps("first_decay_steps", first_decay_steps)

    def __call__(self, step: int) -> float:
        fraction = step / self.first_decay_steps
        t_mul = self._t_mul
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            done = (1.0 - t_mul**restart) / (1.0 - t_mul)
            fraction = (fraction - done) / t_mul**restart
        decayed = 0.5 * self._m_mul**restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1.0 - self.alpha) * decayed + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}  # fmt: skip


register_builtin(
    ExponentialDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
    InverseTimeDecay,
    CosineDecay,
    CosineDecayRestarts,
)
