"""``PyDataset`` (alias ``Sequence``): Keras's base class for Python-side datasets of batches.

Subclass it, implement ``__len__`` (number of batches) and ``__getitem__(index)`` (a whole batch:
``x``, ``(x, y)`` or ``(x, y, sample_weight)``), optionally ``on_epoch_begin``/``on_epoch_end``;
``fit``/``evaluate``/``predict`` iterate it batch by batch (moving each batch to the device) and
call the epoch hooks. An infinite dataset defines ``num_batches`` returning ``None`` instead of
``__len__`` (then pass ``steps_per_epoch``).

``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted and stored as in Keras;
kseq loads the batches in the training process's main thread (for parallel loading, wrap a map-
style ``torch.utils.data.Dataset`` in a ``DataLoader(num_workers=...)`` and pass that to ``fit``).

Example:
    >>> import numpy as np
    >>> class Batches(PyDataset):
    ...     def __init__(self, n, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.n = n
    ...     def __len__(self):
    ...         return self.n
    ...     def __getitem__(self, index):
    ...         return np.full((2, 1), index, dtype="float32"), np.zeros((2, 1), dtype="float32")
    >>> data = Batches(3, workers=2)
    >>> data.num_batches, data.workers, [int(x[0, 0]) for x, _ in data]
    (3, 2, [0, 1, 2])
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["PyDataset", "Sequence"]


class PyDataset:
    """Base class of Python datasets of batches (``keras.utils.PyDataset``).

    Args:
        workers: Number of workers Keras would load batches with (stored; see the module note).
        use_multiprocessing: Whether Keras would use processes rather than threads (stored).
        max_queue_size: Batches Keras would keep queued (stored).

    Example:
        >>> PyDataset(workers=4).max_queue_size
        10
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _loader_option(self, name: str, default: Any) -> Any:
        if not hasattr(self, f"_{name}"):
            setattr(self, f"_{name}", default)
            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
                "`max_queue_size`. Do not pass these arguments to `fit()`, as they will be ignored.",
                stacklevel=3,
            )
        return getattr(self, f"_{name}")

    @property
    def workers(self) -> int:
        """How many workers would load batches."""
        return self._loader_option("workers", 1)

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        """Whether workers would be processes."""
        return self._loader_option("use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        """How many batches would be queued ahead."""
        return self._loader_option("max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        """The batch at position ``index`` (subclasses implement it)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__getitem__(self, index)` returning a batch."
        )

    @property
    def num_batches(self) -> int | None:
        """Number of batches, or ``None`` for an infinite dataset (``len(self)`` by default)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            "You need to implement the `num_batches` property:\n\n"
            "@property\ndef num_batches(self):\n  return ..."
        )

    def __iter__(self) -> Iterator[Any]:
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        indices = range(count) if count is not None else itertools.count()
        for index in indices:
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called at the beginning of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""


Sequence = PyDataset
