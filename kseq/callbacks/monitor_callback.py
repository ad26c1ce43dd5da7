"""``MonitorCallback``: the base of callbacks that watch one logged quantity (``EarlyStopping``,
``ReduceLROnPlateau``, ``ModelCheckpoint``) and decide whether a new value is an improvement.

It owns the ``mode`` (``"auto"``/``"min"``/``"max"``) resolution, the ``min_delta`` sign
convention and the comparison. Comparisons are made in float32, as Keras makes them (its
``ops.less``/``ops.greater`` turn the Python floats into ``floatx`` tensors), so that two values
that differ only beyond float32 precision are "no improvement" in both libraries.

Example:
    >>> cb = MonitorCallback(monitor="loss", mode="min", min_delta=0.1)
    >>> cb._set_monitor_op()
    >>> cb._is_improvement(0.85, 1.0), cb._is_improvement(0.95, 1.0)
    (True, False)
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from kseq.callbacks.callback import Callback, Logs

__all__ = ["MonitorCallback"]


class MonitorCallback(Callback):
    """Base class for callbacks that monitor a quantity and judge improvements.

    Args:
        monitor: Name of the quantity in the epoch logs (e.g. ``"val_loss"``, ``"accuracy"``).
        mode: ``"min"``, ``"max"`` or ``"auto"``: infer the direction from the name (``loss`` and
            ``val_loss`` are minimized; a compiled metric is maximized or minimized according to
            its ``_direction``, ``"up"`` or ``"down"``). Unknown modes warn and fall back to
            ``"auto"``.
        baseline: Initial "best" value (``None``: the first monitored value).
        min_delta: The smallest change that counts as an improvement (its sign is ignored).

    Raises:
        ValueError: In ``"auto"`` mode, when the direction of ``monitor`` cannot be inferred.

    Example:
        >>> cb = MonitorCallback(monitor="val_auc", mode="max")
        >>> cb._set_monitor_op(); cb._is_improvement(0.9, 0.8)
        True
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        baseline: float | None = None,
        min_delta: float = 0,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best: float | None = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op: Callable[[Any, Any], Any] | None = None

    def _set_monitor_op(self) -> None:
        """Pick ``<`` or ``>`` (once, when the model's metrics are known) and sign ``min_delta``."""
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            name = self.monitor.removeprefix("val_")
            if name == "loss":
                self.monitor_op = operator.lt
            for metric in _compiled_metrics(self.model):
                direction = getattr(metric, "_direction", None)
                if getattr(metric, "name", None) == name and direction is not None:
                    self.monitor_op = operator.gt if direction == "up" else operator.lt
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but Keras "
                    "isn't able to automatically determine whether that metric should be maximized "
                    "or minimized. Pass `mode='max'` in order to monitor based on the highest "
                    "metric value, or pass `mode='min'` in order to use the lowest value."
                )
        if self.monitor_op is operator.lt:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value: float, reference_value: float | None) -> bool:
        """Whether ``monitor_value`` beats ``reference_value`` by more than ``min_delta``."""
        if reference_value is None:
            return True
        assert self.monitor_op is not None, "call _set_monitor_op() first"
        return bool(
            self.monitor_op(np.float32(monitor_value - self.min_delta), np.float32(reference_value))
        )

    def _monitored_value(self, logs: Logs, action: str, end: str = "") -> Any:
        """``logs[monitor]``, or ``None`` after Keras's "not available" warning (``action`` starts
        it, e.g. ``"Early stopping"``; ``end`` closes it)."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{action} conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}{end}",
                stacklevel=3,
            )
        return value


def _compiled_metrics(model: Any) -> list[Any]:
    """The model's metric objects, with containers (anything holding ``.metrics``) flattened."""
    out: list[Any] = []
    for metric in getattr(model, "metrics", None) or []:
        inner = getattr(metric, "metrics", None)
        out.extend(inner if isinstance(inner, (list, tuple)) else [metric])
    return out
