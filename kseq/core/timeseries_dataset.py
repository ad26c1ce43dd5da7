"""``timeseries_dataset_from_array``: sliding windows over an array as a torch ``DataLoader`` of
``(windows, targets)`` batches, with Keras 3's arguments, window arithmetic and errors, and
without TensorFlow.

Window ``i`` starts at ``start_positions[i] = i * sequence_stride`` (counted from ``start_index``)
and holds ``sequence_length`` steps ``sampling_rate`` apart; its target is
``targets[start_index + start_positions[i]]``. There are
``end_index - start_index - (sequence_length - 1) * sampling_rate`` start candidates (no more than
``len(targets)``). ``shuffle`` permutes the windows with ``np.random.RandomState(seed)`` (Keras's
generator) and again every epoch. Windows are views of one tensor over ``data`` (no copies until
they are batched).

Example:
    >>> import numpy as np
    >>> loader = timeseries_dataset_from_array(np.arange(10), None, sequence_length=3,
    ...                                        sequence_stride=3, batch_size=2)
    >>> [batch.tolist() for batch in loader]
    [[[0, 1, 2], [3, 4, 5]], [[6, 7, 8]]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from kseq.core.data_loader import make_loader

__all__ = ["TimeseriesDataset", "timeseries_dataset_from_array"]


def _as_tensor(array: Any) -> Tensor:
    if isinstance(array, Tensor):
        return array
    return torch.from_numpy(np.ascontiguousarray(np.asarray(array)))


class TimeseriesDataset(Dataset):
    """A map-style torch ``Dataset`` of windows: item ``i`` is ``data[p : p + L * r : r]`` for
    ``p = start_positions[i]`` (and ``(window, targets[p])`` when there are targets).

    Args:
        data: The (already ``start_index:end_index``-sliced) series, time first.
        targets: The (``start_index:``-sliced) targets, or ``None``.
        start_positions: Where each window starts.
        sequence_length: Steps per window.
        sampling_rate: Distance between steps of a window.

    Example:
        >>> ds = TimeseriesDataset(torch.arange(6), None, np.array([0, 2]), 2, 2)
        >>> [ds[i].tolist() for i in range(len(ds))]
        [[0, 2], [2, 4]]
    """

    def __init__(
        self,
        data: Any,
        targets: Any,
        start_positions: np.ndarray,
        sequence_length: int,
        sampling_rate: int = 1,
    ) -> None:
        self.data = _as_tensor(data)
        self.targets = None if targets is None else _as_tensor(targets)
        self.start_positions = np.asarray(start_positions, dtype="int64")
        self.sequence_length = int(sequence_length)
        self.sampling_rate = int(sampling_rate)

    def __len__(self) -> int:
        return len(self.start_positions)

    def __getitem__(self, index: int) -> Any:
        start = int(self.start_positions[index])
        window = self.data[
            start : start + self.sequence_length * self.sampling_rate : self.sampling_rate
        ]
        return window if self.targets is None else (window, self.targets[start])


def _check_arguments(
    data_length: int,
    sequence_stride: int,
    sampling_rate: int,
    start_index: int | None,
    end_index: int | None,
) -> None:
    if start_index:
        if start_index < 0:
            raise ValueError(
                f"`start_index` must be 0 or greater. Received: start_index={start_index}"
            )
        if start_index >= data_length:
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {data_length}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= data_length:
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {data_length}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= data_length:
            raise ValueError(
                f"`{name}` must be lower than the length of the data. Received: "
                f"{name}={value}, for data of length {data_length}"
            )


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
    format: str = "tf",
) -> DataLoader:
    """Creates a dataset of sliding windows over a timeseries (``keras.utils.timeseries_dataset_from_array``).

    Args:
        data: Array or tensor of consecutive data points, time on axis 0.
        targets: Targets for the windows (``targets[i]`` goes with the window starting at ``i``),
            or ``None`` (windows only).
        sequence_length: Length of the output sequences (in number of timesteps).
        sequence_stride: Period between successive windows' starts.
        sampling_rate: Period between successive steps within a window.
        batch_size: Windows per batch (``None``: individual windows).
        shuffle: Shuffle the windows (otherwise chronological order).
        seed: Random seed for shuffling.
        start_index: Data points before this index are not used.
        end_index: Data points from this index on are not used.
        format: ``"tf"`` or ``"grain"``, accepted for Keras code; both give a torch ``DataLoader``.

    Returns:
        A ``torch.utils.data.DataLoader`` yielding ``(windows, targets)`` or ``windows``;
        ``windows`` is ``(batch, sequence_length, *data.shape[1:])`` with ``data``'s dtype.

    Example:
        >>> import numpy as np
        >>> x, y = next(iter(timeseries_dataset_from_array(np.arange(10), np.arange(10) * 10, 4)))
        >>> x[0].tolist(), y[:2].tolist()
        ([0, 1, 2, 3], [0, 10])
    """
    _check_arguments(len(data), sequence_stride, sampling_rate, start_index, end_index)
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    start_index = 0 if start_index is None else start_index
    end_index = len(data) if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    start_positions = np.arange(0, num_seqs, sequence_stride, dtype="int64")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(start_positions)
    dataset = TimeseriesDataset(
        _as_tensor(data)[start_index:end_index],
        None if targets is None else _as_tensor(targets)[start_index:],
        start_positions,
        sequence_length,
        sampling_rate,
    )
    return make_loader(dataset, batch_size, shuffle, seed)
