"""``BackupAndRestore``: resume an interrupted ``fit`` where it stopped, with the same result.

At the end of every epoch (or every ``save_freq`` batches) the callback writes one training
checkpoint (:mod:`kseq.saving.training_checkpoint`: weights, optimizer state, the epoch to resume
at and the random generators' states) atomically to ``<backup_dir>/latest.checkpoint.pt``. When
``fit`` starts again with the same callback settings, ``on_train_begin`` restores all of it and
sets ``model._initial_epoch``, so training continues at the next epoch: on the CPU with the same
seed, the final weights equal those of an uninterrupted run.

Differences from Keras, on purpose: the state is one file, not ``latest.weights.h5`` plus
``training_metadata.json`` (a crash between the two writes cannot pair new weights with an old
epoch), it needs no h5py, it also holds the random generators, and ``delete_checkpoint`` removes
only the files this callback writes (and the folder if it is then empty), never the whole folder.
A batch-level backup resumes, as in Keras, at the start of the epoch it was taken in (with the
weights of that batch); the generators are restored to that epoch's start, so it replays the
same shuffle.

Example:
    >>> import os, tempfile, numpy as np, kseq
    >>> backup = BackupAndRestore(os.path.join(tempfile.mkdtemp(), "backup"))
    >>> class Interrupt(kseq.callbacks.Callback):
    ...     def on_epoch_begin(self, epoch, logs=None):
    ...         if epoch == 2:
    ...             raise RuntimeError("Interrupting!")
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((4, 3)), np.ones(4)
    >>> try:
    ...     model.fit(x, y, epochs=5, callbacks=[backup, Interrupt()], verbose=0)
    ... except RuntimeError:
    ...     pass
    >>> len(model.fit(x, y, epochs=5, callbacks=[backup], verbose=0).history["loss"])
    3
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from kseq.callbacks.callback import Callback, Logs
from kseq.core.atomic import atomic_write_bytes
from kseq.saving.training_checkpoint import get_rng_state, load_checkpoint, save_checkpoint
from kseq.training.distributed import is_main_process

__all__ = ["BackupAndRestore"]

LATEST = "latest.checkpoint.pt"
PREVIOUS = "previous.checkpoint.pt"


class BackupAndRestore(Callback):
    """Back up the training state during ``fit`` and restore it when ``fit`` restarts.

    Args:
        backup_dir: Folder for the checkpoint; give each training run its own.
        save_freq: ``"epoch"``, an integer number of batches between backups, or ``False`` (never
            back up; only restore).
        double_checkpoint: Keep the previous checkpoint too, and fall back to it when the latest
            cannot be loaded.
        delete_checkpoint: Delete the checkpoint files when ``fit`` completes.

    Raises:
        ValueError: Empty ``backup_dir`` or invalid ``save_freq``.

    Example:
        >>> BackupAndRestore("/tmp/backup", save_freq=100).save_freq
        100
    """

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        save_freq: str | int | bool = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if (
            save_freq != "epoch"
            and save_freq is not False
            and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1)
        ):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. Expected "
                "either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._latest = os.path.join(self.backup_dir, LATEST)
        self._previous = os.path.join(self.backup_dir, PREVIOUS)
        self._current_epoch = 0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._epoch_rng: Any = None
        if isinstance(save_freq, int) and not isinstance(save_freq, bool):
            self.on_epoch_begin = self._on_epoch_begin  # type: ignore[method-assign]
            self.on_train_batch_end = self._on_train_batch_end  # type: ignore[method-assign]

    # ---------------------------------------------------------------- restore
    def on_train_begin(self, logs: Logs = None) -> None:
        if not getattr(self.model, "built", False):
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you call "
                f"`fit()`. Model {self.model.name} is unbuilt. You can build it beforehand by "
                "calling it on a batch of data."
            )
        fallback = self.double_checkpoint and os.path.exists(self._previous)
        if not os.path.exists(self._latest) and not fallback:
            return
        try:
            resume = load_checkpoint(self._latest, self.model)
        except (OSError, ValueError):
            if not fallback:
                raise
            resume = load_checkpoint(self._previous, self.model)
        self._current_epoch = resume["epoch"]
        self.model._initial_epoch = resume["epoch"]

    # ------------------------------------------------------------------- save
    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0, rng=None)

    def _on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._current_epoch = epoch
        self._epoch_rng = get_rng_state()

    def _on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        # Keras's count: batches since the last backup, carried across epochs.
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:  # type: ignore[operator]
            self._batches_seen_since_last_saving = 0
            self._save(self._current_epoch, batch + 1, rng=self._epoch_rng)

    def _wants_batch_logs(self, batch: int) -> bool:
        return False  # backups never read metric values: no host sync for them

    def _save(self, epoch: int, batch: int, rng: Any) -> None:
        if not is_main_process():
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._latest):
            _keep_copy(self._latest, self._previous)
        save_checkpoint(self._latest, self.model, epoch=epoch, batch=batch, rng=rng)

    # ------------------------------------------------------------------ clean
    def on_train_end(self, logs: Logs = None) -> None:
        if not self.delete_checkpoint or not is_main_process():
            return
        for path in (self._latest, self._previous):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        with contextlib.suppress(OSError):
            os.rmdir(self.backup_dir)  # only when nothing else is in it


def _keep_copy(source: str, target: str) -> None:
    """Make ``target`` a copy of ``source`` atomically (a hard link when the file system allows),
    leaving ``source`` in place, so a crash at any moment leaves a loadable checkpoint."""
    folder = os.path.dirname(target) or "."
    temporary = os.path.join(folder, f".{os.path.basename(target)}.{os.getpid()}.link")
    with contextlib.suppress(FileNotFoundError):
        os.remove(temporary)
    try:
        os.link(source, temporary)
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        with open(source, "rb") as f:
            atomic_write_bytes(target, f.read())
