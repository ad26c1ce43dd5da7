"""``kseq.utils.load_img`` / ``img_to_array`` / ``array_to_img`` / ``save_img`` and
``keras.preprocessing.image.smart_resize``, as the image tutorials use them (files on disk)."""

from __future__ import annotations

import numpy as np
import pytest

import kseq

pytest.importorskip("PIL")


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "photo.png"
    kseq.utils.save_img(str(path), rng.integers(0, 256, (30, 40, 3)).astype("float32"), scale=False)
    return path


def test_the_tutorial_round_trip(photo) -> None:
    img = kseq.utils.load_img(photo, target_size=(20, 20))
    array = kseq.utils.img_to_array(img)
    batch = np.expand_dims(array, 0)  # the "predict on one image" idiom

    assert img.size == (20, 20) and batch.shape == (1, 20, 20, 3) and batch.dtype == np.float32
    assert array.min() >= 0 and array.max() <= 255


def test_grayscale_channels_first_and_back(photo) -> None:
    gray = kseq.utils.img_to_array(
        kseq.utils.load_img(photo, color_mode="grayscale"), data_format="channels_first"
    )
    assert gray.shape == (1, 30, 40)
    again = kseq.utils.array_to_img(gray, data_format="channels_first", scale=False)
    assert again.mode == "L"
    np.testing.assert_array_equal(np.asarray(again), gray[0].astype("uint8"))


def test_errors_say_what_was_received(photo) -> None:
    with pytest.raises(ValueError, match='color_mode must be "grayscale", "rgb", or "rgba"'):
        kseq.utils.load_img(photo, color_mode="cmyk")
    with pytest.raises(ValueError, match=r"rank 3 \(single image\).*\(2, 4, 4, 3\)"):
        kseq.utils.array_to_img(np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match="Invalid interpolation method cubic"):
        kseq.utils.load_img(photo, target_size=(5, 5), interpolation="cubic")


@pytest.mark.keras
@pytest.mark.parametrize("keep_aspect_ratio", [False, True])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "lanczos"])
def test_load_img_matches_keras(keras, photo, keep_aspect_ratio, interpolation) -> None:
    args = dict(
        target_size=(16, 12), interpolation=interpolation, keep_aspect_ratio=keep_aspect_ratio
    )
    ours = np.asarray(kseq.utils.load_img(photo, **args))
    theirs = np.asarray(keras.utils.load_img(photo, **args))
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.keras
def test_array_to_img_and_img_to_array_match_keras(keras) -> None:
    x = np.random.default_rng(1).normal(size=(6, 5, 4)).astype("float32")
    np.testing.assert_array_equal(
        np.asarray(kseq.utils.array_to_img(x)), np.asarray(keras.utils.array_to_img(x))
    )
    img = keras.utils.array_to_img(x[..., :3])
    np.testing.assert_array_equal(
        kseq.utils.img_to_array(img, data_format="channels_first"),
        keras.utils.img_to_array(img, data_format="channels_first"),
    )


@pytest.mark.keras
@pytest.mark.parametrize("shape", [(10, 20, 3), (2, 9, 7, 1)])
def test_smart_resize_matches_keras(keras, shape) -> None:
    x = np.random.default_rng(2).random(shape).astype("float32") * 255
    ours = kseq.preprocessing.image.smart_resize(x, (6, 6))
    theirs = keras.preprocessing.image.smart_resize(x, (6, 6))
    assert isinstance(ours, np.ndarray)
    np.testing.assert_allclose(ours, np.asarray(theirs), atol=1e-3)
