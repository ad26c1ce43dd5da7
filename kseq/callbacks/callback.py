"""``Callback``: the Keras hook interface, called by ``fit``/``evaluate``/``predict``.

Batch-level hooks cost nothing unless a callback overrides them: ``CallbackList`` only calls the
hooks a callback actually defines, and only then turns the device-resident metric values into the
``logs`` dict of Python floats (one host sync per call).

Example:
    >>> class Count(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(f"epoch {epoch} done")
    >>> Count().on_epoch_end(0)
    epoch 0 done
"""

from __future__ import annotations

from typing import Any

Logs = dict[str, Any] | None

HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


class Callback:
    """Base class for callbacks; override any of the ``on_*`` hooks.

    Attributes:
        model: The model being trained (set by ``fit``; ``self.model.stop_training = True`` stops it).
        params: ``{"verbose", "epochs", "steps"}``.

    Example:
        >>> cb = Callback(); cb.set_params({"epochs": 2}); cb.params["epochs"]
        2
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    def _wants_batch_logs(self, batch: int) -> bool:
        """Whether this batch-end call needs the (host-synced) logs. The progress bar says no
        between redraws; every user callback gets them."""
        return True

    def on_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """A backwards-compatibility alias for ``on_train_batch_begin``."""

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        """A backwards-compatibility alias for ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Called at the start of an epoch (``epoch`` is 0-based)."""

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Called at the end of an epoch with the epoch's metrics (``val_*`` included)."""

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Called before a batch of ``evaluate`` (or of validation inside ``fit``)."""

    def on_test_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Called after a batch of ``evaluate`` with the running metrics."""

    def on_predict_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Called before a batch of ``predict``."""

    def on_predict_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Called after a batch of ``predict`` (``logs["outputs"]`` holds the batch's predictions)."""

    def on_train_begin(self, logs: Logs = None) -> None:
        """Called at the start of ``fit``."""

    def on_train_end(self, logs: Logs = None) -> None:
        """Called at the end of ``fit`` with the last epoch's logs."""

    def on_test_begin(self, logs: Logs = None) -> None:
        """Called at the start of ``evaluate`` / validation."""

    def on_test_end(self, logs: Logs = None) -> None:
        """Called at the end of ``evaluate`` / validation."""

    def on_predict_begin(self, logs: Logs = None) -> None:
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs: Logs = None) -> None:
        """Called at the end of ``predict``."""


_ALIASED = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` defines ``hook`` itself (or its Keras alias) rather than inheriting the no-op.

    Example:
        >>> class C(Callback):
        ...     def on_batch_end(self, batch, logs=None): ...
        >>> overrides(C(), "on_train_batch_end"), overrides(C(), "on_epoch_end")
        (True, False)
    """
    cls = type(callback)
    names = (hook, _ALIASED[hook]) if hook in _ALIASED else (hook,)
    return any(getattr(cls, n) is not getattr(Callback, n) for n in names) or any(
        n in vars(callback) for n in names
    )
