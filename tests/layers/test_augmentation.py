"""Random augmentation layers: identity in inference, random in training, exact geometry when the
draw is pinned (against NumPy and against Keras 3 with the same pinned range), seeds, shapes,
configs, and a model that trains with augmentation on and predicts deterministically."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq
from kseq.core.image_ops import affine_transform
from kseq.layers import (
    Dense,
    Flatten,
    Input,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
)
from kseq.models import Sequential

ATOL = 1e-5


def _images(shape: tuple[int, ...], seed: int = 0, high: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, high, size=shape).astype("float32")


# Every layer, with arguments that make its training output differ from its input.
LAYERS = {
    "RandomFlip": lambda **kw: RandomFlip(**kw),
    "RandomRotation": lambda **kw: RandomRotation(0.2, **kw),
    "RandomZoom": lambda **kw: RandomZoom(0.3, **kw),
    "RandomTranslation": lambda **kw: RandomTranslation(0.3, 0.3, **kw),
    "RandomContrast": lambda **kw: RandomContrast((0.5, 0.5), value_range=(0, 1), **kw),
    "RandomBrightness": lambda **kw: RandomBrightness(0.3, value_range=(0, 1), **kw),
    "RandomCrop": lambda **kw: RandomCrop(5, 6, **kw),
}
KERAS_ARGS = {
    "RandomFlip": (),
    "RandomRotation": (0.2,),
    "RandomZoom": (0.3,),
    "RandomTranslation": (0.3, 0.3),
    "RandomContrast": (0.5,),
    "RandomBrightness": (0.3,),
    "RandomCrop": (5, 6),
}


def _expected_inference(name: str, x: torch.Tensor) -> torch.Tensor:
    if name == "RandomCrop":  # centred aspect-ratio crop + resize (see the RandomCrop docstring)
        return Resizing(5, 6, crop_to_aspect_ratio=True)(x)
    return x


# ------------------------------------------------------------------ behaviour shared by all
@pytest.mark.parametrize("name", list(LAYERS))
def test_inference_returns_the_input(name) -> None:
    x = torch.as_tensor(_images((4, 8, 9, 3)))
    layer = LAYERS[name](seed=1)
    expected = _expected_inference(name, x)
    torch.testing.assert_close(layer(x, training=False), expected, rtol=0, atol=0)
    layer.eval()  # training=None -> self.training, as in predict/evaluate
    torch.testing.assert_close(layer(x), expected, rtol=0, atol=0)


@pytest.mark.parametrize("name", list(LAYERS))
def test_training_changes_the_input_and_keeps_the_shape_contract(name) -> None:
    x = torch.as_tensor(_images((16, 8, 9, 3)))
    layer = LAYERS[name](seed=1)
    out = layer(x)  # a fresh layer is in training mode, as Keras's `training=True` default
    assert out.shape == layer.compute_output_shape(tuple(x.shape))
    if out.shape == x.shape:
        assert not torch.equal(out, x)
    single = layer(x[0])  # unbatched (H, W, C)
    assert single.shape == layer.compute_output_shape(tuple(x.shape[1:]))


@pytest.mark.parametrize("name", list(LAYERS))
def test_seed_makes_draws_reproducible(name) -> None:
    x = torch.as_tensor(_images((8, 8, 9, 3)))
    a, b, c = LAYERS[name](seed=7), LAYERS[name](seed=7), LAYERS[name](seed=8)
    first = a(x)
    torch.testing.assert_close(first, b(x), rtol=0, atol=0)
    assert not torch.equal(a(x), first)  # the generator advances: the next batch differs
    if name != "RandomCrop":  # (few distinct crops exist for 8x9 -> 5x6)
        assert not torch.equal(c(x), first)


@pytest.mark.parametrize("name", list(LAYERS))
def test_unseeded_layers_follow_the_global_seed(name) -> None:
    x = torch.as_tensor(_images((8, 8, 9, 3)))
    kseq.utils.set_random_seed(3)
    first = LAYERS[name]()(x)
    kseq.utils.set_random_seed(3)
    torch.testing.assert_close(LAYERS[name]()(x), first, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["RandomFlip", "RandomRotation", "RandomContrast", "RandomCrop"])
def test_channels_first_is_the_transposed_channels_last(name) -> None:
    x = torch.as_tensor(_images((4, 8, 9, 2)))
    last = LAYERS[name](seed=5)(x)
    first = LAYERS[name](seed=5, data_format="channels_first")(x.permute(0, 3, 1, 2))
    torch.testing.assert_close(first.permute(0, 2, 3, 1), last, atol=ATOL, rtol=0)


@pytest.mark.keras
@pytest.mark.parametrize("name", list(LAYERS))
def test_config_matches_keras(keras, name) -> None:
    ours = LAYERS[name](seed=3)
    args = KERAS_ARGS[name]
    extra = {"value_range": (0, 1)} if name in ("RandomContrast", "RandomBrightness") else {}
    if name == "RandomContrast":
        args = ((0.5, 0.5),)
    theirs = getattr(keras.layers, name)(*args, seed=3, **extra)
    config = ours.get_config()
    keras_config = theirs.get_config()
    if name == "RandomBrightness":
        keras_config["value_range"] = list(keras_config["value_range"])
    assert config == {**keras_config, "name": ours.name}
    clone = type(ours).from_config(config)
    assert clone.get_config() == config


def test_random_crop_config_seed_is_an_int_when_not_given() -> None:
    assert isinstance(RandomCrop(2, 2).get_config()["seed"], int)


def test_invalid_arguments_raise_keras_errors() -> None:
    with pytest.raises(ValueError, match="unknown mode argument"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"in the range \[-1, 1\]"):
        RandomRotation(1.5)
    with pytest.raises(ValueError, match=r"in the range \(-1.0, 1.0\]"):
        RandomZoom(-1.0)
    with pytest.raises(ValueError, match=r"in the range \[-1.0, 1.0\]"):
        RandomTranslation(0.1, 1.2)
    with pytest.raises(ValueError, match=r"in the range \[0, 1\]"):
        RandomContrast(2.0)
    with pytest.raises(ValueError, match="`value_range` argument should be a list of two numbers"):
        RandomBrightness(0.1, value_range=1)
    with pytest.raises(NotImplementedError, match="Unknown `fill_mode` mirror"):
        RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="Unknown `interpolation`"):
        RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="rank 3 .* or 4"):
        RandomFlip()(torch.ones(4, 4))


# ------------------------------------------------------------------ pinned geometry
def _pin_uniform(layer, value: float) -> None:
    """Make the layer's U[0, 1) draws return ``value`` (its ranges then pin the transform)."""
    layer._uniform = lambda n, low, high, like: torch.full((n,), value) * (high - low) + low


