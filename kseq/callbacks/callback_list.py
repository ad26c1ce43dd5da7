"""``CallbackList``: dispatches hooks to a list of callbacks, adding ``History`` and
``ProgbarLogger`` as Keras does, and calling batch hooks only on callbacks that define them.

Example:
    >>> from kseq.callbacks.history import History
    >>> cbs = CallbackList([], add_history=True, epochs=1, steps=1, verbose=0)
    >>> [type(c).__name__ for c in cbs.callbacks]
    ['History']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kseq.callbacks.callback import HOOKS, Callback, Logs, overrides
from kseq.callbacks.history import History
from kseq.callbacks.progbar_logger import ProgbarLogger
from kseq.callbacks.tqdm_progress_bar import TqdmProgressBar
from kseq.core.notebook import in_notebook

LogsFn = Callable[[], dict[str, float]]


class CallbackList(Callback):
    """A container of callbacks that is itself a callback.

    Args:
        callbacks: User callbacks.
        add_history: Append a ``History`` (unless one is given).
        add_progbar: Append a ``ProgbarLogger`` (a ``TqdmProgressBar`` in a Jupyter notebook),
            unless one is given.
        model: The model, passed to every callback's ``set_model``.
        **params: ``verbose``, ``epochs``, ``steps``, passed to ``set_params``.
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()
        self.callbacks: list[Callback] = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"Callbacks must be instances of kseq.callbacks.Callback. Received: {cb!r} of type {type(cb)}"
                )
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            # In a Jupyter notebook the bar is a tqdm widget; everywhere else Keras's text bar.
            self._progbar = TqdmProgressBar() if in_notebook() else ProgbarLogger()
            self.callbacks.append(self._progbar)
        self._index_hooks()
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def _index_hooks(self) -> None:
        self._by_hook = {
            hook: [cb for cb in self.callbacks if overrides(cb, hook)] for hook in HOOKS
        }

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._index_hooks()

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def has_batch_hooks(self, mode: str) -> bool:
        """Whether any callback defines a ``on_{mode}_batch_*`` hook (else the loop skips them)."""
        return bool(
            self._by_hook[f"on_{mode}_batch_begin"] or self._by_hook[f"on_{mode}_batch_end"]
        )

    def _call(self, hook: str, *args: Any) -> None:
        # As Keras's ``pythonify_logs``: every callback of this call sees one fresh, sorted dict
        # (``{}`` for "no logs"), so a callback may add keys for the callbacks after it
        # (``ReduceLROnPlateau`` adds ``learning_rate`` before ``History``) without touching the
        # caller's dict.
        callbacks = self._by_hook[hook]
        if callbacks:
            *head, logs = args
            logs = _fresh(logs)
            for cb in callbacks:
                getattr(cb, hook)(*head, logs)

    def _batch_begin(self, hook: str, batch: int, logs: Logs) -> None:
        callbacks = self._by_hook[hook]
        if callbacks:
            logs = _fresh(logs)
            for cb in callbacks:
                getattr(cb, hook)(batch, logs=logs)

    def _batch_end(self, hook: str, batch: int, logs: Logs, logs_fn: LogsFn | None) -> None:
        callbacks = self._by_hook[hook]
        # Sync at most once, and only if some callback wants this batch's values; then every
        # callback gets them (so the progress bar and e.g. ``TerminateOnNaN`` share one sync).
        if any(cb._wants_batch_logs(batch) for cb in callbacks):
            if logs is None and logs_fn is not None:
                logs = logs_fn()  # host sync: only when a callback asks for the values
            logs = _fresh(logs)
        else:
            logs = None
        for cb in callbacks:
            getattr(cb, hook)(batch, logs=logs)

    def on_train_begin(self, logs: Logs = None) -> None:
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: Logs = None) -> None:
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_test_begin(self, logs: Logs = None) -> None:
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: Logs = None) -> None:
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs: Logs = None) -> None:
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: Logs = None) -> None:
        self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None:
        self._batch_begin("on_train_batch_begin", batch, logs)

    def on_test_batch_begin(self, batch: int, logs: Logs = None) -> None:
        self._batch_begin("on_test_batch_begin", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs = None) -> None:
        self._batch_begin("on_predict_batch_begin", batch, logs)

    def on_train_batch_end(
        self, batch: int, logs: Logs = None, logs_fn: LogsFn | None = None
    ) -> None:
        self._batch_end("on_train_batch_end", batch, logs, logs_fn)

    def on_test_batch_end(
        self, batch: int, logs: Logs = None, logs_fn: LogsFn | None = None
    ) -> None:
        self._batch_end("on_test_batch_end", batch, logs, logs_fn)

    def on_predict_batch_end(
        self, batch: int, logs: Logs = None, logs_fn: LogsFn | None = None
    ) -> None:
        self._batch_end("on_predict_batch_end", batch, logs, logs_fn)


def _fresh(logs: Logs) -> dict[str, Any]:
    return dict(sorted(logs.items())) if logs else {}
