"""Step-based learning-rate schedules (``keras.optimizers.schedules``).

A schedule is called with the optimizer's ``iterations`` (a Python int) and returns the learning
rate as a float, on the host: no device work, no sync.

Example:
    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 / 2 ** (step // 100)
    >>> Halving()(250)
    0.025
"""

from __future__ import annotations

from typing import Any

from kseq.saving.serialization import deserialize_keras_object, serialize_keras_object


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


_ALL: dict[str, Any] = {"LearningRateSchedule": LearningRateSchedule}


def register_builtin(*classes: type[LearningRateSchedule]) -> None:
    """Add built-in schedule classes to the name table used by ``deserialize``."""
    for cls in classes:
        _ALL[cls.__name__] = cls


def serialize(schedule: LearningRateSchedule) -> dict[str, Any] | None:
    """Config dict of a schedule.

    Example:
        >>> serialize(None) is None
        True
    """
    return serialize_keras_object(schedule, "keras.optimizers.schedules", _ALL)


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> LearningRateSchedule:
    """Inverse of :func:`serialize`.

    Example:
        >>> deserialize({"class_name": "LearningRateSchedule", "config": {}}).__class__.__name__
        'LearningRateSchedule'
    """
    return deserialize_keras_object(config, "learning rate schedule", _ALL, custom_objects)
