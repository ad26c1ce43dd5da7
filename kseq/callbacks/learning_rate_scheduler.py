"""``LearningRateScheduler``: set the learning rate at the start of every epoch from a
``schedule(epoch, lr)`` function, and log it at the end of the epoch (``"learning_rate"``).

Example:
    >>> import numpy as np, math, kseq
    >>> def scheduler(epoch, lr):
    ...     return lr if epoch < 10 else lr * math.exp(-0.1)
    >>> model = kseq.Sequential([kseq.Input(shape=(20,)), kseq.layers.Dense(1)])
    >>> model.compile(kseq.optimizers.SGD(), loss="mse")
    >>> history = model.fit(np.arange(100.0).reshape(5, 20), np.zeros(5), epochs=15,
    ...                     callbacks=[LearningRateScheduler(scheduler)], verbose=0)
    >>> round(model.optimizer.learning_rate, 5)
    0.00607
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from kseq.callbacks._learning_rate import log_learning_rate, read_learning_rate
from kseq.callbacks.callback import Callback, Logs
from kseq.core.io import print_msg

__all__ = ["LearningRateScheduler"]


class LearningRateScheduler(Callback):
    """Learning rate scheduler.

    At the beginning of every epoch, calls ``schedule(epoch, lr)`` (``epoch`` 0-based, ``lr`` the
    current learning rate as a float) and sets the optimizer's learning rate to the result. A
    one-argument ``schedule(epoch)`` is accepted too (Keras's legacy API).

    Args:
        schedule: ``(epoch, lr) -> float``. It must return a Python or NumPy float.
        verbose: ``1`` prints ``"Epoch N: LearningRateScheduler setting learning rate to X."``.

    Raises:
        ValueError: If ``schedule`` returns something else than a float, or the optimizer has no
            ``learning_rate``.

    Example:
        >>> LearningRateScheduler(lambda epoch, lr: lr * 0.5).verbose
        0
    """

    def __init__(self, schedule: Callable[..., Any], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer: Any, epoch: int) -> Any:
        current = read_learning_rate(optimizer)
        try:
            learning_rate = self.schedule(epoch, current)
        except TypeError:  # the legacy one-argument ``schedule(epoch)``
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {learning_rate}"
            )
        optimizer.learning_rate = float(learning_rate)
        return learning_rate

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        learning_rate = self._update_optimizer_lr(self.model.optimizer, epoch)
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}."
            )

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        log_learning_rate(self.model, logs)
