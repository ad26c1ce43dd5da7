"""Activation layers against Keras 3 (values, weights, configs), their Keras-vs-torch defaults,
Softmax masks, and Softmax taking part in the trainer's loss-from-logits fusion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layer_parity import ATOL, assert_same_layer, built_pair, keras_call, kseq_call

import kseq
from kseq.layers import ELU, Dense, Input, LeakyReLU, PReLU, ReLU, Softmax


def _data(*shape: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0.0, 3.0, size=shape).astype("float32")
    x.flat[:3] = [0.0, 1.0, 6.0]  # exact threshold / ceiling values
    return x


@pytest.mark.keras
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("ReLU", {}),
        ("ReLU", {"max_value": 6.0}),
        ("ReLU", {"negative_slope": 0.1}),
        ("ReLU", {"threshold": 1.0}),
        ("ReLU", {"max_value": 4.0, "negative_slope": 0.2, "threshold": 0.5}),
        ("LeakyReLU", {}),
        ("LeakyReLU", {"negative_slope": 0.05}),
        ("ELU", {}),
        ("ELU", {"alpha": 0.5}),
        ("Softmax", {}),
        ("Softmax", {"axis": 1}),
        ("Softmax", {"axis": (1, 2)}),
    ],
)
def test_weightless_activation_layers_match_keras(keras, name: str, kwargs: dict) -> None:
    assert_same_layer(keras, name, _data(2, 3, 4), **kwargs)


@pytest.mark.keras
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((3, 5), {}),
        ((2, 4, 3), {"shared_axes": 1}),
        (
            (2, 3, 3, 4),
            {"shared_axes": [1, 2], "alpha_regularizer": "l2", "alpha_constraint": "non_neg"},
        ),
    ],
)
def test_prelu_matches_keras(keras, shape: tuple[int, ...], kwargs: dict) -> None:
    _, prelu = assert_same_layer(keras, "PReLU", _data(*shape), **kwargs)
    expected_alpha = [
        1 if i + 1 in np.atleast_1d(kwargs.get("shared_axes", [])) else d
        for i, d in enumerate(shape[1:])
    ]
    assert list(prelu.alpha.shape) == expected_alpha


def test_keras_defaults_not_torch_defaults() -> None:
    assert LeakyReLU().negative_slope == 0.3  # torch: 0.01
    prelu = PReLU()
    prelu.build((None, 2, 3))
    assert (
        tuple(prelu.alpha.shape) == (2, 3) and float(prelu.alpha.detach().abs().sum()) == 0.0
    )  # torch: 0.25/channel
    out = prelu(torch.tensor([[[-1.0, 2.0, -3.0], [1.0, -1.0, 0.0]]]))
    assert out.tolist() == [[[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]]]


def test_prelu_learns_its_slope() -> None:
    x = np.linspace(-2, 2, 64, dtype="float32").reshape(-1, 1)
    y = np.where(x > 0, x, 0.25 * x)
    model = kseq.Sequential([Input((1,)), PReLU()])
    model.compile(optimizer=kseq.optimizers.SGD(0.5), loss="mse")
    model.fit(x, y, epochs=40, batch_size=64, verbose=0)
    assert float(model.layers[0].alpha.detach()) == pytest.approx(0.25, abs=0.02)


def test_argument_errors_use_keras_wording() -> None:
    with pytest.raises(ValueError, match="max_value of a ReLU layer cannot be a negative value"):
        ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope of a ReLU layer cannot be None"):
        ReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="threshold of a ReLU layer cannot be None"):
        ReLU(threshold=None)
    with pytest.raises(ValueError, match="negative_slope value of a Leaky ReLU layer"):
        LeakyReLU(-1)
    with pytest.raises(ValueError, match="shared_axes"):
        PReLU(shared_axes=[3]).build((None, 2, 2))
    with pytest.raises(ValueError, match="needs a defined size"):
        PReLU().build((None, None, 3))


def test_leaky_relu_alpha_is_a_deprecated_alias() -> None:
    with pytest.warns(UserWarning, match="`alpha` is deprecated"):
        layer = LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1 and "alpha" not in layer.get_config()


@pytest.mark.keras
def test_softmax_with_mask_matches_keras(keras) -> None:
    x = _data(2, 3, 4)
    mask = np.array([[1, 1, 0, 1]], dtype=bool)  # broadcast over batch and rows
    keras_layer, layer = built_pair(keras, "Softmax", (None, 3, 4))
    expected = keras_call(keras, keras_layer, x, mask=mask)
    got = kseq_call(layer, x, mask=torch.as_tensor(mask))
    np.testing.assert_allclose(got, expected, atol=ATOL)
    assert (got[..., 2] == 0).all()
    float_mask = mask.astype("float32")  # float masks: > 0.5 means "keep"
    np.testing.assert_allclose(
        kseq_call(layer, x, mask=torch.as_tensor(float_mask)), expected, atol=ATOL
    )
    with pytest.raises(ValueError, match="must be broadcastable to `inputs`"):
        layer(torch.as_tensor(x), mask=torch.ones(3, 3, dtype=torch.bool))


def test_softmax_layer_takes_part_in_logits_fusion() -> None:
    model = kseq.Sequential([Input((4,)), Dense(3), Softmax()])
    assert model._final_activation_split() is kseq.activations.softmax
    x = torch.randn(5, 4)
    torch.testing.assert_close(model._forward_logits(x).softmax(-1), model(x))
    assert (
        kseq.Sequential([Input((2, 4)), Softmax(axis=[-1])])._final_activation_split()
        is kseq.activations.softmax
    )
    for axis in (1, (1, 2), -2):  # not the class axis a crossentropy reduces over: no fusion
        assert (
            kseq.Sequential([Input((2, 4)), Softmax(axis=axis)])._final_activation_split() is None
        )


@pytest.mark.keras
def test_softmax_classifier_trains_like_keras(keras) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.integers(0, 3, size=(32,))

    def build(lib):
        return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3), lib.layers.Softmax()])

    keras_model, model = build(keras), build(kseq)
    model.set_weights(keras_model.get_weights())
    for m, lib in ((keras_model, keras), (model, kseq)):
        m.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    ours = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history["loss"]
    theirs = keras_model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history[
        "loss"
    ]
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    for a, b in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_activation_layers_pass_masks_and_keep_shapes() -> None:
    x = torch.randn(2, 3)
    for layer in (ReLU(), LeakyReLU(), ELU(), Softmax()):
        assert layer.supports_masking and layer.compute_output_shape((None, 3)) == (None, 3)
        assert layer(x).shape == x.shape and layer.built
