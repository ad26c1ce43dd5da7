"""``kseq.utils.split_dataset``: Keras's size arithmetic and errors, torch datasets out, and (with
``shuffle`` and a ``seed``) the very split Keras's torch backend makes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq
from kseq.utils import split_dataset


def test_fractions_and_counts_of_arrays_tuples_lists_and_datasets():
    x, y = np.arange(20).reshape(10, 2).astype("float32"), np.arange(10)
    left, right = split_dataset(x, left_size=0.8)
    assert (len(left), len(right)) == (8, 2)
    assert isinstance(left, torch.utils.data.Dataset) and left[0][0].tolist() == [0.0, 1.0]
    left, right = split_dataset((x, y), right_size=3)
    assert (len(left), len(right)) == (7, 3)
    assert [int(right[i][1]) for i in range(3)] == [7, 8, 9]  # no shuffle: the last ones
    left, right = split_dataset([x, y], left_size=2, right_size=5)
    assert [int(s[1]) for s in left] == [0, 1] and [int(s[1]) for s in right] == [5, 6, 7, 8, 9]
    dataset = torch.utils.data.TensorDataset(torch.arange(10))
    left, right = split_dataset(dataset, left_size=0.5, shuffle=True, seed=1)
    values = sorted(int(s[0]) for s in left) + sorted(int(s[0]) for s in right)
    assert sorted(values) == list(range(10)) and values != list(range(10))


def test_the_splits_train_and_validate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")[:, None]
    train, test = split_dataset((x, y), left_size=0.75, shuffle=True, seed=0)
    model = kseq.Sequential([kseq.Input((4,)), kseq.layers.Dense(1, activation="sigmoid")])
    model.compile(kseq.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    loader = torch.utils.data.DataLoader(train, batch_size=32, shuffle=True)
    model.fit(loader, epochs=10, verbose=0)
    test_x, test_y = (torch.stack(t) for t in zip(*test, strict=True))
    assert model.evaluate(test_x, test_y, verbose=0)[1] > 0.9  # chance is about 0.5


@pytest.mark.parametrize(
    ("left", "right", "error", "message"),
    [
        (
            None,
            None,
            ValueError,
            "At least one of the `left_size` or `right_size` must be specified",
        ),
        ("a", "b", TypeError, "Invalid `left_size` and `right_size` Types"),
        ("a", None, TypeError, "Invalid `left_size` Type"),
        (0, 0, ValueError, "Both `left_size` and `right_size` are zero"),
        (10, None, ValueError, "`left_size` should be either a positive integer smaller than 10"),
        (None, 1.5, ValueError, "`right_size` should be either a positive integer and smaller"),
        (0.6, 0.6, ValueError, "The sum of `left_size` and `right_size` is greater than 1"),
        (6, 6, ValueError, "The sum of `left_size` and `right_size` should be smaller than the 10"),
        (0.01, None, ValueError, "Resulting left side dataset split will be empty"),
    ],
)
def test_size_errors(left, right, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace("[", r"\[")):
        split_dataset(np.zeros((10, 1)), left_size=left, right_size=right)


def test_dataset_errors():
    with pytest.raises(TypeError, match=r"must be a `torch.utils.data.Dataset` object, or a list"):
        split_dataset({"x": np.zeros(3)}, left_size=1)
    with pytest.raises(ValueError, match="Received an empty list dataset"):
        split_dataset([], left_size=1)
    with pytest.raises(ValueError, match="Received a tuple of NumPy arrays with different lengths"):
        split_dataset((np.zeros(3), np.zeros(4)), left_size=1)
    with pytest.raises(ValueError, match='`preferred_backend` must be None or "torch"'):
        split_dataset(np.zeros(3), left_size=1, preferred_backend="tensorflow")


@pytest.mark.keras
@pytest.mark.parametrize(("left", "right"), [(0.7, None), (None, 4), (3, 0.7)])
def test_same_split_as_keras_with_a_seed(keras, left, right):
    x, y = np.arange(30).reshape(10, 3).astype("float32"), np.arange(10)
    ours = split_dataset((x, y), left_size=left, right_size=right, shuffle=True, seed=42)
    theirs = keras.utils.split_dataset(
        (x, y), left_size=left, right_size=right, shuffle=True, seed=42
    )
    for mine, keras_split in zip(ours, theirs, strict=True):
        assert [int(s[1]) for s in mine] == [int(s[1]) for s in keras_split]
        np.testing.assert_array_equal(mine[0][0].numpy(), keras_split[0][0].numpy())


@pytest.mark.keras
@pytest.mark.parametrize(
    ("left", "right"),
    [("a", "b"), ("a", None), (None, "b"), (0, 0), (10, None), (None, 1.5), (0.6, 0.6), (6, 6),
     (0.01, None), (-1, None)],
)  # fmt: skip
def test_size_error_text_equals_keras(keras, left, right):
    from keras.src.utils.dataset_utils import _rescale_dataset_split_sizes

    from kseq.core.split_dataset import rescale_split_sizes

    with pytest.raises((TypeError, ValueError)) as theirs:
        _rescale_dataset_split_sizes(left, right, 10)
    with pytest.raises(theirs.type) as ours:
        rescale_split_sizes(left, right, 10)
    assert str(ours.value) == str(theirs.value)
