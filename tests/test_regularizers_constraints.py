"""Weight regularizers and constraints against Keras 3: penalty values, projections, configs, and
their effect in a compiled model (``model.losses``, ``evaluate`` loss, weights after ``fit``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import kseq
from kseq import constraints, regularizers
from kseq.layers import Dense, Input

W = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
X = np.random.default_rng(1).normal(size=(16, 5)).astype("float32")
Y = np.random.default_rng(2).normal(size=(16, 4)).astype("float32")

REGULARIZERS = [
    ("L1", {"l1": 0.3}),
    ("L2", {"l2": 0.2}),
    ("L1L2", {"l1": 0.1, "l2": 0.05}),
    ("L1L2", {}),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "rows"}),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "columns"}),
]
CONSTRAINTS = [
    ("MaxNorm", {"max_value": 1.5}),
    ("MaxNorm", {"max_value": 2.0, "axis": 1}),
    ("NonNeg", {}),
    ("UnitNorm", {}),
    ("UnitNorm", {"axis": [0, 1]}),
    ("MinMaxNorm", {"min_value": 1.8, "max_value": 2.2}),
    ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.0, "rate": 0.5, "axis": 1}),
]


def _cfg(obj) -> dict:
    return json.loads(json.dumps(obj.get_config()))


def _same_config(ours, theirs) -> bool:
    # Keras keeps L1/L2 factors as float32 tensors, so its config reads 0.30000001192092896 for 0.3;
    # kseq keeps the Python float the user passed.
    a, b = _cfg(ours), _cfg(theirs)
    return a.keys() == b.keys() and all(
        a[k] == pytest.approx(b[k], rel=1e-6) if isinstance(b[k], float) else a[k] == b[k]
        for k in a
    )


@pytest.mark.keras
@pytest.mark.parametrize(
    "kind, name, kwargs",
    [("regularizers", *c) for c in REGULARIZERS] + [("constraints", *c) for c in CONSTRAINTS],
)
def test_values_and_configs_match_keras(keras, kind: str, name: str, kwargs: dict) -> None:
    """A penalty (regularizers) or a projection (constraints) of the same weight, and the config."""
    namespace = {"regularizers": regularizers, "constraints": constraints}[kind]
    ours = getattr(namespace, name)(**kwargs)
    theirs = getattr(getattr(keras, kind), name)(**kwargs)
    expected = keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(W)))
    np.testing.assert_allclose(ours(torch.as_tensor(W)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert _same_config(ours, theirs)
    clone = namespace.deserialize(json.loads(json.dumps(namespace.serialize(ours))))
    assert type(clone) is type(ours) and _cfg(clone) == _cfg(ours)


@pytest.mark.keras
@pytest.mark.parametrize("identifier", ["l1", "l2", "L1", "L2"])
def test_regularizer_strings_resolve_like_keras(keras, identifier: str) -> None:
    assert _same_config(regularizers.get(identifier), keras.regularizers.get(identifier))


@pytest.mark.keras
@pytest.mark.parametrize(
    "identifier", ["max_norm", "non_neg", "unit_norm", "min_max_norm", "MaxNorm"]
)
def test_constraint_strings_resolve_like_keras(keras, identifier: str) -> None:
    ours, theirs = constraints.get(identifier), keras.constraints.get(identifier)
    assert type(ours).__name__ == type(theirs).__name__ and _same_config(ours, theirs)


def test_regularizer_and_constraint_errors() -> None:
    with pytest.raises(ValueError, match="expected a non-negative float"):
        regularizers.L2(-1.0)
    with pytest.raises(ValueError, match="Invalid value for argument `mode`"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="must have rank 2"):
        regularizers.OrthogonalRegularizer()(torch.ones(3))
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="Unknown constraint: 'max_nrom'. Did you mean 'max_norm'"):
        constraints.get("max_nrom")


def _dense_models(keras, dense_kwargs):
    """The same two-Dense model in Keras and kseq (Keras's weights copied), compiled with SGD + MSE."""

    def build(lib):
        return lib.Sequential(
            [lib.Input((5,)), lib.layers.Dense(4, **dense_kwargs(lib)), lib.layers.Dense(4)]
        )

    keras_model, model = build(keras), build(kseq)
    model.set_weights(keras_model.get_weights())
    for m, lib in ((keras_model, keras), (model, kseq)):
        m.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    return keras_model, model


@pytest.mark.keras
def test_weight_and_activity_penalties_in_a_model_match_keras(keras) -> None:
    def dense_kwargs(lib):
        return {
            "kernel_regularizer": lib.regularizers.L2(0.1),
            "bias_regularizer": lib.regularizers.L1(0.2),
            "activity_regularizer": lib.regularizers.L1L2(0.01, 0.02),
            "bias_initializer": "ones",
        }

    keras_model, model = _dense_models(keras, dense_kwargs)
    # evaluate first: a direct model(x) call leaves its activity penalty behind (see
    # tests/layers/test_regularization.py::test_direct_calls_do_not_leak_activity_losses).
    np.testing.assert_allclose(
        model.evaluate(X, Y, verbose=0), keras_model.evaluate(X, Y, verbose=0), rtol=1e-5
    )
    keras_model(X)
    model(torch.as_tensor(X))
    expected = sorted(float(keras.ops.convert_to_numpy(v)) for v in keras_model.losses)
    got = sorted(float(v.detach()) for v in model.losses)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    kernel = model.layers[0].kernel.detach().numpy()
    assert len(got) == 3
    assert any(v == pytest.approx(0.2 * 4, rel=1e-5) for v in got)  # bias L1 on ones(4)
    assert any(v == pytest.approx(0.1 * float((kernel**2).sum()), rel=1e-5) for v in got)


@pytest.mark.keras
def test_kernel_l2_penalty_in_losses_evaluate_and_fit_matches_keras(keras) -> None:
    keras_model, model = _dense_models(
        keras, lambda lib: {"kernel_regularizer": lib.regularizers.L2(0.1)}
    )
    (expected,) = (float(keras.ops.convert_to_numpy(v)) for v in keras_model.losses)
    (got,) = (float(v.detach()) for v in model.losses)
    kernel = keras.ops.convert_to_numpy(keras_model.layers[0].kernel)
    assert (
        got
        == pytest.approx(expected, rel=1e-6)
        == pytest.approx(0.1 * float((kernel**2).sum()), rel=1e-5)
    )
    np.testing.assert_allclose(
        model.evaluate(X, Y, verbose=0), keras_model.evaluate(X, Y, verbose=0), rtol=1e-5
    )
    ours = model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
    theirs = keras_model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    for a, b in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.keras
@pytest.mark.parametrize("name, kwargs", [c for c in CONSTRAINTS if "axis" not in c[1]])
def test_constraints_in_fit_match_keras(keras, name: str, kwargs: dict) -> None:
    keras_model, model = _dense_models(
        keras, lambda lib: {"kernel_constraint": getattr(lib.constraints, name)(**kwargs)}
    )
    for m in (keras_model, model):
        m.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize(
    "constraint, check",
    [
        (constraints.MaxNorm(0.5), lambda k, norms: (norms <= 0.5 + 1e-5).all()),
        (constraints.NonNeg(), lambda k, norms: (k >= 0).all()),
        (constraints.UnitNorm(), lambda k, norms: np.allclose(norms, 1.0, atol=1e-5)),
        (
            constraints.MinMaxNorm(0.8, 0.9),
            lambda k, norms: ((norms >= 0.8 - 1e-5) & (norms <= 0.9 + 1e-5)).all(),
        ),
    ],
    ids=["MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm"],
)
def test_constraints_hold_after_every_optimizer_step(constraint, check) -> None:
    model = kseq.Sequential(
        [Input((5,)), Dense(4, kernel_constraint=constraint, kernel_initializer="ones")]
    )
    model.compile(optimizer=kseq.optimizers.SGD(0.5), loss="mse")
    seen = []

    class Probe(kseq.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            kernel = (
                model.layers[0].kernel.detach().numpy()
            )  # Keras layout (in, out): axis 0 = inputs
            seen.append(bool(check(kernel, np.sqrt((kernel**2).sum(axis=0)))))

    model.fit(X, Y * 10, batch_size=4, epochs=2, verbose=0, callbacks=[Probe()])
    assert len(seen) == 8 and all(seen)
