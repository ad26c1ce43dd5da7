"""``TerminateOnNaN``: stop training when the loss becomes NaN or infinite.

Keras reads the loss after every batch, which costs a host sync per step (on a GPU, the Python
loop waits for the device each batch). kseq keeps the step free of syncs and checks the loss only
when it is on the host anyway or cheaply can be:

* at the first batch of each epoch and at its last one (before validation runs),
* and in between at most every ``CHECK_SECONDS`` (0.1 s) — on the same batches on which the
  progress bar reads the metrics, since the callback list syncs once per batch for all callbacks,
* and at the epoch end, for data of unknown length.

This is exact because the logged ``loss`` is the running mean of the epoch: once one batch's
loss is NaN/inf, every later reading in that epoch is too. The trade-off: training may run on
for up to ~0.1 s of batches (never past the end of the epoch) after the first non-finite loss, and
the message names the batch at which it was seen, which can be later than the one at which it
appeared. Subclass and return ``True`` from ``_wants_batch_logs`` to check every batch, as Keras.

Example:
    >>> from types import SimpleNamespace
    >>> cb = TerminateOnNaN(); cb.set_model(SimpleNamespace(stop_training=False))
    >>> cb.on_batch_end(3, {"loss": float("nan")})
    Batch 3: Invalid loss, terminating training
    >>> cb.model.stop_training
    True
"""

from __future__ import annotations

import math
import time

from kseq.callbacks.callback import Callback, Logs
from kseq.core.io import print_msg

__all__ = ["TerminateOnNaN"]

CHECK_SECONDS = 0.1


class TerminateOnNaN(Callback):
    """Callback that terminates training when a NaN or Inf loss is encountered.

    Args:
        raise_error: ``False`` (default): stop gracefully with ``model.stop_training = True`` (the
            other callbacks' ``on_train_end`` still run). ``True``: raise a ``RuntimeError`` at
            once, skipping that cleanup (useful to keep a backup untouched).

    Raises:
        RuntimeError: With ``raise_error=True``, when the loss is NaN or Inf.

    Example:
        >>> TerminateOnNaN(raise_error=True).raise_error
        True
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = raise_error
        self._last_check = -math.inf
        self._last_batch = -1
        self._checked_batch = -1

    def _wants_batch_logs(self, batch: int) -> bool:
        steps = self.params.get("steps") if self.params else None
        return (
            batch == 0
            or (steps is not None and batch + 1 >= steps)
            or time.monotonic() - self._last_check >= CHECK_SECONDS
        )

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._last_batch = self._checked_batch = -1

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Check the loss of ``logs`` (``None`` between checks: nothing was read, nothing to do).

        Raises:
            RuntimeError: If the loss is NaN/Inf and ``raise_error=True``.
        """
        self._last_batch = batch
        if logs is None:
            return
        self._last_check = time.monotonic()
        self._checked_batch = batch
        self._check(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        # Batches of unknown-length data after the last check: the epoch's mean loss tells.
        if self._checked_batch != self._last_batch and not self.model.stop_training:
            self._check(self._last_batch, {"loss": (logs or {}).get("loss")})

    def _check(self, batch: int, logs: Logs) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or not (math.isnan(loss) or math.isinf(loss)):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                "Terminating training immediately."
            )
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