def test_random_flip_pinned_draws_flip_exactly() -> None:
    x = torch.as_tensor(_images((3, 4, 5, 2)))
    for mode, axes in [
        ("horizontal", (2,)),
        ("vertical", (1,)),
        ("horizontal_and_vertical", (1, 2)),
    ]:
        layer = RandomFlip(mode)
        _pin_uniform(layer, 0.0)  # <= 0.5: flip
        torch.testing.assert_close(layer(x), x.flip(axes), rtol=0, atol=0)
        _pin_uniform(layer, 0.9)  # > 0.5: keep
        torch.testing.assert_close(layer(x), x, rtol=0, atol=0)


def test_random_flip_flips_about_half_of_the_images_each_way() -> None:
    x = torch.as_tensor(_images((200, 3, 3, 1)))
    out = RandomFlip("horizontal", seed=0)(x)
    flipped = (out == x.flip(2)).flatten(1).all(1)
    kept = (out == x).flatten(1).all(1)
    assert bool((flipped | kept).all())
    assert 60 < int(flipped.sum()) < 140


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_random_rotation_by_quarter_turns_equals_rot90(fill_mode, interpolation) -> None:
    x = _images((2, 6, 6, 3))
    for turns in (1, -1, 2):
        layer = RandomRotation(
            (turns / 4, turns / 4), fill_mode=fill_mode, interpolation=interpolation
        )
        out = layer(torch.as_tensor(x)).numpy()
        np.testing.assert_allclose(out, np.rot90(x, k=turns, axes=(1, 2)), atol=ATOL)


def test_random_rotation_of_non_square_image_fills_corners() -> None:
    x = np.ones((1, 4, 8, 1), dtype="float32")
    out = RandomRotation((0.25, 0.25), fill_mode="constant", fill_value=-1.0)(torch.as_tensor(x))
    assert out.shape == (1, 4, 8, 1)
    assert float(out.min()) == -1.0 and float(out.max()) == 1.0


