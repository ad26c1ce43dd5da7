"""kseq.activations: every Keras activation name, equal to Keras's function on the same input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kseq import activations

X = np.linspace(-4.0, 4.0, 41, dtype="float32").reshape(1, 41)
KERAS_NAMES = [
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu",
    "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
]  # fmt: skip
# Keras 3.15's torch-backend sparsemax returns all zeros for some inputs (its outputs do not sum
# to 1), so sparsemax is checked against a NumPy reference instead (test_sparsemax_reference).
KERAS_BROKEN = {"sparsemax"}


def test_every_keras_name_resolves() -> None:
    for name in KERAS_NAMES:
        assert callable(activations.get(name)), name
    assert "threshold" in activations.names()
    assert activations.get(None) is activations.linear
    with pytest.raises(ValueError, match="Unknown activation: 'swsh'. Did you mean 'swish'"):
        activations.get("swsh")


@pytest.mark.keras
@pytest.mark.parametrize("name", [n for n in KERAS_NAMES if n not in KERAS_BROKEN])
def test_equal_to_keras(keras, name: str) -> None:
    x = X if name != "glu" else np.concatenate([X, X[:, ::-1]], axis=-1)
    theirs = keras.ops.convert_to_numpy(keras.activations.get(name)(keras.ops.convert_to_tensor(x)))
    ours = activations.get(name)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.keras
def test_arguments_equal_to_keras(keras) -> None:
    x2 = np.concatenate([X, -X])
    t = torch.from_numpy(x2)
    k = keras.ops.convert_to_tensor(x2)
    cases = [
        ("relu", {"negative_slope": 0.1, "max_value": 2.0, "threshold": 0.5}),
        ("relu", {"max_value": 6.0}),
        ("relu", {"threshold": 1.0}),
        ("leaky_relu", {"negative_slope": 0.3}),
        ("elu", {"alpha": 0.5}),
        ("gelu", {"approximate": True}),
        ("softmax", {"axis": 0}),
        ("threshold", {"threshold": 0.5, "default_value": -1.0}),
    ]
    for name, kwargs in cases:
        theirs = keras.ops.convert_to_numpy(getattr(keras.activations, name)(k, **kwargs))
        np.testing.assert_allclose(
            getattr(activations, name)(t, **kwargs).numpy(), theirs, rtol=1e-5, atol=1e-6
        )


def test_serialize_round_trip() -> None:
    for name in KERAS_NAMES:
        fn = activations.get(name)
        assert activations.deserialize(activations.serialize(fn)) is fn
    assert activations.serialize(activations.silu) == "silu"


def _sparsemax_reference(z: np.ndarray) -> np.ndarray:
    """Martins & Astudillo (2016), Algorithm 1, one row at a time."""
    out = np.empty_like(z)
    for i, row in enumerate(z):
        s = np.sort(row)[::-1]
        k = np.arange(1, len(row) + 1)
        support = 1 + k * s > np.cumsum(s)
        k_max = k[support][-1]
        tau = (np.cumsum(s)[k_max - 1] - 1) / k_max
        out[i] = np.maximum(row - tau, 0)
    return out


def test_sparsemax_reference() -> None:
    z = np.random.default_rng(0).normal(size=(5, 9)).astype("float32") * 3
    for x in (z, X):
        ours = activations.sparsemax(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours, _sparsemax_reference(x), atol=1e-6)
        np.testing.assert_allclose(ours.sum(-1), 1.0, atol=1e-5)
