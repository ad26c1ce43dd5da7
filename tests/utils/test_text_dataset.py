"""``kseq.utils.text_dataset_from_directory``: a folder of ``.txt`` files as batches of Python
strings and Keras-encoded labels, without TensorFlow, with Keras's messages and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import kseq
from kseq.utils import text_dataset_from_directory


def write_reviews(root, per_class=6):
    for label, words in (("neg", "awful bad boring"), ("pos", "great good lovely")):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            (root / label / f"{i:02d}.txt").write_text(f"{words} number {i}")
    (root / "pos" / "README.md").write_text("not a sample")
    return root


def test_texts_and_labels(tmp_path, capsys):
    root = write_reviews(tmp_path / "reviews")
    loader = text_dataset_from_directory(root, batch_size=4, shuffle=False, max_length=9)
    assert capsys.readouterr().out == "Found 12 files belonging to 2 classes.\n"
    texts, labels = next(iter(loader))
    assert texts == ["awful bad"] * 4 and isinstance(texts, list)
    assert labels.dtype == torch.int32 and labels.tolist() == [0, 0, 0, 0]
    assert loader.class_names == ["neg", "pos"]
    assert sum(len(t) for t, _ in loader) == 12
    _, binary = next(iter(text_dataset_from_directory(root, label_mode="binary", verbose=False)))
    assert binary.shape == (12, 1) and binary.dtype == torch.float32
    only = next(iter(text_dataset_from_directory(root, labels=None, shuffle=False, verbose=False)))
    assert isinstance(only, list) and only[0] == "awful bad boring number 0"


def test_subsets_and_training_on_texts(tmp_path, capsys):
    root = write_reviews(tmp_path, per_class=20)
    train, val = text_dataset_from_directory(
        root, batch_size=8, validation_split=0.25, subset="both", seed=3
    )
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Using 30 files for training.",
        "Using 10 files for validation.",
    ]
    vocab = {w: i + 1 for i, w in enumerate(("awful", "bad", "boring", "great", "good", "lovely"))}

    def encode(texts):
        return torch.tensor([[vocab.get(w, 0) for w in t.split()[:3]] for t in texts])

    model = kseq.Sequential(
        [
            kseq.Input((3,), dtype="int64"),
            kseq.layers.Embedding(7, 4),
            kseq.layers.GlobalAveragePooling1D(),
            kseq.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(kseq.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    for _ in range(5):
        for texts, labels in train:
            model.train_on_batch(encode(texts), labels.float()[:, None])
    x_val, y_val = zip(*((encode(t), y) for t, y in val), strict=True)
    accuracy = model.evaluate(torch.cat(x_val), torch.cat(y_val).float(), verbose=0)[1]
    assert accuracy > 0.9  # chance is 0.5


def test_keras_errors(tmp_path):
    root = write_reviews(tmp_path)
    with pytest.raises(ValueError, match="`labels` argument should be a list/tuple of integer"):
        text_dataset_from_directory(root, labels="folders")
    with pytest.raises(ValueError, match='You can only pass `class_names` if `labels="inferred"`'):
        text_dataset_from_directory(root, labels=[0] * 12, class_names=["a"])
    with pytest.raises(ValueError, match='`format` should be either "tf" or "grain"'):
        text_dataset_from_directory(root, format="torch")
    with pytest.raises(ValueError, match=r"If `subset` is set, `validation_split` must be set"):
        text_dataset_from_directory(root, validation_split=0.5)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        ValueError, match=r"No text files found in directory .*Allowed format: .txt"
    ):
        text_dataset_from_directory(empty, labels=None, verbose=False)


@pytest.mark.keras
def test_same_subsets_as_keras(tmp_path, keras):
    from keras.src.utils import dataset_utils

    root = write_reviews(tmp_path, per_class=9)
    loader = text_dataset_from_directory(
        str(root), batch_size=None, validation_split=0.4, subset="validation", seed=2,
        verbose=False,
    )  # fmt: skip
    paths, labels, _ = dataset_utils.index_directory(
        str(root), "inferred", formats=(".txt",), seed=2, verbose=False
    )
    paths, labels = dataset_utils.get_training_or_validation_split(paths, labels, 0.4, "validation")
    expected = [(Path(p).read_text(), int(y)) for p, y in zip(paths, labels, strict=True)]
    # The same files with the same labels; the loader then reshuffles every epoch.
    dataset = loader.dataset
    assert [(dataset[i][0], int(dataset[i][1])) for i in range(len(dataset))] == expected
    assert sorted((t, int(y)) for t, y in loader) == sorted(expected)
    assert np.array_equal(dataset.labels.numpy(), labels)