@pytest.mark.parametrize(
    ("fill_mode", "pad_mode"),
    [("constant", "constant"), ("nearest", "edge"), ("reflect", "symmetric"), ("wrap", "wrap")],
)
def test_random_translation_by_whole_pixels_is_a_shift_with_the_fill_mode(
    fill_mode, pad_mode
) -> None:
    x = _images((2, 6, 8, 1))
    dy, dx = 2, -3  # down 2, left 3
    layer = RandomTranslation((dy / 6, dy / 6), (dx / 8, dx / 8), fill_mode=fill_mode)
    out = layer(torch.as_tensor(x)).numpy()
    padded = np.pad(x, ((0, 0), (6, 6), (8, 8), (0, 0)), mode=pad_mode)
    expected = padded[:, 6 - dy : 12 - dy, 8 - dx : 16 - dx]
    np.testing.assert_allclose(out, expected, atol=ATOL)


def test_random_zoom_pinned_zooms_in_on_the_centre() -> None:
    x = _images((1, 8, 8, 1))
    out = RandomZoom((-0.5, -0.5), interpolation="nearest")(torch.as_tensor(x)).numpy()
    # zoom 0.5 about the centre 3.5: output pixel i reads input 0.5 * i + 1.75 (nearest)
    idx = np.round(0.5 * np.arange(8) + 1.75).astype(int)
    np.testing.assert_allclose(out[0, :, :, 0], x[0][np.ix_(idx, idx, [0])][..., 0], atol=ATOL)


def test_random_contrast_pinned_follows_keras_formula() -> None:
    x = _images((2, 5, 5, 3), high=255.0)
    factor = 1.7
    out = RandomContrast((1 - factor, factor - 1))(torch.as_tensor(x)).numpy()  # U[1.7, 1.7]
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(
        out, np.clip((x - mean) * factor + mean, 0, 255), rtol=1e-5, atol=1e-3
    )


