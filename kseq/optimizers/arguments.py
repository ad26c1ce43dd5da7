"""The arguments every optimizer shares: their validation, and the learning rate's value.

``Optimizer.__init__`` checks its Keras arguments here (the same errors and messages as Keras's
``BaseOptimizer``), and the ``learning_rate`` property evaluates a float, a step-based schedule or a
zero-argument callable here, on the host, so no step needs a device sync.

Example:
    >>> check_learning_rate(1), current_learning_rate(0.5, iterations=10)
    (1.0, 0.5)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from torch import Tensor

from kseq.optimizers import schedules


def check_arguments(
    owner: str,
    kwargs: dict[str, Any],
    clipnorm: float | None,
    clipvalue: float | None,
    global_clipnorm: float | None,
    use_ema: bool,
    ema_momentum: float,
    ema_overwrite_frequency: int | None,
    gradient_accumulation_steps: int | None,
) -> None:
    """Raise Keras's errors for invalid optimizer arguments (``owner``: the class name).

    ``kwargs`` are the unrecognized keyword arguments; Keras 2's ``decay`` is dropped from it with
    a warning (attributed to the optimizer's caller).

    Example:
        >>> check_arguments("SGD", {"lr": 0.1}, None, None, None, False, 0.99, None, None)
        Traceback (most recent call last):
        ...
        ValueError: Argument(s) not recognized: {'lr': 0.1}. The Keras 2 argument `lr` is now `learning_rate`: write SGD(learning_rate=0.1).
    """
    if kwargs.pop("decay", None) is not None:
        # stacklevel 3: the code that constructed the optimizer, as when this ran in __init__.
        warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=3)
    if "lr" in kwargs:
        raise ValueError(
            f"Argument(s) not recognized: {kwargs}. The Keras 2 argument `lr` is now "
            f"`learning_rate`: write {owner}(learning_rate={kwargs['lr']!r})."
        )
    if kwargs:
        raise ValueError(f"Argument(s) not recognized: {kwargs}")
    if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError(
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
            f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
        )
    if gradient_accumulation_steps is not None and not gradient_accumulation_steps >= 2:
        raise ValueError(
            "`gradient_accumulation_steps` must be an integer >= 2. Received: "
            f"gradient_accumulation_steps={gradient_accumulation_steps}"
        )
    if use_ema and not 0 <= ema_momentum <= 1:
        raise ValueError(
            f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}"
        )
    if (
        use_ema
        and ema_overwrite_frequency
        and (not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1)
    ):
        raise ValueError(
            "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
            f"ema_overwrite_frequency={ema_overwrite_frequency}"
        )


def check_learning_rate(value: Any) -> Any:
    """A schedule or callable as is, a number (or one-element tensor) as a float; else Keras's error.

    Example:
        >>> check_learning_rate(3)
        3.0
        >>> check_learning_rate("fast")
        Traceback (most recent call last):
        ...
        ValueError: Argument `learning_rate` should be float, or an instance of LearningRateSchedule, ...
    """
    if isinstance(value, schedules.LearningRateSchedule) or callable(value):
        return value
    if isinstance(value, Tensor):
        value = value.item()  # host sync: once, when the user sets a tensor learning rate
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a callable "
            "(that takes in the current iteration value and returns the corresponding learning rate value). "
            f"Received instead: learning_rate={value!r}"
        )
    return float(value)


def current_learning_rate(value: Any, iterations: int) -> float:
    """The learning rate as a float: a schedule evaluated at ``iterations``, a callable called.

    Example:
        >>> current_learning_rate(schedules.ExponentialDecay(1.0, 1, 0.5), iterations=2)
        0.25
    """
    if isinstance(value, schedules.LearningRateSchedule):
        return float(value(iterations))
    if callable(value):
        return float(value())
    return float(value)
