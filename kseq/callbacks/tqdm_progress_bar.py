"""``TqdmProgressBar``: ``fit``/``evaluate``/``predict`` progress as a ``tqdm.auto`` bar (a widget
in Jupyter, text elsewhere) carrying the same logs as Keras's bar.

``fit``/``evaluate``/``predict`` pick it instead of ``ProgbarLogger`` when they run in a notebook
(:func:`kseq.core.notebook.in_notebook`); pass it in ``callbacks=[...]`` to have it anywhere. It is
a ``ProgbarLogger``, so it replaces the default bar rather than adding a second one, and it asks
for the device-resident metric values exactly when ``ProgbarLogger`` does (the first step, then at
most 10 times a second): between redraws a step costs it one counter update, no host sync.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> bar = TqdmProgressBar(file=out, ncols=120)
    >>> bar.set_params({"verbose": 1, "epochs": 2, "steps": 4})
    >>> bar.on_epoch_begin(0)
    >>> bar.on_train_batch_end(0, {"loss": 0.5})
    >>> bar.on_epoch_end(0, {"loss": 0.25, "val_loss": 0.5})
    >>> "Epoch 1/2" in out.getvalue(), "4/4" in out.getvalue(), "val_loss: 0.5000" in out.getvalue()
    (True, True, True)
"""

from __future__ import annotations

import time
from typing import Any

from kseq.callbacks.callback import Logs
from kseq.callbacks.progbar_logger import ProgbarLogger

__all__ = ["TqdmProgressBar", "format_logs"]


def format_logs(logs: Logs) -> str:
    """Logs as Keras's bar writes them: ``loss: 0.1234 - accuracy: 0.9000`` (4 decimals, or
    ``1.0000e-04`` notation for values of magnitude ``1e-3`` and below; arrays show their mean).

    Example:
        >>> format_logs({"loss": 0.123456, "lr": 1e-4})
        'loss: 0.1235 - lr: 1.0000e-04'
    """
    parts = []
    for key, value in (logs or {}).items():
        value = float(value.mean()) if hasattr(value, "mean") else float(value)
        parts.append(f"{key}: {value:.4f}" if abs(value) > 1e-3 else f"{key}: {value:.4e}")
    return " - ".join(parts)


class TqdmProgressBar(ProgbarLogger):
    """Progress bar callback drawn with ``tqdm.auto`` (Keras's logs, one bar per epoch).

    Args:
        **tqdm_kwargs: Passed to every ``tqdm`` bar it opens (``file``, ``ncols``, ``colour``,
            ``leave``, ...); ``unit="step"``, ``leave=True`` and redrawing whenever it is told to
            (``mininterval=0``, as the callback already limits itself to 10 Hz) are defaults.

    Example:
        >>> TqdmProgressBar(ncols=60).tqdm_kwargs["ncols"]
        60
    """

    def __init__(self, **tqdm_kwargs: Any) -> None:
        super().__init__()
        self.tqdm_kwargs = {"unit": "step", "leave": True, "mininterval": 0, **tqdm_kwargs}
        self.bar: Any = None
        self._description: str | None = None

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._description = f"Epoch {epoch + 1}/{self.epochs}" if self.epochs > 1 else None
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_predict_begin(self, logs: Logs = None) -> None:
        self._description = None
        super().on_predict_begin(logs)

    def on_test_begin(self, logs: Logs = None) -> None:
        if not self._called_in_fit:
            self._description = None
        super().on_test_begin(logs)

    def on_train_end(self, logs: Logs = None) -> None:
        self._close()
        super().on_train_end(logs)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _reset_progbar(self) -> None:
        self._close()
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self) -> None:
        if self.bar is None and self.verbose:
            from tqdm.auto import tqdm  # deferred: tqdm.auto imports asyncio (~80 ms)

            self.bar = tqdm(total=self.target, desc=self._description, **self.tqdm_kwargs)

    def _update_progbar(self, batch: int, logs: Logs) -> None:
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1 and logs is not None and self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs), refresh=False)
            self.bar.update(self.seen - self.bar.n)
            self._last_draw = time.monotonic()

    def _finalize_progbar(self, logs: Logs) -> None:
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            if self.bar is not None:
                self.bar.total = self.target
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs), refresh=False)
            self.bar.update(self.target - self.bar.n)
        self._close()