def test_random_brightness_pinned_adds_the_delta_and_clips() -> None:
    x = _images((2, 4, 4, 3))
    out = RandomBrightness((0.25, 0.25), value_range=(0, 1))(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(out, np.clip(x + 0.25, 0, 1), atol=1e-6)


def test_random_crop_takes_one_window_of_the_input_per_batch() -> None:
    x = torch.arange(2 * 10 * 12, dtype=torch.float32).reshape(2, 10, 12, 1)
    out = RandomCrop(4, 5, seed=0)(x)
    top, left = int(out[0, 0, 0, 0]) // 12, int(out[0, 0, 0, 0]) % 12
    torch.testing.assert_close(out, x[:, top : top + 4, left : left + 5], rtol=0, atol=0)
    tops = {int(RandomCrop(4, 5, seed=s)(x)[0, 0, 0, 0]) // 12 for s in range(20)}
    assert tops <= set(range(7)) and len(tops) > 2


def test_random_crop_of_a_small_image_resizes_in_training() -> None:
    x = torch.as_tensor(_images((2, 4, 4, 1)))
    torch.testing.assert_close(RandomCrop(6, 6)(x), Resizing(6, 6)(x))


# ------------------------------------------------------------------ Keras parity, pinned
PINNED = [
    ("RandomRotation", (0.1,), {}),
    ("RandomRotation", (-0.3,), {"fill_mode": "constant", "fill_value": 0.5}),
    ("RandomRotation", (0.15,), {"fill_mode": "wrap", "interpolation": "nearest"}),
    ("RandomRotation", (0.4,), {"fill_mode": "nearest"}),
    ("RandomZoom", (0.4, -0.3), {}),
    ("RandomZoom", (-0.4, None), {"fill_mode": "constant"}),
    ("RandomZoom", (0.25, 0.5), {"fill_mode": "wrap", "interpolation": "nearest"}),
    ("RandomTranslation", (0.13, -0.21), {}),
    ("RandomTranslation", (-0.3, 0.27), {"fill_mode": "constant", "fill_value": 2.0}),
    ("RandomTranslation", (0.5, 0.5), {"fill_mode": "wrap"}),
    ("RandomTranslation", (0.2, -0.4), {"fill_mode": "nearest", "interpolation": "nearest"}),
]


def _pinned(value: float | None) -> tuple[float, float] | None:
    return None if value is None else (value, value)


@pytest.mark.keras
@pytest.mark.parametrize(("name", "factors", "kwargs"), PINNED)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pinned_geometric_transforms_match_keras(keras, name, factors, kwargs, data_format) -> None:
    shape = (3, 7, 10, 2) if data_format == "channels_last" else (3, 2, 7, 10)
    x = _images(shape, seed=11)
    if name == "RandomRotation":
        args: tuple = ((factors[0], factors[0]),)  # keras.RandomRotation takes (lower, upper) too
    else:
        args = tuple(_pinned(f) for f in factors)
    ours = getattr(kseq.layers, name)(*args, data_format=data_format, **kwargs)
    theirs = getattr(keras.layers, name)(*args, data_format=data_format, **kwargs)
    np.testing.assert_allclose(
        ours(torch.as_tensor(x)).numpy(), np.asarray(theirs(x, training=True)), atol=ATOL
    )


@pytest.mark.keras
def test_pinned_color_transforms_match_keras(keras) -> None:
    x = _images((3, 5, 6, 3), seed=12, high=255.0)
    for ours, theirs in [
        (RandomContrast((-0.6, 0.6)), keras.layers.RandomContrast((-0.6, 0.6))),
        (RandomContrast((-0.2, 0.2)), keras.layers.RandomContrast((-0.2, 0.2))),
        (RandomBrightness((0.2, 0.2)), keras.layers.RandomBrightness((0.2, 0.2))),
        (RandomBrightness((-0.5, -0.5)), keras.layers.RandomBrightness((-0.5, -0.5))),
    ]:
        np.testing.assert_allclose(
            ours(torch.as_tensor(x)).numpy(),
            np.asarray(theirs(x, training=True)),
            rtol=1e-6,
            atol=1e-3,
        )


@pytest.mark.keras
def test_random_crop_inference_is_keras_documented_centre_crop(keras) -> None:
    x = _images((2, 9, 14, 3), seed=13)
    ours = RandomCrop(4, 4).eval()(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(
        ours, np.asarray(keras.layers.Resizing(4, 4, crop_to_aspect_ratio=True)(x)), atol=ATOL
    )


@pytest.mark.keras
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "mirror", "wrap"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_transform_matches_keras_ops(keras, fill_mode, interpolation) -> None:
    rng = np.random.default_rng(14)
    x = _images((3, 9, 11, 2), seed=15)
    angle, zoom, shift = rng.uniform(-3, 3, 3), rng.uniform(0.5, 1.8, 3), rng.uniform(-6, 6, (3, 2))
    cos, sin = np.cos(angle) * zoom, np.sin(angle) * zoom
    transform = np.stack(
        [cos, -sin, shift[:, 0] + 5, sin, cos, shift[:, 1] + 4, 0 * cos, 0 * cos], 1
    )
    transform = transform.astype("float32")
    for fill_value in (0.0, 0.7):
        ours = affine_transform(
            torch.as_tensor(x), torch.as_tensor(transform), interpolation, fill_mode, fill_value
        )
        theirs = keras.ops.image.affine_transform(
            x, transform.copy(), interpolation, fill_mode, fill_value
        )
        np.testing.assert_allclose(ours.numpy(), np.asarray(theirs), atol=ATOL)


# ------------------------------------------------------------------ in a model
def test_model_with_augmentation_trains_and_predicts_deterministically() -> None:
    # Bright vs dark 8x8 images: the label survives flips and rotations.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=256).astype("float32")
    x = rng.uniform(0, 128, size=(256, 8, 8, 1)) + 100 * y[:, None, None, None]
    x = x.astype("float32")
    flip = RandomFlip(seed=1)
    seen = []
    flip.register_forward_hook(lambda module, args, out: seen.append(module.training))
    model = Sequential(
        [
            Input((8, 8, 1)),
            Rescaling(1 / 255),
            flip,
            RandomRotation(0.1, seed=2),
            Flatten(),
            Dense(16, activation="relu"),
            Dense(1, activation="sigmoid"),
        ]
    )
    optimizer = kseq.optimizers.Adam(learning_rate=0.01)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert any(seen), "augmentation layers ran in training mode during fit"
    assert history.history["loss"][-1] < history.history["loss"][0]
    first = model.predict(x[:16], verbose=0)
    np.testing.assert_array_equal(model.predict(x[:16], verbose=0), first)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] > 0.85


@pytest.mark.cuda
def test_layers_run_on_the_gpu_without_host_syncs() -> None:
    x = torch.as_tensor(_images((8, 8, 9, 3))).cuda()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for name, make in LAYERS.items():
            layer = make(seed=1)
            out = layer(x)
            assert out.device == x.device, name
            assert layer(x, training=False).device == x.device, name
    finally:
        torch.cuda.set_sync_debug_mode("default")
    pinned = RandomRotation((0.1, 0.1), fill_mode="wrap")
    torch.testing.assert_close(pinned(x).cpu(), pinned(x.cpu()), atol=1e-4, rtol=0)
