"""Regularization layers: noise statistics, training-only behaviour, seeds, spatial masks, Keras
configs, and ActivityRegularization's loss against Keras."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layer_parity import assert_same_config, built_pair

import kseq
from kseq.layers import (
    ActivityRegularization,
    AlphaDropout,
    Dense,
    GaussianDropout,
    GaussianNoise,
    Input,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)

RANDOM_LAYERS = {
    "SpatialDropout1D": (lambda **kw: SpatialDropout1D(0.5, **kw), (4, 6, 8)),
    "SpatialDropout2D": (lambda **kw: SpatialDropout2D(0.5, **kw), (4, 3, 3, 8)),
    "SpatialDropout3D": (lambda **kw: SpatialDropout3D(0.5, **kw), (2, 2, 2, 2, 8)),
    "GaussianNoise": (lambda **kw: GaussianNoise(0.5, **kw), (4, 8)),
    "GaussianDropout": (lambda **kw: GaussianDropout(0.5, **kw), (4, 8)),
    "AlphaDropout": (lambda **kw: AlphaDropout(0.5, **kw), (4, 8)),
}


@pytest.mark.parametrize("name", RANDOM_LAYERS)
def test_random_layers_act_only_in_training(name: str) -> None:
    make, shape = RANDOM_LAYERS[name]
    layer = make()
    x = torch.rand(shape) + 0.5
    assert torch.equal(layer(x, training=False), x)
    layer.eval()
    assert torch.equal(layer(x), x)  # training=None follows the module's mode
    layer.train()
    assert not torch.equal(layer(x), x)
    assert layer.compute_output_shape(shape) == tuple(layer(x).shape) == shape


@pytest.mark.parametrize("name", RANDOM_LAYERS)
def test_seed_makes_the_noise_reproducible(name: str) -> None:
    make, shape = RANDOM_LAYERS[name]
    x = torch.rand(shape) + 0.5
    first, second, other = make(seed=3), make(seed=3), make(seed=4)
    a, b, c = (layer(x, training=True) for layer in (first, second, other))
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.manual_seed(123)  # a layer's own generator ignores the global RNG
    assert not torch.equal(first(x, training=True), a)  # ...but advances between calls


def test_gaussian_noise_statistics() -> None:
    noise = GaussianNoise(0.3, seed=0)(torch.zeros(200_000), training=True)
    assert abs(noise.mean().item()) < 0.005 and noise.std().item() == pytest.approx(0.3, rel=0.01)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_gaussian_dropout_preserves_the_mean_with_dropout_variance(rate: float) -> None:
    x = torch.full((200_000,), 2.0)
    y = GaussianDropout(rate, seed=1)(x, training=True)
    assert y.mean().item() == pytest.approx(2.0, rel=0.01)
    assert y.std().item() == pytest.approx(2.0 * (rate / (1 - rate)) ** 0.5, rel=0.01)


def test_alpha_dropout_keeps_selu_statistics() -> None:
    x = torch.nn.functional.selu(torch.randn(200_000, generator=torch.Generator().manual_seed(5)))
    x = (x - x.mean()) / x.std()
    y = AlphaDropout(0.3, seed=2)(x, training=True)
    assert abs(y.mean().item()) < 0.01 and y.std().item() == pytest.approx(1.0, abs=0.01)
    dropped_value = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.3) * (1 + 0.3 * dropped_value**2)) ** -0.5
    saturated = a * dropped_value + (-a * dropped_value * 0.3)
    share = (y - saturated).abs().lt(1e-5).float().mean().item()
    assert share == pytest.approx(0.3, abs=0.01)


def test_alpha_dropout_noise_shape_shares_the_mask() -> None:
    y = AlphaDropout(0.5, noise_shape=(None, 1, 6), seed=0)(torch.zeros(3, 5, 6), training=True)
    assert torch.equal(y, y[:, :1].expand_as(y))


@pytest.mark.parametrize(
    "layer, shared_axes",
    [
        (SpatialDropout1D(0.5, seed=0), (1,)),
        (SpatialDropout2D(0.5, seed=0), (1, 2)),
        (SpatialDropout2D(0.5, data_format="channels_first", seed=0), (2, 3)),
        (SpatialDropout3D(0.5, seed=0), (1, 2, 3)),
    ],
    ids=["1d", "2d", "2d_channels_first", "3d"],
)
def test_spatial_dropout_drops_whole_feature_maps(layer, shared_axes: tuple[int, ...]) -> None:
    shape = [16, 3, 4, 5, 6][: layer.input_spec.ndim]
    y = layer(torch.ones(shape), training=True)
    assert set(y.unique().tolist()) <= {0.0, 2.0}  # kept maps scaled by 1 / (1 - rate)
    index = tuple(slice(0, 1) if axis in shared_axes else slice(None) for axis in range(len(shape)))
    assert torch.equal(y, y[index].expand_as(y))
    assert 0.3 < (y == 0).float().mean().item() < 0.7


def test_spatial_dropout_rejects_the_wrong_rank() -> None:
    with pytest.raises(ValueError, match="expected ndim=4"):
        kseq.Sequential([Input((5, 3)), SpatialDropout2D(0.2)])


def test_argument_errors() -> None:
    for make in (GaussianDropout, AlphaDropout, SpatialDropout1D):
        with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
            make(1.5)
    with pytest.raises(ValueError, match="argument `stddev`"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="rate=1"):
        GaussianDropout(1.0)(torch.ones(2), training=True)


@pytest.mark.keras
@pytest.mark.parametrize(
    "name, args, kwargs, shape",
    [
        ("SpatialDropout1D", (0.3,), {"seed": 1}, (None, 4, 3)),
        ("SpatialDropout2D", (0.3,), {"data_format": "channels_first"}, (None, 3, 4, 4)),
        ("SpatialDropout3D", (0.3,), {}, (None, 2, 2, 2, 3)),
        ("GaussianNoise", (0.2,), {"seed": 7}, (None, 3)),
        ("GaussianDropout", (0.2,), {}, (None, 3)),
        ("AlphaDropout", (0.2,), {"noise_shape": (None, 1)}, (None, 3)),
        ("ActivityRegularization", (), {"l1": 0.1, "l2": 0.2}, (None, 3)),
    ],
)
def test_configs_match_keras(keras, name: str, args: tuple, kwargs: dict, shape: tuple) -> None:
    keras_layer, layer = built_pair(keras, name, shape, *args, **kwargs)
    assert_same_config(keras_layer, layer)
    x = np.random.default_rng(0).normal(size=(2, *shape[1:])).astype("float32")
    np.testing.assert_allclose(
        layer(torch.as_tensor(x), training=False).numpy(), x
    )  # inference: identity


def _activity_models(keras):
    def build(lib):
        return lib.Sequential(
            [
                lib.Input((3,)),
                lib.layers.Dense(4),
                lib.layers.ActivityRegularization(l1=0.01, l2=0.1),
                lib.layers.Dense(2),
            ]
        )

    keras_model, model = build(keras), build(kseq)
    model.set_weights(keras_model.get_weights())
    for m, lib in ((keras_model, keras), (model, kseq)):
        m.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    return keras_model, model


_X = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
_Y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")


@pytest.mark.keras
def test_activity_regularization_loss_matches_keras(keras) -> None:
    keras_model, model = _activity_models(keras)
    # evaluate: mse + l1 * sum|h| / batch + l2 * sum(h^2) / batch, as Keras.
    np.testing.assert_allclose(
        model.evaluate(_X, _Y, verbose=0), keras_model.evaluate(_X, _Y, verbose=0), rtol=1e-5
    )
    # fit: the penalty's gradient reaches the first Dense exactly as in Keras.
    ours = model.fit(_X, _Y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"]
    theirs = keras_model.fit(_X, _Y, batch_size=4, epochs=2, shuffle=False, verbose=0).history[
        "loss"
    ]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    for a, b in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # model.losses after a call: the penalty of that call.
    keras_model(_X)
    model(torch.as_tensor(_X))
    (expected,) = (keras.ops.convert_to_numpy(v) for v in keras_model.losses)
    (got,) = (v.detach().numpy() for v in model.losses)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.keras
def test_direct_calls_do_not_leak_activity_losses(keras) -> None:
    keras_model, model = _activity_models(keras)
    model(torch.as_tensor(_X))
    model(torch.as_tensor(_X))
    assert len(model.losses) == 1
    np.testing.assert_allclose(
        model.evaluate(_X, _Y, verbose=0), keras_model.evaluate(_X, _Y, verbose=0), rtol=1e-5
    )


def test_activity_regularization_penalizes_activations_in_fit() -> None:
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = np.zeros((64, 1), dtype="float32") + 5.0

    def hidden_norm(l2: float) -> float:
        kseq.utils.set_random_seed(0)
        model = kseq.Sequential([Input((3,)), Dense(8), ActivityRegularization(l2=l2), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=30, batch_size=16, verbose=0)
        return float(model.layers[0](torch.as_tensor(x)).detach().square().mean())

    assert hidden_norm(l2=1.0) < 0.8 * hidden_norm(l2=0.0)
