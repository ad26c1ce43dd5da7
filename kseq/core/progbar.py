"""Keras 3's progress bar (``keras.utils.Progbar``), character for character.

Verbose 1 redraws one line in place (``\\b``/``\\r``, as Keras does on every POSIX system), with
the step count, a 20-cell ``━`` bar (ANSI green/white), the ETA or elapsed time, the time per step
(first step excluded) and the metrics with 4 decimals. Verbose 2 prints one line when finished.

Example:
    >>> import io, contextlib
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     Progbar(2, verbose=2).update(2, [("loss", 0.5)])
    >>> out.getvalue().startswith("2/2 - 0s -")
    True
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from kseq.core.io import print_msg


class Progbar:
    """Displays a progress bar.

    Args:
        target: Total number of steps, or ``None`` if unknown.
        width: Bar width in characters.
        verbose: 0 (silent), 1 (dynamic bar), 2 (one line at the end).
        interval: Minimum seconds between redraws (verbose 1).
        stateful_metrics: Names displayed as-is (others are averaged over steps, as in Keras).
        stateless_metrics: Names that *are* averaged (all others displayed as-is).
        unit_name: Unit shown in the rate (``"step"``).

    Example:
        >>> Progbar(10, verbose=0).target
        10
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        stateless_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
    ) -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics: set[str] | None = (
            set(stateful_metrics or ()) if stateless_metrics is None else None
        )
        self.stateless_metrics: set[str] | None = (
            set(stateless_metrics) if stateless_metrics is not None else None
        )
        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or "ipykernel" in sys.modules
            or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ
        )
        self._seen_so_far = 0
        self._values: dict[str, list[float]] = {}
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step: float | None = None
        self._prev_total_width = 0

    def _is_stateless(self, key: str) -> bool:
        if self.stateful_metrics is not None:
            return key not in self.stateful_metrics
        assert self.stateless_metrics is not None
        return key in self.stateless_metrics

    def update(
        self,
        current: int,
        values: Sequence[tuple[str, Any]] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Update the bar to step ``current`` with ``(name, value)`` pairs."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for key, value in values or ():
            if key not in self._values_order:
                self._values_order.append(key)
            # An array-valued metric (F1Score, Precision(thresholds=[...])) shows its mean, as in Keras.
            value = float(value.mean()) if hasattr(value, "mean") else float(value)
            if self._is_stateless(key):
                if finalize:
                    self._values[key] = [value, 1]
                else:
                    base = max(current - self._seen_so_far, 1)
                    if key not in self._values:
                        self._values[key] = [value * base, base]
                    else:
                        self._values[key][0] += value * base
                        self._values[key][1] += base
            else:
                self._values[key] = [value, 1]
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            info = f"%{digits}d/%d" % (current, self.target)
            info += f" - {now - self._start:.0f}s"
            info += f" -{self._format_time(time_per_unit, self.unit_name)}"
            for key in self._values_order:
                total, count = self._values[key]
                avg = total / max(1, count)
                info += f" - {key}: {avg:.4f}" if avg > 1e-3 else f" - {key}: {avg:.4e}"
            print_msg(info + "\n", line_break=False)
        self._last_update = now

    def _draw(self, current: int, now: float, time_per_unit: float, finalize: bool) -> None:
        message = "\b" * self._prev_total_width + "\r" if self._dynamic_display else "\n"
        special = 0
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            bar = f"\x1b[1m{f'%{digits}d/%d' % (current, self.target)}\x1b[0m "
            special += 8
            done = int(self.width * float(current) / self.target)
            if done > 0:
                bar += f"\33[32m{'━' * done}\x1b[0m"
                special += 9
            bar += f"\33[37m{'━' * (self.width - done)}\x1b[0m"
            special += 9
        else:
            bar = "%7d/Unknown" % current
        message += bar
        if self.target is not None and self.target > 0 and not finalize:
            eta = time_per_unit * (self.target - current)
            if eta > 3600:
                eta_format = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                eta_format = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_format = "%ds" % eta
            info = f" \x1b[1m{eta_format}\x1b[0m"
        else:
            info = f" \x1b[1m{now - self._start:.0f}s\x1b[0m"
        special += 8
        info += self._format_time(time_per_unit, self.unit_name)
        for key in self._values_order:
            total, count = self._values[key]
            avg = total / max(1, count)
            info += f" - {key}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {key}: {avg:.4e}"
        message += info
        total_width = len(bar) + len(info) - special
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        print_msg(message, line_break=False)
        self._prev_total_width = total_width

    def add(self, n: int, values: Sequence[tuple[str, Any]] | None = None) -> None:
        """Advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    @staticmethod
    def _format_time(time_per_unit: float, unit_name: str) -> str:
        if time_per_unit >= 1 or time_per_unit == 0:
            return f" {time_per_unit:.0f}s/{unit_name}"
        if time_per_unit >= 1e-3:
            return f" {time_per_unit * 1e3:.0f}ms/{unit_name}"
        return f" {time_per_unit * 1e6:.0f}us/{unit_name}"

    def _estimate_step_duration(self, current: int, now: float) -> float:
        # The first step (which includes start-up work) is left out of the per-step time.
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
