"""``ModelCheckpoint``: save the model (or its weights) during ``fit``, Keras's rules and messages.

Files go through :mod:`kseq.saving` (``model.save`` / ``model.save_weights``), so every checkpoint
is written atomically: a run killed while saving leaves the previous checkpoint intact. With
``save_freq="epoch"`` the callback adds no per-batch work; with an integer ``save_freq`` it reads
the (host-synced) batch logs only on the batches where it saves.

Example:
    >>> import os, tempfile, numpy as np, kseq
    >>> folder = tempfile.mkdtemp()
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> checkpoint = ModelCheckpoint(os.path.join(folder, "w-{epoch:02d}.weights.pt"),
    ...                              save_weights_only=True)
    >>> _ = model.fit(np.ones((4, 3)), np.ones(4), epochs=2, callbacks=[checkpoint], verbose=0)
    >>> sorted(os.listdir(folder))
    ['w-01.weights.pt', 'w-02.weights.pt']
"""

from __future__ import annotations

import os
import warnings

from kseq.callbacks.callback import Logs
from kseq.callbacks.monitor_callback import MonitorCallback
from kseq.core.io import print_msg
from kseq.training.distributed import is_main_process

__all__ = ["ModelCheckpoint"]

WEIGHTS_SUFFIXES = (".weights.h5", ".weights.pt")


class ModelCheckpoint(MonitorCallback):
    """Save the model or its weights at some frequency (``keras.callbacks.ModelCheckpoint``).

    Args:
        filepath: Where to save. May hold ``str.format`` fields filled from ``epoch`` (1-based),
            ``batch`` (1-based, with an integer ``save_freq``) and the logs, e.g.
            ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``. It must end in ``.keras`` (or Keras's
            legacy ``.h5``, which warns on every save as ``model.save`` does), or in
            ``.weights.h5`` / ``.weights.pt`` (kseq's h5py-free format) with
            ``save_weights_only=True``.
        monitor: The logged quantity ``save_best_only`` compares.
        verbose: 1 prints Keras's messages when saving.
        save_best_only: Save only when ``monitor`` improves (on a fixed ``filepath``, the file is
            always the best model so far).
        save_weights_only: ``model.save_weights(...)`` instead of ``model.save(...)``.
        mode: ``"auto"``, ``"min"`` or ``"max"`` for ``monitor``.
        save_freq: ``"epoch"``, or an integer number of batches between saves.
        initial_value_threshold: With ``save_best_only``, only save values better than this.

    Raises:
        ValueError: An unknown ``save_freq``, or a file name that does not fit the format.

    Example:
        >>> ModelCheckpoint("best.keras", monitor="val_loss", save_best_only=True).best is None
        True
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen: int | None = None
        self._current_epoch = 0
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer values"
            )
        if save_weights_only:
            if not self.filepath.endswith(WEIGHTS_SUFFIXES):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided "
                    "must end in `.weights.h5` (Keras weights format) or `.weights.pt` (kseq's "
                    f"torch-native weights format). Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5")):  # `.h5`: Keras's legacy model file
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). Received: "
                f"filepath={self.filepath}"
            )
        if save_freq != "epoch":
            # Batch hooks cost a host sync per batch, so they exist only when they are needed.
            self.on_train_batch_end = self._on_train_batch_end  # type: ignore[method-assign]

    # ------------------------------------------------------------------ hooks
    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._current_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()  # delayed until the model's metrics are built
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _batches_after(self, batch: int) -> int:
        """The batch counter after ``batch`` (a new epoch restarts the batch numbers)."""
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        return self._batches_seen_since_last_saving + added

    def _wants_batch_logs(self, batch: int) -> bool:
        return self.save_freq != "epoch" and self._batches_after(batch) >= self.save_freq

    def _on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        seen = self._batches_after(batch)
        self._last_batch_seen = batch
        if seen >= self.save_freq:  # type: ignore[operator]
            self._batches_seen_since_last_saving = 0
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)
        else:
            self._batches_seen_since_last_saving = seen

    # ----------------------------------------------------------------- saving
    def _get_file_path(self, epoch: int, batch: int | None, logs: Logs) -> str:
        logs = logs or {}
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as exc:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {exc}'
            ) from None

    def _should_save_model(self, epoch: int, logs: Logs, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: Logs) -> None:
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath) or not is_main_process():
            return
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
                f"existing directory: {filepath}"
            )
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")
