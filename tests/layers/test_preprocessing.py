"""Rescaling, Normalization (adapt/invert), Resizing and CenterCrop: values, shapes, weights and
configs against Keras 3, plus the behaviour a user relies on inside a model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kseq.layers import CenterCrop, Dense, Flatten, Input, Normalization, Rescaling, Resizing
from kseq.models import Sequential

ATOL = 1e-5


def _images(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, size=shape).astype("float32")


def _run(layer, x: np.ndarray) -> np.ndarray:
    return layer(torch.as_tensor(x)).detach().numpy()


def _keras_run(layer, x: np.ndarray) -> np.ndarray:
    return np.asarray(layer(x))


def _assert_same_config_keys(kseq_layer, keras_layer) -> None:
    assert set(kseq_layer.get_config()) == set(keras_layer.get_config())


# ----------------------------------------------------------------------------- Rescaling
def test_rescaling_maps_uint8_pixels_to_unit_floats() -> None:
    x = torch.tensor([[0, 51, 255]], dtype=torch.uint8)
    out = Rescaling(1 / 255)(x)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), [[0.0, 0.2, 1.0]], atol=1e-7)


def test_rescaling_per_channel_scale_and_offset_roundtrip_config() -> None:
    layer = Rescaling(np.array([1.0, 2.0, 3.0], dtype="float32"), offset=[0.0, 0.0, -1.0])
    out = layer(torch.ones(2, 4, 4, 3))
    np.testing.assert_allclose(out[0, 0, 0].numpy(), [1.0, 2.0, 2.0])
    config = layer.get_config()
    assert config["scale"]["class_name"] == "__numpy__"
    clone = Rescaling.from_config(config)
    np.testing.assert_array_equal(clone(torch.ones(1, 1, 1, 3)).numpy(), out[:1, :1, :1].numpy())


@pytest.mark.keras
@pytest.mark.parametrize(
    ("scale", "offset"), [(1 / 255, 0.0), (1 / 127.5, -1.0), ([0.5, 1.0, 2.0], 0.25)]
)
def test_rescaling_matches_keras(keras, scale, offset) -> None:
    x = _images((2, 5, 5, 3))
    ours = Rescaling(np.array(scale) if isinstance(scale, list) else scale, offset)
    theirs = keras.layers.Rescaling(np.array(scale) if isinstance(scale, list) else scale, offset)
    np.testing.assert_allclose(_run(ours, x), _keras_run(theirs, x), atol=ATOL)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


# ------------------------------------------------------------------------- Normalization
def test_normalization_adapt_standardizes_each_feature() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(loc=[3.0, -2.0], scale=[2.0, 0.5], size=(500, 2)).astype("float32")
    layer = Normalization()
    layer.adapt(data)
    out = layer(torch.as_tensor(data)).numpy()
    np.testing.assert_allclose(out.mean(axis=0), [0.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), [1.0, 1.0], atol=ATOL)  # population variance
    np.testing.assert_allclose(layer.adapt_variance.numpy(), data.var(axis=0), rtol=1e-5)


def test_normalization_adapt_on_batches_equals_adapt_on_all_data() -> None:
    data = _images((50, 3, 4))
    whole, batched, loader = (
        Normalization(axis=(1, 2)),
        Normalization(axis=(1, 2)),
        Normalization(axis=(1, 2)),
    )
    whole.adapt(data)
    batched.adapt(np.array_split(data, 7))  # uneven batches
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(data), torch.zeros(50))
    loader.adapt(torch.utils.data.DataLoader(dataset, batch_size=16))  # yields [x, y]
    for layer in (batched, loader):
        np.testing.assert_allclose(layer.adapt_mean.numpy(), whole.adapt_mean.numpy(), rtol=1e-6)
        np.testing.assert_allclose(
            layer.adapt_variance.numpy(), whole.adapt_variance.numpy(), rtol=1e-5
        )


def test_normalization_invert_undoes_normalization() -> None:
    data = _images((20, 3))
    forward, backward = Normalization(), Normalization(invert=True)
    forward.adapt(data)
    backward.adapt(data)
    x = torch.as_tensor(data[:4])
    np.testing.assert_allclose(backward(forward(x)).numpy(), data[:4], rtol=1e-5)


def test_normalization_weights_are_non_trainable_mean_variance_count() -> None:
    layer = Normalization()
    layer.adapt(_images((10, 4)))
    assert [w.shape for w in layer.get_weights()] == [(4,), (4,), ()]
    assert layer.get_weights()[2].dtype == np.int32
    assert layer.trainable_weights == [] and layer.count_params() == 9
    assert {"adapt_mean", "adapt_variance", "count"} <= set(layer.state_dict())


def test_normalization_with_given_statistics_has_no_weights() -> None:
    layer = Normalization(mean=3.0, variance=2.0)
    out = layer(torch.tensor([[1.0], [2.0], [3.0]]))
    np.testing.assert_allclose(out.numpy()[:, 0], [-1.4142135, -0.70710677, 0.0], atol=1e-6)
    assert layer.get_weights() == []
    assert tuple(layer.mean.shape) == (1, 1)


def test_normalization_errors_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="cannot be adapted"):
        Normalization(mean=1.0, variance=1.0).adapt(np.ones((2, 1)))
    with pytest.raises(ValueError, match="empty iterable"):
        Normalization().adapt([])
    with pytest.raises(TypeError, match="Unsupported data type"):
        Normalization().adapt(3.0)
    layer = Normalization()
    layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.ones((4, 5)))


@pytest.mark.keras
@pytest.mark.parametrize("axis", [-1, None, (1, 2), 1])
@pytest.mark.parametrize("invert", [False, True])
def test_normalization_adapt_matches_keras(keras, axis, invert) -> None:
    data = _images((16, 3, 4), seed=2)
    ours, theirs = (
        Normalization(axis=axis, invert=invert),
        keras.layers.Normalization(axis=axis, invert=invert),
    )
    ours.adapt(data)
    theirs.adapt(data)
    for mine, ref in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert mine.shape == ref.shape and mine.dtype == ref.dtype
        np.testing.assert_allclose(mine, ref, rtol=1e-5)
    x = _images((5, 3, 4), seed=3)
    np.testing.assert_allclose(_run(ours, x), _keras_run(theirs, x), rtol=1e-5, atol=ATOL)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


@pytest.mark.keras
def test_normalization_adapt_on_batches_matches_keras_and_takes_keras_weights(keras) -> None:
    # (Keras's own iterable path needs TensorFlow installed; its array path is the reference.)
    data = _images((30, 5), seed=4)
    theirs = keras.layers.Normalization()
    theirs.adapt(data)
    ours = Normalization()
    ours.build((None, 5))
    ours.set_weights(theirs.get_weights())
    x = _images((3, 5), seed=5)
    np.testing.assert_allclose(_run(ours, x), _keras_run(theirs, x), rtol=1e-5, atol=ATOL)
    mine = Normalization()
    mine.adapt([data[:8], data[8:20], data[20:]])
    np.testing.assert_allclose(mine.get_weights()[1], theirs.get_weights()[1], rtol=1e-5)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("axis", "mean", "variance"),
    [
        (-1, [1.0, 2.0, 3.0, 4.0], [1.0, 4.0, 9.0, 0.0]),
        (None, 2.0, 3.0),
        ((1, 2), [0.5, 1.0, 2.0, 3.0], [2.0] * 4),
    ],
)
def test_normalization_with_given_statistics_matches_keras(keras, axis, mean, variance) -> None:
    x = _images((2, 3, 4), seed=6)
    for invert in (False, True):
        ours = Normalization(axis=axis, mean=mean, variance=variance, invert=invert)
        theirs = keras.layers.Normalization(axis=axis, mean=mean, variance=variance, invert=invert)
        np.testing.assert_allclose(_run(ours, x), _keras_run(theirs, x), rtol=1e-5, atol=ATOL)
        assert ours.get_weights() == theirs.get_weights() == []
        assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


def test_normalization_in_a_model_counts_non_trainable_params() -> None:
    norm = Normalization()
    norm.adapt(_images((8, 3)))
    model = Sequential([Input((3,)), norm, Dense(1)])
    assert model.count_params() == 3 + 3 + 1 + 4
    assert len(model.non_trainable_weights) == 3


# ----------------------------------------------------------------------------- Resizing
RESIZE_CASES = [
    {"interpolation": "bilinear"},
    {"interpolation": "nearest"},
    {"interpolation": "bicubic"},
    {"interpolation": "bilinear", "antialias": True},
    {"interpolation": "bilinear", "crop_to_aspect_ratio": True},
    {"interpolation": "nearest", "crop_to_aspect_ratio": True},
    {"interpolation": "bilinear", "pad_to_aspect_ratio": True, "fill_value": 7.0},
    {"interpolation": "nearest", "pad_to_aspect_ratio": True},
]


@pytest.mark.keras
@pytest.mark.parametrize("kwargs", RESIZE_CASES)
@pytest.mark.parametrize(
    ("in_shape", "size"), [((2, 9, 13, 3), (4, 5)), ((2, 6, 4, 2), (11, 9)), ((7, 5, 1), (3, 8))]
)
def test_resizing_matches_keras(keras, kwargs, in_shape, size) -> None:
    # Keras's torch backend resizes with the same F.interpolate call, so we hold the strict 1e-5
    # (absolute, on 0..255 data) rather than the 1e-4 Keras's own resize tests use across backends.
    x = _images(in_shape, seed=7)
    ours, theirs = Resizing(*size, **kwargs), keras.layers.Resizing(*size, **kwargs)
    out = _run(ours, x)
    np.testing.assert_allclose(out, _keras_run(theirs, x), atol=ATOL, rtol=0)
    assert out.shape == ours.compute_output_shape(in_shape) == theirs.compute_output_shape(in_shape)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


@pytest.mark.keras
def test_resizing_channels_first_and_uint8_match_keras(keras) -> None:
    x = _images((2, 3, 10, 6), seed=8)
    ours = Resizing(4, 4, data_format="channels_first")
    theirs = keras.layers.Resizing(4, 4, data_format="channels_first")
    np.testing.assert_allclose(_run(ours, x), _keras_run(theirs, x), atol=ATOL)
    pixels = x.astype("uint8")
    out = Resizing(5, 3)(torch.as_tensor(pixels))
    assert out.dtype == torch.uint8
    np.testing.assert_array_equal(out.numpy(), _keras_run(keras.layers.Resizing(5, 3), pixels))


def test_resizing_rejects_unsupported_arguments() -> None:
    with pytest.raises(ValueError, match="Lanczos"):
        Resizing(2, 2, interpolation="lanczos3")
    with pytest.raises(ValueError, match="Only one of `pad_to_aspect_ratio`"):
        Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="rank 3"):
        Resizing(2, 2)(torch.ones(4, 4))
    model = Sequential([Input((8,))])
    with pytest.raises(ValueError, match="min_ndim=3"):
        model.add(Resizing(2, 2))


def test_resizing_builds_in_a_model_from_its_output_shape() -> None:
    model = Sequential([Input((32, 24, 3)), Resizing(8, 8), Flatten(), Dense(2)])
    assert model.output_shape == (None, 2)
    assert model.layers[0].output_shape == (None, 8, 8, 3)
    assert model(torch.ones(2, 32, 24, 3)).shape == (2, 2)


# ---------------------------------------------------------------------------- CenterCrop
def test_center_crop_takes_the_middle_window() -> None:
    image = torch.arange(30.0).reshape(1, 5, 6, 1)
    out = CenterCrop(3, 2)(image)[0, ..., 0]
    np.testing.assert_array_equal(out.numpy(), image[0, 1:4, 2:4, 0].numpy())


@pytest.mark.keras
@pytest.mark.parametrize(
    ("in_shape", "size", "data_format"),
    [
        ((2, 9, 8, 3), (4, 5), "channels_last"),  # odd/even differences
        ((2, 4, 6, 3), (8, 5), "channels_last"),  # too small: aspect crop + resize
        ((7, 5, 2), (3, 3), "channels_last"),  # unbatched
        ((2, 3, 9, 8), (4, 6), "channels_first"),
    ],
)
def test_center_crop_matches_keras(keras, in_shape, size, data_format) -> None:
    x = _images(in_shape, seed=9)
    ours = CenterCrop(*size, data_format=data_format)
    theirs = keras.layers.CenterCrop(*size, data_format=data_format)
    out = _run(ours, x)
    np.testing.assert_allclose(out, _keras_run(theirs, x), atol=ATOL)
    assert out.shape == ours.compute_output_shape(in_shape) == theirs.compute_output_shape(in_shape)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


def test_preprocessing_model_round_trips_through_json_config_and_weights() -> None:
    import json

    norm = Normalization()
    norm.adapt(_images((10, 8, 8, 3)))
    layers = [Input((8, 8, 3)), Rescaling(1 / 255), norm, Resizing(6, 6), CenterCrop(4, 4)]
    model = Sequential([*layers, Flatten(), Dense(2)])
    clone = Sequential.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    x = torch.as_tensor(_images((2, 8, 8, 3), seed=1))
    torch.testing.assert_close(clone(x), model(x))
