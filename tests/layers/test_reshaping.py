"""Reshaping layers against Keras 3 (values, shapes, configs), ``compute_output_shape`` against the
real forward shape over a grid of arguments, Flatten's channels_last order, and argument errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from _layer_parity import assert_same_layer

import kseq
from kseq import layers

X3 = np.random.default_rng(0).normal(size=(2, 7, 3)).astype("float32")
X4 = np.random.default_rng(1).normal(size=(2, 6, 5, 3)).astype("float32")
X5 = np.random.default_rng(2).normal(size=(2, 5, 4, 6, 2)).astype("float32")

PARITY_CASES = [
    ("Permute", X3, ((2, 1),), {}),
    ("Permute", X5, ((3, 1, 4, 2),), {}),
    ("RepeatVector", X3[:, 0], (4,), {}),
    ("Reshape", X4, ((5, -1),), {}),
    ("Flatten", X4, (), {}),
    ("Cropping1D", X3, (), {}),
    ("Cropping1D", X3, ((2, 0),), {}),
    ("Cropping2D", X4, (), {}),
    ("Cropping2D", X4, (((1, 2), (0, 1)),), {}),
    ("Cropping2D", X4, ((1, (0, 1)),), {"data_format": "channels_first"}),
    ("Cropping3D", X5, (), {}),
    ("Cropping3D", X5, (((0, 1), 1, (1, 0)),), {"data_format": "channels_first"}),
    ("ZeroPadding1D", X3, (), {}),
    ("ZeroPadding1D", X3, ((0, 2),), {"data_format": "channels_first"}),
    ("ZeroPadding2D", X4, (), {}),
    ("ZeroPadding2D", X4, (((1, 0), (2, 3)),), {"data_format": "channels_first"}),
    ("ZeroPadding3D", X5, (), {}),
    ("ZeroPadding3D", X5, ((1, 0, 2),), {}),
    ("UpSampling1D", X3, (3,), {}),
    ("UpSampling2D", X4, (), {}),
    ("UpSampling2D", X4, ((2, 3),), {"data_format": "channels_first"}),
    ("UpSampling2D", X4, ((3, 2),), {"interpolation": "bilinear"}),
    ("UpSampling2D", X4, ((2, 2),), {"interpolation": "bilinear", "data_format": "channels_first"}),
    ("UpSampling2D", X4, ((2, 3),), {"interpolation": "bicubic"}),
    ("UpSampling3D", X5, (), {}),
    ("UpSampling3D", X5, ((1, 2, 3),), {"data_format": "channels_first"}),
]


@pytest.mark.keras
@pytest.mark.parametrize(
    "name, x, args, kwargs",
    PARITY_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(PARITY_CASES)],
)
def test_reshaping_layers_match_keras(
    keras, name: str, x: np.ndarray, args: tuple, kwargs: dict
) -> None:
    assert_same_layer(keras, name, x, *args, **kwargs)


SHAPE_GRID = {
    "Cropping1D": [(c,) for c in [0, 1, (0, 2), (3, 1)]],
    "Cropping2D": [(c,) for c in [0, 1, (1, 2), ((0, 1), (2, 0))]],
    "Cropping3D": [(c,) for c in [0, 1, (1, 0, 1), ((0, 1), (1, 1), (2, 0))]],
    "ZeroPadding1D": [(p,) for p in [0, 2, (0, 3)]],
    "ZeroPadding2D": [(p,) for p in [0, 1, (2, 0), ((0, 1), (3, 2))]],
    "ZeroPadding3D": [(p,) for p in [0, 1, (1, 0, 2), ((0, 1), (1, 1), (2, 0))]],
    "UpSampling1D": [(s,) for s in [1, 2, 3]],
    "UpSampling2D": [(s,) for s in [1, (2, 3)]],
    "UpSampling3D": [(s,) for s in [1, (2, 1, 3)]],
    "Permute": [((1, 2, 3),), ((3, 2, 1),), ((2, 3, 1),)],
    "RepeatVector": [(1,), (5,)],
}
RANK = {"1D": 3, "2D": 4, "3D": 5, "Permute": 4, "RepeatVector": 2}


@pytest.mark.parametrize("name", SHAPE_GRID)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_compute_output_shape_equals_forward_shape(name: str, data_format: str) -> None:
    rank = RANK.get(name, RANK.get(name[-2:]))
    shape = (2, 6, 5, 7, 4)[:rank]
    for args in SHAPE_GRID[name]:
        kwargs = (
            {"data_format": data_format}
            if name[-2:] in ("2D", "3D") or name == "ZeroPadding1D"
            else {}
        )
        layer = getattr(layers, name)(*args, **kwargs)
        out = layer(torch.zeros(shape))
        assert layer.compute_output_shape(shape) == tuple(out.shape), (name, args, data_format)
        # Unknown (None) axes stay unknown, known ones are computed.
        unknown = (None, *shape[1:-1], None) if rank > 2 else (None, shape[1])
        predicted = layer.compute_output_shape(unknown)
        assert predicted[0] is None and len(predicted) == out.ndim
        for got, real in zip(predicted, out.shape, strict=True):
            assert got in (None, real)


def test_upsampling_nearest_repeats_each_pixel() -> None:
    x = torch.arange(4.0).reshape(1, 2, 2, 1)
    out = layers.UpSampling2D((2, 3))(x)[0, ..., 0]
    assert out.tolist() == [[0, 0, 0, 1, 1, 1]] * 2 + [[2, 2, 2, 3, 3, 3]] * 2
    volumes = layers.UpSampling3D(2)(torch.arange(8.0).reshape(1, 2, 2, 2, 1))
    assert torch.equal(volumes[0, ::2, ::2, ::2, 0], torch.arange(8.0).reshape(2, 2, 2))


def test_cropping_is_a_view_and_padding_adds_zeros() -> None:
    x = torch.randn(1, 5, 5, 2)
    cropped = layers.Cropping2D(((1, 2), (0, 1)))(x)
    assert cropped.data_ptr() == x[:, 1:].data_ptr() and torch.equal(cropped, x[:, 1:3, 0:4])
    padded = layers.ZeroPadding2D(((1, 0), (0, 2)))(x)
    assert (
        torch.equal(padded[:, 1:, :5], x)
        and padded[:, 0].abs().sum() == 0
        and padded[:, :, 5:].abs().sum() == 0
    )


def test_permute_and_repeat_vector_are_views() -> None:
    x = torch.randn(2, 3, 4)
    assert layers.Permute((2, 1))(x).data_ptr() == x.data_ptr()
    repeated = layers.RepeatVector(5)(x[:, 0])
    assert repeated.shape == (2, 5, 4) and repeated.stride(1) == 0
    assert torch.equal(repeated[:, 4], x[:, 0])


@pytest.mark.keras
def test_flatten_then_dense_uses_keras_channels_last_order(keras) -> None:
    x = np.random.default_rng(3).normal(size=(5, 4, 4, 3)).astype("float32")

    def build(lib):
        return lib.Sequential([lib.Input((4, 4, 3)), lib.layers.Flatten(), lib.layers.Dense(6)])

    keras_model, model = build(keras), build(kseq)
    model.set_weights(keras_model.get_weights())
    np.testing.assert_allclose(
        model.predict(x, verbose=0), keras_model.predict(x, verbose=0), atol=1e-5
    )


def test_models_built_from_reshaping_layers_train() -> None:
    model = kseq.Sequential(
        [
            layers.Input((6, 6, 2)),
            layers.ZeroPadding2D(1),
            layers.Cropping2D(((1, 1), (2, 0))),
            layers.UpSampling2D(2, interpolation="bilinear"),
            layers.Permute((3, 1, 2)),
            layers.Flatten(),
            layers.RepeatVector(2),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )
    assert model.output_shape == (None, 1)
    assert model.layers[2].output_shape == (None, 12, 12, 2)
    x = np.random.default_rng(0).normal(size=(16, 6, 6, 2)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, x.mean(axis=(1, 2, 3))[:, None], epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.Permute((1, 3)), "must be consecutive and start from 1"),
        (lambda: layers.RepeatVector(0), "`n` should be a positive integer"),
        (lambda: layers.UpSampling1D(0), "`size` should be a positive integer"),
        (lambda: layers.UpSampling2D((2, 0)), "The `size` argument must be a tuple of 2 integers"),
        (
            lambda: layers.UpSampling2D(interpolation="lanczos3"),
            "Invalid value for argument `interpolation`",
        ),
        (lambda: layers.Cropping2D(-1), "`cropping` cannot be negative"),
        (lambda: layers.Cropping2D((1, 2, 3)), "`cropping` should be either an int"),
        (
            lambda: layers.Cropping1D((1, -1)),
            "The `cropping` argument must be a tuple of 2 integers",
        ),
        (lambda: layers.ZeroPadding3D(((1, 1), (1, 1))), "`padding` should be either an int"),
        (lambda: layers.ZeroPadding2D(((1, 1), ("a", 1))), "2nd entry of padding"),
    ],
)
def test_argument_errors_use_keras_wording(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        layers.RepeatVector(2.0)  # type: ignore[arg-type]


def test_shape_errors_name_the_layers() -> None:
    with pytest.raises(ValueError, match="must be smaller than the input length"):
        kseq.Sequential([layers.Input((3, 2)), layers.Cropping1D((2, 1))])
    with pytest.raises(ValueError, match=r"Values in `cropping` argument should be smaller"):
        kseq.Sequential([layers.Input((4, 4, 1)), layers.Cropping2D(2)])
    with pytest.raises(ValueError, match="expected ndim=3"):
        kseq.Sequential([layers.Input((4, 4, 1)), layers.Permute((2, 1))])
    with pytest.raises(ValueError, match="Values in `cropping`"):
        layers.Cropping3D(3)(torch.zeros(1, 4, 8, 8, 1))  # a direct call checks when it builds


def test_every_argument_combination_round_trips_through_config() -> None:
    for size, fmt, interp in itertools.product(
        [2, (1, 3)], ["channels_last", "channels_first"], ["nearest", "bicubic"]
    ):
        layer = layers.UpSampling2D(size, data_format=fmt, interpolation=interp)
        clone = layers.UpSampling2D.from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
