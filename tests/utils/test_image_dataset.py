"""``kseq.utils.image_dataset_from_directory``: a folder of small PNGs read, batched and trained on
without TensorFlow, with Keras's arguments, messages and errors, and the same files in the same
training/validation subsets as Keras for the same seed."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import kseq
from kseq.utils import image_dataset_from_directory

Image = pytest.importorskip("PIL.Image")


def write_folder(root, classes=("dark", "light"), per_class=24, size=(12, 10), seed=0):
    """One sub-folder per class; class k's images are noise around a grey level that grows with k."""
    rng = np.random.default_rng(seed)
    for k, name in enumerate(classes):
        os.makedirs(root / name, exist_ok=True)
        level = 30 + 180 * k / max(len(classes) - 1, 1)
        for i in range(per_class):
            pixels = np.clip(rng.normal(level, 25, (*size, 3)), 0, 255).astype("uint8")
            Image.fromarray(pixels).save(root / name / f"img_{i:03d}.png")
    return root


def test_a_folder_of_pngs_trains_a_classifier(tmp_path, capsys):
    root = write_folder(tmp_path / "photos", per_class=40)
    train, val = image_dataset_from_directory(
        root, image_size=(8, 8), batch_size=16, validation_split=0.25, subset="both", seed=7
    )
    assert capsys.readouterr().out == (
        "Found 80 files belonging to 2 classes.\n"
        "Using 60 files for training.\n"
        "Using 20 files for validation.\n"
    )
    assert train.class_names == val.class_names == ["dark", "light"]
    assert not set(train.file_paths) & set(val.file_paths)
    model = kseq.Sequential(
        [
            kseq.Input((8, 8, 3)),
            kseq.layers.Rescaling(1 / 127.5, offset=-1),
            kseq.layers.Flatten(),
            kseq.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=6, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.9  # chance is 0.5
    assert model.predict(val, verbose=0).shape == (20, 2)


def test_batches_are_channels_last_float32_with_keras_label_encodings(tmp_path):
    root = write_folder(tmp_path, classes=("a", "b", "c"), per_class=3)
    kwargs = {"image_size": (5, 7), "batch_size": 4, "shuffle": False, "verbose": False}
    images, labels = next(iter(image_dataset_from_directory(root, **kwargs)))
    assert images.shape == (4, 5, 7, 3) and images.dtype == torch.float32
    assert float(images.min()) >= 0 and 1 < float(images.max()) <= 255
    assert labels.dtype == torch.int32 and labels.tolist() == [0, 0, 0, 1]
    _, onehot = next(iter(image_dataset_from_directory(root, label_mode="categorical", **kwargs)))
    assert onehot.dtype == torch.float32 and onehot.tolist()[3] == [0.0, 1.0, 0.0]
    only_images = next(iter(image_dataset_from_directory(root, label_mode=None, **kwargs)))
    assert isinstance(only_images, torch.Tensor) and only_images.shape == (4, 5, 7, 3)
    grey = next(iter(image_dataset_from_directory(root, color_mode="grayscale", **kwargs)))[0]
    rgba = next(iter(image_dataset_from_directory(root, color_mode="rgba", **kwargs)))[0]
    assert grey.shape[-1] == 1 and rgba.shape[-1] == 4
    first = next(iter(image_dataset_from_directory(root, data_format="channels_first", **kwargs)))
    assert first[0].shape == (4, 3, 5, 7)
    binary = image_dataset_from_directory(
        root, label_mode="binary", class_names=["c", "a"], **kwargs
    )
    _, y = next(iter(binary))
    assert binary.class_names == ["c", "a"] and y.shape == (4, 1) and y.dtype == torch.float32
    assert y[:, 0].tolist() == [0.0, 0.0, 0.0, 1.0]  # the order given: "c" is class 0


def test_explicit_labels_and_plain_pytorch_use(tmp_path):
    root = write_folder(tmp_path, per_class=2)
    loader = image_dataset_from_directory(
        root, labels=[3, 1, 1, 3], image_size=4, batch_size=None, shuffle=False, verbose=False
    )
    assert loader.class_names == ["1", "3"]
    image, label = next(iter(loader))  # batch_size=None: individual samples
    assert image.shape == (4, 4, 3) and int(label) == 3
    # The loader's dataset is a plain map-style torch Dataset.
    dataset = loader.dataset
    again = torch.utils.data.DataLoader(dataset, batch_size=2)
    assert [tuple(x.shape) for x, _ in again] == [(2, 4, 4, 3), (2, 4, 4, 3)]
    assert dataset.file_paths == loader.file_paths == sorted(loader.file_paths)


def test_shuffled_epochs_differ_but_repeat_for_a_seed(tmp_path):
    root = write_folder(tmp_path, per_class=8)

    def epoch_orders(seed):
        loader = image_dataset_from_directory(
            root, image_size=2, batch_size=16, seed=seed, verbose=False
        )
        return [next(iter(loader))[1].tolist() for _ in range(2)]

    first, second = epoch_orders(5)
    assert first != second and sorted(first) == sorted(second)
    assert epoch_orders(5) == [first, second]


def test_keras_errors(tmp_path):
    root = write_folder(tmp_path, classes=("a", "b", "c"), per_class=1)
    with pytest.raises(ValueError, match=r"If `subset` is set, `validation_split` must be set"):
        image_dataset_from_directory(root, subset="training")
    with pytest.raises(ValueError, match="you must provide a `seed` argument"):
        image_dataset_from_directory(root, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match=r'`subset` must be either "training", "validation"'):
        image_dataset_from_directory(root, validation_split=0.2, subset="train", seed=1)
    with pytest.raises(ValueError, match="must be between 0 and 1, received: 1.5"):
        image_dataset_from_directory(root, validation_split=1.5, subset="training", seed=1)
    with pytest.raises(ValueError, match=r"there must be exactly 2 class_names. Received: "):
        image_dataset_from_directory(root, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match=r'`color_mode` must be one of \{"rgb", "rgba", '):
        image_dataset_from_directory(root, color_mode="bgr")
    with pytest.raises(ValueError, match=r"Expected a tuple of 2 integers. Received: image_size"):
        image_dataset_from_directory(root, image_size=(1, 2, 3))
    with pytest.raises(ValueError, match="Argument `interpolation` should be one of"):
        image_dataset_from_directory(root, interpolation="cubic")
    with pytest.raises(ValueError, match="Lanczos interpolation is not supported"):
        image_dataset_from_directory(root, interpolation="lanczos3")
    with pytest.raises(ValueError, match="Only one of `pad_to_aspect_ratio` & `crop_to_aspect"):
        image_dataset_from_directory(root, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match=r"did not match the names of the subdirectories"):
        image_dataset_from_directory(root, class_names=["a", "zebra"])
    with pytest.raises(ValueError, match=r"len\(labels\) is 2 while we found 3 files"):
        image_dataset_from_directory(root, labels=[0, 1], verbose=False)
    with pytest.raises(ValueError, match=r"`label_mode` argument must be one of"):
        image_dataset_from_directory(root, label_mode="sparse")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"No images found in directory .*Allowed formats"):
        image_dataset_from_directory(empty, verbose=False)


@pytest.mark.keras
def test_same_files_labels_and_subsets_as_keras(tmp_path, keras, capsys):
    from keras.src.utils import dataset_utils

    root = write_folder(tmp_path / "data", classes=("b_cls", "a_cls", "c_cls"), per_class=7)
    os.makedirs(root / "a_cls" / "nested")
    Image.fromarray(np.zeros((3, 3, 3), "uint8")).save(root / "a_cls" / "nested" / "deep.JPG")
    (root / "a_cls" / "notes.txt").write_text("not an image")
    for subset in ("training", "validation"):
        loader = image_dataset_from_directory(
            str(root), image_size=4, validation_split=0.3, subset=subset, seed=11
        )
        ours = capsys.readouterr().out
        paths, labels, names = dataset_utils.index_directory(
            str(root), "inferred", formats=(".bmp", ".gif", ".jpeg", ".jpg", ".png"), seed=11
        )
        paths, labels = dataset_utils.get_training_or_validation_split(paths, labels, 0.3, subset)
        assert ours == capsys.readouterr().out
        assert loader.file_paths == paths and loader.class_names == names
        assert loader.dataset.labels.tolist() == list(labels)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("interpolation", "crop", "pad", "color_mode"),
    [
        ("bilinear", False, False, "rgb"),
        ("nearest", False, False, "grayscale"),
        ("bicubic", True, False, "rgb"),
        ("bilinear", False, True, "rgba"),
    ],
)
def test_pixels_equal_keras_loader(tmp_path, keras, interpolation, crop, pad, color_mode):
    from keras.src.utils import image_dataset_utils

    root = write_folder(tmp_path, classes=("only",), per_class=2, size=(15, 9))
    loader = image_dataset_from_directory(
        root,
        image_size=(6, 8),
        shuffle=False,
        interpolation=interpolation,
        crop_to_aspect_ratio=crop,
        pad_to_aspect_ratio=pad,
        color_mode=color_mode,
        verbose=False,
    )
    images, _ = next(iter(loader))
    channels = {"rgb": 3, "grayscale": 1, "rgba": 4}[color_mode]
    for image, path in zip(images, loader.file_paths, strict=True):
        expected = image_dataset_utils._load_image_grain(
            path, (6, 8), channels, interpolation, "channels_last", crop, pad
        )
        np.testing.assert_allclose(image.numpy(), np.asarray(expected), atol=1e-4)
