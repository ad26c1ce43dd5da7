"""``History``: records every epoch's logs; ``fit`` returns it and sets ``model.history``.

Example:
    >>> h = History(); h.on_train_begin(); h.on_epoch_end(0, {"loss": 0.5})
    >>> h.history, h.epoch
    ({'loss': [0.5]}, [0])
"""

from __future__ import annotations

from typing import Any

from kseq.callbacks.callback import Callback, Logs


class History(Callback):
    """Callback that records events into ``history`` (``dict[str, list[float]]``) and ``epoch``.

    Example:
        >>> History().history
        {}
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        if model is not None:
            model.history = self

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"
