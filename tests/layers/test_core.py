"""Core layers (Dense, Activation, Dropout, Identity) against Keras and as users use them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kseq import layers


def test_dense_on_rank_3_inputs() -> None:
    layer = layers.Dense(4)
    out = layer(torch.ones(2, 5, 3))
    assert out.shape == (2, 5, 4) and layer.compute_output_shape((None, 5, 3)) == (None, 5, 4)


def test_dense_rejects_bad_units() -> None:
    with pytest.raises(ValueError, match="expected a positive integer. Received: units=0"):
        layers.Dense(0)


def test_dropout_only_in_training_and_scales() -> None:
    layer = layers.Dropout(0.5).train()
    x = torch.ones(2000)
    out = layer(x)
    kept = out[out != 0]
    assert torch.all(kept == 2.0) and 0.4 < kept.numel() / 2000 < 0.6
    layer.eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(layer(x, training=False), x)


def test_dropout_noise_shape_and_seed() -> None:
    a, b = (
        layers.Dropout(0.5, noise_shape=(None, 1, 4), seed=3),
        layers.Dropout(0.5, noise_shape=(None, 1, 4), seed=3),
    )
    x = torch.ones(3, 5, 4)
    out = a(x, training=True)
    assert torch.equal(out, b(x, training=True))  # same seed, same masks
    assert torch.equal(out, out[:, :1, :].expand_as(out))  # one mask shared across axis 1
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.Dropout(1.5)


def test_activation_and_identity() -> None:
    assert torch.equal(
        layers.Activation("relu")(torch.tensor([-1.0, 2.0])), torch.tensor([0.0, 2.0])
    )
    x = torch.randn(3)
    assert layers.Identity()(x) is x


@pytest.mark.keras
@pytest.mark.parametrize(
    "kwargs",
    [
        {"units": 5},
        {"units": 3, "activation": "relu", "use_bias": False},
        {
            "units": 2,
            "activation": "softmax",
            "kernel_initializer": "he_normal",
            "bias_initializer": "ones",
        },
        {"units": 4, "kernel_regularizer": "l2", "bias_constraint": "non_neg"},
    ],
)
def test_dense_parity(keras, kwargs) -> None:
    theirs = keras.layers.Dense(**kwargs)
    ours = layers.Dense(**kwargs)
    x = np.random.default_rng(0).normal(size=(6, 7)).astype("float32")
    theirs.build((None, 7))
    ours.build((None, 7))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(
        ours(torch.from_numpy(x)).detach().numpy(), keras.ops.convert_to_numpy(theirs(x)), atol=1e-5
    )
    assert ours.count_params() == theirs.count_params()
    assert ours.get_config() == theirs.get_config()


@pytest.mark.keras
def test_activation_dropout_identity_configs_match_keras(keras) -> None:
    for ours, theirs in [
        (layers.Activation("tanh"), keras.layers.Activation("tanh")),
        (
            layers.Dropout(0.3, noise_shape=(None, 1), seed=2),
            keras.layers.Dropout(0.3, noise_shape=(None, 1), seed=2),
        ),
        (layers.Identity(), keras.layers.Identity()),
    ]:
        assert ours.get_config() == theirs.get_config()
