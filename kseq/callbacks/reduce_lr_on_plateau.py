"""``ReduceLROnPlateau``: divide the learning rate when a monitored quantity stops improving.

It reads and writes ``model.optimizer.learning_rate`` (a Python float on kseq optimizers, and the
``lr`` of every parameter group of a wrapped ``torch.optim`` optimizer), at epoch end only, and
adds ``"learning_rate"`` to the epoch logs as Keras does (so ``History`` records it).

Example:
    >>> from types import SimpleNamespace
    >>> from kseq.optimizers import SGD
    >>> model = SimpleNamespace(optimizer=SGD(learning_rate=0.5), metrics=[])
    >>> cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    >>> cb.set_model(model); cb.on_train_begin()
    >>> for epoch, loss in enumerate([1.0, 1.0, 1.0]):
    ...     cb.on_epoch_end(epoch, {"loss": loss})
    >>> model.optimizer.learning_rate
    0.125
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kseq.callbacks._learning_rate import log_learning_rate, read_learning_rate
from kseq.callbacks.callback import Logs
from kseq.callbacks.monitor_callback import MonitorCallback
from kseq.core.io import print_msg

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(MonitorCallback):
    """Reduce the learning rate when a metric has stopped improving.

    After ``patience`` epochs without an improvement of more than ``min_delta``, the learning
    rate becomes ``max(lr * factor, min_lr)``; then ``cooldown`` epochs pass before the counting
    resumes.

    Args:
        monitor: Quantity to watch in the epoch logs. Defaults to ``"val_loss"``.
        factor: ``new_lr = lr * factor``; must be ``< 1``.
        patience: Epochs without improvement before the learning rate is reduced.
        verbose: ``1`` prints ``"Epoch N: ReduceLROnPlateau reducing learning rate to X."``.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``MonitorCallback``).
        min_delta: Threshold for measuring a new optimum.
        cooldown: Epochs to wait after a reduction before resuming normal operation.
        min_lr: Lower bound of the learning rate.
        **kwargs: Accepted and ignored, as in Keras (legacy arguments).

    Raises:
        ValueError: If ``factor >= 1.0``.

    Example:
        >>> ReduceLROnPlateau(factor=0.2, patience=5, min_lr=0.001).min_lr
        0.001
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs: Logs = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()  # here, once the compiled metrics exist
        logs = log_learning_rate(self.model, logs)
        current = self._monitored_value(logs, "Learning rate reduction is", end=".")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_lr(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def in_cooldown(self) -> bool:
        """Whether the callback is waiting out its cooldown after a reduction.

        Example:
            >>> ReduceLROnPlateau(cooldown=2).in_cooldown()
            False
        """
        return self.cooldown_counter > 0

    def _reduce_lr(self, epoch: int) -> bool:
        optimizer = self.model.optimizer
        old_lr = read_learning_rate(optimizer)
        if not np.float32(old_lr) > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True
