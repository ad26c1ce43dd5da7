"""``kseq.utils.timeseries_dataset_from_array``: Keras's windows and targets, exactly, without
TensorFlow — against a reference written from Keras's documented semantics, Keras's own docstring
examples, and (where TensorFlow is installed) Keras's output."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import kseq
from kseq.utils import timeseries_dataset_from_array


def reference_windows(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                      start_index=None, end_index=None):  # fmt: skip
    """Keras's semantics, one window at a time: window i starts at start_index + i * stride, holds
    sequence_length points sampling_rate apart ending before end_index, and its target is the
    target at its first point."""
    start = start_index or 0
    end = len(data) if end_index is None else end_index
    windows, window_targets = [], []
    first = start
    while first + (sequence_length - 1) * sampling_rate < end:
        if targets is not None and first - start >= len(targets):
            break
        windows.append([data[first + k * sampling_rate] for k in range(sequence_length)])
        if targets is not None:
            window_targets.append(targets[first])
        first += sequence_stride
    return np.array(windows), (np.array(window_targets) if targets is not None else None)


def collect(loader, with_targets):
    if with_targets:
        xs, ys = zip(*loader, strict=True)
        return torch.cat(xs).numpy(), torch.cat(ys).numpy()
    return torch.cat(list(loader)).numpy(), None


CASES = list(
    itertools.product(
        (1, 4),  # sequence_length
        (1, 3),  # sequence_stride
        (1, 2),  # sampling_rate
        (None, 5),  # start_index
        (None, 40),  # end_index
        (True, False),  # with targets
    )
)


@pytest.mark.parametrize(
    ("length", "stride", "rate", "start", "end", "with_targets"), CASES
)  # fmt: skip
def test_windows_and_targets_match_the_reference(length, stride, rate, start, end, with_targets):
    data = np.arange(50 * 2).reshape(50, 2).astype("float32")
    targets = np.arange(50) * 10 if with_targets else None
    loader = timeseries_dataset_from_array(
        data, targets, length, sequence_stride=stride, sampling_rate=rate, batch_size=7,
        start_index=start, end_index=end,
    )  # fmt: skip
    windows, window_targets = collect(loader, with_targets)
    expected, expected_targets = reference_windows(data, targets, length, stride, rate, start, end)
    np.testing.assert_array_equal(windows, expected)
    if with_targets:
        np.testing.assert_array_equal(window_targets, expected_targets)
    assert windows.dtype == np.float32 and all(
        len(b[0] if with_targets else b) <= 7 for b in loader
    )


def test_keras_docstring_examples():
    # Example 1: sampling_rate=2, targets offset by 10.
    data = np.arange(100)
    loader = timeseries_dataset_from_array(
        data[:-10], data[10:], sequence_length=10, sampling_rate=2, batch_size=1
    )
    inputs, targets = next(iter(loader))
    assert inputs[0].tolist() == list(range(0, 20, 2)) and int(targets[0]) == 10
    # Example 2: targets = the step after the window.
    sequence = np.arange(10)
    windows, targets = next(iter(timeseries_dataset_from_array(sequence, sequence[3:], 3)))
    assert windows[0].tolist() == [0, 1, 2] and int(targets[0]) == 3
    assert len(windows) == 7
    # Example 3: non-overlapping many-to-many windows.
    x, y = np.arange(100), np.arange(100) * 2
    inputs = timeseries_dataset_from_array(x, None, sequence_length=20, sequence_stride=20)
    outputs = timeseries_dataset_from_array(y, None, sequence_length=20, sequence_stride=20)
    first_in, first_out = next(iter(zip(inputs, outputs, strict=True)))
    assert first_in[0].tolist() == list(range(20)) and first_out[1].tolist() == list(
        range(40, 80, 2)
    )


def test_shuffle_draws_every_window_once_per_epoch_and_repeats_for_a_seed():
    data = np.arange(30)

    def epochs(seed):
        loader = timeseries_dataset_from_array(
            data, data, 4, batch_size=None, shuffle=True, seed=seed
        )
        return [[int(y) for _, y in loader] for _ in range(2)]

    first, second = epochs(3)
    assert sorted(first) == sorted(second) == list(range(27))
    assert first != second and first != sorted(first)
    assert epochs(3) == [first, second]


def test_a_forecaster_trains_on_the_windows():
    t = np.arange(400, dtype="float32")
    series = np.sin(t / 8).astype("float32")[:, None]
    loader = timeseries_dataset_from_array(
        series[:-1], series[8:], sequence_length=8, batch_size=32, shuffle=True, seed=0
    )
    model = kseq.Sequential(
        [
            kseq.Input((8, 1)),
            kseq.layers.Flatten(),
            kseq.layers.Dense(16, "tanh"),
            kseq.layers.Dense(1),
        ]
    )
    model.compile(kseq.optimizers.Adam(0.01), "mse")
    history = model.fit(loader, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


def test_keras_errors():
    data = np.zeros(10)
    with pytest.raises(
        ValueError, match=r"`start_index` must be 0 or greater. Received: start_index=-1"
    ):
        timeseries_dataset_from_array(data, None, 2, start_index=-1)
    with pytest.raises(
        ValueError, match=r"`start_index` must be lower than the length of the data"
    ):
        timeseries_dataset_from_array(data, None, 2, start_index=10)
    with pytest.raises(ValueError, match=r"`end_index` must be higher than `start_index`"):
        timeseries_dataset_from_array(data, None, 2, start_index=5, end_index=3)
    with pytest.raises(ValueError, match=r"`end_index` must be lower than the length of the data"):
        timeseries_dataset_from_array(data, None, 2, end_index=10)
    with pytest.raises(
        ValueError, match=r"`sampling_rate` must be higher than 0. Received: sampling_rate=0"
    ):
        timeseries_dataset_from_array(data, None, 2, sampling_rate=0)
    with pytest.raises(
        ValueError,
        match=r"`sequence_stride` must be lower than the length of the data. Received: sequence_stride=10, for data of length 10",
    ):
        timeseries_dataset_from_array(data, None, 2, sequence_stride=10)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("length", "stride", "rate", "start", "end"), [(4, 3, 2, 5, 40), (1, 1, 1, None, None)]
)
def test_windows_equal_keras(keras, length, stride, rate, start, end):
    pytest.importorskip("tensorflow")  # Keras's own version runs on tf.data
    data = np.arange(100).reshape(50, 2).astype("float32")
    targets = np.arange(50) * 10
    kwargs = {"sequence_stride": stride, "sampling_rate": rate, "batch_size": 7,
              "start_index": start, "end_index": end}  # fmt: skip
    theirs = keras.utils.timeseries_dataset_from_array(data, targets, length, **kwargs)
    ours = timeseries_dataset_from_array(data, targets, length, **kwargs)
    for (x, y), (kx, ky) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(x.numpy(), np.asarray(kx))
        np.testing.assert_array_equal(y.numpy(), np.asarray(ky))
