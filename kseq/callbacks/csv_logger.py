"""``CSVLogger``: stream every epoch's logs to a CSV file, in Keras's exact format.

The file is Keras's byte for byte: an ``epoch`` column then the log keys sorted (with ``val_``
columns added up front when the first epoch has no validation), Python's ``csv`` "excel" dialect
(``\\r\\n`` line ends) with the chosen separator, ``NA`` for a missing value, and one-dimensional
iterables written as ``"[a, b]"``. With ``append=True`` an existing file is continued without a
second header.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> logger = CSVLogger(path)
    >>> logger.on_train_begin()
    >>> logger.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
    >>> logger.on_train_end()
    >>> print(path.read_text(), end="")
    epoch,accuracy,loss,val_accuracy,val_loss
    0,0.75,0.5,NA,NA
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from typing import IO, Any

import numpy as np

from kseq.callbacks.callback import Callback, Logs

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Callback that streams epoch results to a CSV file.

    Args:
        filename: Path of the CSV file (``str`` or ``os.PathLike``), e.g. ``"run/log.csv"``.
        separator: The string that separates the values of a row.
        append: ``True``: continue the file if it exists (for resumed training). ``False``:
            overwrite it.

    Example:
        >>> CSVLogger("training.log", separator=";").sep
        ';'
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer: csv.DictWriter[str] | None = None
        self.keys: list[str] | None = None
        self.append_header = True
        self.csv_file: IO[str] | None = None

    def on_train_begin(self, logs: Logs = None) -> None:
        mode = "w"
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not f.readline()
            mode = "a"
        self._close()
        # Text mode without newline="" on purpose: Keras opens the file this way.
        self.csv_file = open(self.filename, mode)  # noqa: SIM115 - closed in on_train_end
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if self.writer is None:
            if self.csv_file is None:
                raise ValueError(
                    "CSVLogger.on_epoch_end() was called before on_train_begin(): pass the "
                    "callback to fit(callbacks=[...]) or call on_train_begin() first."
                )
            dialect = type("CSVLoggerDialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch", *self.keys], dialect=dialect
            )
            if self.append_header:
                self.writer.writeheader()
        row: dict[str, Any] = {"epoch": epoch}
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        assert self.csv_file is not None
        self.csv_file.flush()

    def on_train_end(self, logs: Logs = None) -> None:
        self._close()
        self.writer = None

    def _close(self) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()


def _csv_value(value: Any) -> Any:
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value
    if isinstance(value, Iterable):
        return f'"[{", ".join(map(str, value))}]"'
    return value
