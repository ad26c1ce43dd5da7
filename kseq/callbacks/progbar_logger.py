"""``ProgbarLogger``: prints Keras's progress bar during ``fit``/``evaluate``/``predict``.

It redraws at most ~10 times a second: between redraws it only counts steps and never reads the
device-resident metrics, so the bar costs no host syncs on the steps it does not draw.

Example:
    >>> cb = ProgbarLogger(); cb.set_params({"verbose": 0, "epochs": 1, "steps": 1}); cb.verbose
    0
"""

from __future__ import annotations

import time
from typing import Any

from kseq.callbacks.callback import Callback, Logs
from kseq.core.io import print_msg
from kseq.core.progbar import Progbar

REFRESH_SECONDS = 0.1


class ProgbarLogger(Callback):
    """Callback that prints metrics to stdout (Keras 3 format; ``verbose`` 1 or 2).

    Example:
        >>> ProgbarLogger().epochs
        1
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose: int = 1
        self.epochs = 1
        self._called_in_fit = False
        self._last_draw = 0.0

    def set_params(self, params: dict[str, Any]) -> None:
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _wants_batch_logs(self, batch: int) -> bool:
        # Draw the first step (Keras times steps from the end of the first one), then <= 10 Hz.
        return self.verbose == 1 and (
            batch == 0 or time.monotonic() - self._last_draw >= REFRESH_SECONDS
        )

    def on_train_begin(self, logs: Logs = None) -> None:
        self._called_in_fit = True

    def on_test_begin(self, logs: Logs = None) -> None:
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs: Logs = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs = None) -> None:
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs = None) -> None:
        self._update_progbar(batch, {} if logs is not None else None)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        self._finalize_progbar(logs)

    def on_test_end(self, logs: Logs = None) -> None:
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs: Logs = None) -> None:
        self._finalize_progbar(logs)

    def on_train_end(self, logs: Logs = None) -> None:
        self._called_in_fit = False

    def _reset_progbar(self) -> None:
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self) -> None:
        if self.progbar is None:
            self.progbar = Progbar(
                target=self.target, verbose=self.verbose, unit_name="step", stateless_metrics=set()
            )

    def _update_progbar(self, batch: int, logs: Logs) -> None:
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1 and logs is not None:
            assert self.progbar is not None
            self.progbar.update(self.seen, list(logs.items()), finalize=False)
            self._last_draw = time.monotonic()

    def _finalize_progbar(self, logs: Logs) -> None:
        self._maybe_init_progbar()
        assert self.progbar is not None
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)
