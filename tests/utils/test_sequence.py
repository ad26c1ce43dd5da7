"""``pad_sequences`` (also at its legacy ``kseq.preprocessing.sequence`` path) and ``PyDataset``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import kseq
from kseq.utils import PyDataset, Sequence, pad_sequences

SEQUENCES = [[1], [2, 3], [4, 5, 6], []]
OPTIONS = [
    {},
    {"value": -1},
    {"padding": "post"},
    {"maxlen": 2},
    {"maxlen": 2, "truncating": "post", "padding": "post"},
    {"maxlen": 5, "dtype": "float32", "value": 0.5},
]


@pytest.mark.keras
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_pad_sequences_equals_keras(keras: Any, options: dict[str, Any]) -> None:
    expected = keras.utils.pad_sequences(
        SEQUENCES[:3] if options.get("maxlen") == 0 else SEQUENCES, **options
    )
    got = pad_sequences(SEQUENCES[:3] if options.get("maxlen") == 0 else SEQUENCES, **options)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.keras
def test_pad_sequences_of_vectors_equals_keras(keras: Any) -> None:
    sequences = [np.ones((2, 3)), np.full((4, 3), 2.0)]
    np.testing.assert_array_equal(
        pad_sequences(sequences, maxlen=3, dtype="float32"),
        keras.preprocessing.sequence.pad_sequences(sequences, maxlen=3, dtype="float32"),
    )


def test_maxlen_zero_gives_empty_rows() -> None:
    # Keras 3.15 fails here (``s[-0:]`` keeps the whole sequence); an empty result is what it means.
    assert pad_sequences([[1, 2], [3]], maxlen=0).shape == (2, 0)


def test_legacy_paths_are_the_same_function() -> None:
    assert kseq.preprocessing.sequence.pad_sequences is pad_sequences
    assert kseq.utils.pad_sequences is pad_sequences


def test_pad_sequences_errors_say_what_is_expected() -> None:
    with pytest.raises(ValueError, match="must be a list of iterables. Found non-iterable: 3"):
        pad_sequences([[1], 3])
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="set `dtype=object`"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match=r"Shape of sample \(2,\) of sequence at position 1"):
        pad_sequences([np.ones((1, 3)), np.ones((1, 2))])


class Batches(PyDataset):
    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx: int) -> tuple[np.ndarray, np.ndarray]:
        low = idx * self.batch_size
        return self.x[low : low + self.batch_size], self.y[low : low + self.batch_size]

    def on_epoch_end(self) -> None:
        self.epochs_ended += 1


def test_fit_on_a_py_dataset_calls_its_epoch_hook() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    data = Batches(x, y, batch_size=16, workers=4, use_multiprocessing=False, max_queue_size=2)
    assert (data.num_batches, data.workers, data.max_queue_size) == (3, 4, 2)
    model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(1)])
    model.compile(optimizer=kseq.optimizers.SGD(0.1), loss="mse")
    history = model.fit(data, epochs=4, verbose=0)
    assert data.epochs_ended == 4
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(data, verbose=0).shape == (40, 1)


def test_an_infinite_py_dataset_runs_with_steps_per_epoch() -> None:
    class Endless(PyDataset):
        @property
        def num_batches(self) -> None:
            return None

        def __getitem__(self, idx: int) -> tuple[np.ndarray, np.ndarray]:
            return np.full((4, 2), idx % 3, "float32"), np.zeros((4, 1), "float32")

    data = Endless()
    first = list(zip(range(5), data, strict=False))
    assert [int(x[0, 0]) for _, (x, _) in first] == [0, 1, 2, 0, 1]
    model = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert len(model.fit(data, steps_per_epoch=3, epochs=2, verbose=0).history["loss"]) == 2


def test_forgetting_super_init_warns_as_keras() -> None:
    class NoSuper(PyDataset):
        def __init__(self) -> None:
            pass

    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert NoSuper().workers == 1
    assert Sequence is PyDataset
