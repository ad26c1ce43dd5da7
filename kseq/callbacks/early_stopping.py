"""``EarlyStopping``: stop ``fit`` when a monitored quantity has stopped improving, optionally
restoring the weights of the best epoch.

The best weights are kept as a device-side copy of the model's ``state_dict`` (cloned once, then
updated in place with ``copy_`` at each new best epoch) and written back with ``load_state_dict``:
no round trip through NumPy, no new allocation per improvement. Objects that are not
``torch.nn.Module`` (duck-typed models) fall back to ``get_weights``/``set_weights``.

Example:
    >>> import numpy as np, kseq
    >>> model = kseq.Sequential([kseq.Input(shape=(20,)), kseq.layers.Dense(1)])
    >>> model.compile(kseq.optimizers.SGD(), loss="mse")
    >>> stop = EarlyStopping(monitor="loss", patience=3)
    >>> history = model.fit(np.arange(100.0).reshape(5, 20), np.zeros(5), epochs=10, batch_size=1,
    ...                     callbacks=[stop], verbose=0)
    >>> len(history.history["loss"])  # the loss diverges: 1 best epoch + 3 without improvement
    4
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from kseq.callbacks.callback import Logs
from kseq.callbacks.monitor_callback import MonitorCallback
from kseq.core.io import print_msg

__all__ = ["EarlyStopping"]


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored metric has stopped improving.

    At the end of every epoch (from ``start_from_epoch`` on), the monitored value is compared with
    the best one so far; after ``patience`` epochs without an improvement of more than
    ``min_delta``, ``model.stop_training`` is set and ``fit`` ends after the current epoch.

    Args:
        monitor: Quantity to watch in the epoch logs. Defaults to ``"val_loss"``.
        min_delta: Minimum change that counts as an improvement. Defaults to ``0``.
        patience: Epochs without improvement after which training stops. Defaults to ``0``.
        verbose: ``1`` prints ``"Epoch N: early stopping"`` (and the restore message).
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``MonitorCallback``).
        baseline: If set, the patience counter is only reset by epochs that also beat it, so
            training stops after ``patience`` epochs that do not reach the baseline.
        restore_best_weights: At the end of training, load the weights of the best epoch (even if
            it does not beat ``baseline``). If ``False``, the last weights are kept.
        start_from_epoch: Epochs of warm-up during which the value is not monitored.

    Attributes:
        stopped_epoch: The 0-based epoch at which training was stopped (``0`` if it was not).
        best_epoch: The 0-based epoch with the best monitored value.
        best_weights: The weights of the best epoch (when ``restore_best_weights``).

    Example:
        >>> stop = EarlyStopping(monitor="val_accuracy", mode="max", patience=2)
        >>> stop.patience, stop.min_delta
        (2, 0)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights: Any = None
        self.best_epoch = 0
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs: Logs = None) -> None:
        # Reset so that one instance can serve several fit() calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()  # here, once the compiled metrics exist
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the current weights are the best ones.
            self._keep_weights(epoch)
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            if self.restore_best_weights:
                self._keep_weights(epoch)
            self.best_epoch = epoch
            # The patience counter restarts only if the baseline is beaten too.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(
                    f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}."
                )
            if isinstance(self.best_weights, dict):
                self.model.load_state_dict(self.best_weights)
            else:
                self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs: Logs) -> Any:
        """The monitored value in ``logs``, or ``None`` (with a warning) when it is missing.

        Example:
            >>> EarlyStopping(monitor="loss").get_monitor_value({"loss": 0.5})
            0.5
        """
        return self._monitored_value(logs, "Early stopping")

    def _keep_weights(self, epoch: int) -> None:
        self.best_epoch = epoch
        model = self.model
        if not isinstance(model, nn.Module):
            self.best_weights = model.get_weights()
            return
        state = model.state_dict()
        kept = self.best_weights
        if isinstance(kept, dict) and kept.keys() == state.keys():
            with torch.no_grad():
                for key, value in state.items():
                    kept[key].copy_(value)
        else:
            self.best_weights = {k: v.detach().clone() for k, v in state.items()}
