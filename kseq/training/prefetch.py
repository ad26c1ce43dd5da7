"""``Prefetcher``: streamed batches moved to the accelerator one batch ahead.

On CUDA each host batch is pinned (unless the ``DataLoader`` already pinned it) and copied with
``non_blocking=True`` on a side stream while the previous step computes; the compute stream waits
for that copy only when it uses the batch. On the CPU (or any device without a copy stream) the
batches pass straight through: no look-ahead, no copy.

Example:
    >>> import torch
    >>> batches = [(torch.ones(2, 3), None, None)]
    >>> [tuple(x.shape) for x, _, _ in Prefetcher(torch.device("cpu")).run(iter(batches))]
    [(2, 3)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor


def _map(fn: Callable[[Any], Any], data: Any) -> Any:
    if isinstance(data, Tensor):
        return fn(data)
    if isinstance(data, dict):
        return {k: _map(fn, v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(_map(fn, v) for v in data)
    return data


class Prefetcher:
    """Moves batches of host tensors to ``device``; on CUDA one batch ahead of the consumer.

    Args:
        device: Where the batches go.

    Example:
        >>> p = Prefetcher(torch.device("cpu"))
        >>> p.ahead
        False
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.ahead = device.type == "cuda"
        self._stream: Any = None

    def _copy(self, t: Tensor) -> Tensor:
        if t.device == self.device:
            return t
        if t.device.type == "cpu" and not t.is_pinned():
            t = t.pin_memory()
        return t.to(self.device, non_blocking=True)

    def _issue(self, batch: Any) -> Any:
        if self._stream is None:
            self._stream = torch.cuda.Stream(self.device)
        with torch.cuda.stream(self._stream):
            return _map(self._copy, batch)

    def _hand_over(self, batch: Any) -> Any:
        compute = torch.cuda.current_stream(self.device)
        compute.wait_stream(self._stream)

        def mark(t: Tensor) -> Tensor:
            if t.device.type == "cuda":
                t.record_stream(compute)  # memory made on the copy stream, used on this one
            return t

        return _map(mark, batch)

    def run(self, batches: Iterator[Any]) -> Iterator[Any]:
        """The batches of ``batches`` on the device; the copy of the next one is under way while
        the caller works on the current one."""
        if not self.ahead:
            for batch in batches:
                yield _map(lambda t: t.to(self.device), batch)
            return
        sentinel = object()
        upcoming = next(batches, sentinel)
        pending = sentinel if upcoming is sentinel else self._issue(upcoming)
        while pending is not sentinel:
            current = self._hand_over(pending)
            upcoming = next(batches, sentinel)
            pending = sentinel if upcoming is sentinel else self._issue(upcoming)
            yield current
