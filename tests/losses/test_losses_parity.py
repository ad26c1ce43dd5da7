"""Every kseq loss against Keras 3 on the same random inputs: class and function forms, every
reduction, with and without sample weights, ``from_logits`` both ways, and the config keys."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import losses

pytestmark = pytest.mark.keras

N = 6
RNG = np.random.default_rng(1234)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _inputs(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) of one kind; predictions kept away from saturation."""
    f32 = np.float32
    if kind == "binary":
        return RNG.integers(0, 2, (N, 3)).astype(f32), RNG.uniform(0.05, 0.95, (N, 3)).astype(f32)
    if kind == "binary_logits":
        return RNG.integers(0, 2, (N, 3)).astype(f32), RNG.normal(size=(N, 3)).astype(f32)
    if kind == "categorical":
        y = np.eye(4, dtype=f32)[RNG.integers(0, 4, N)]
        return y, _softmax(RNG.normal(size=(N, 4))).astype(f32)
    if kind == "categorical_logits":
        return np.eye(4, dtype=f32)[RNG.integers(0, 4, N)], RNG.normal(size=(N, 4)).astype(f32)
    if kind == "sparse":
        return RNG.integers(0, 4, N), _softmax(RNG.normal(size=(N, 4))).astype(f32)
    if kind == "sparse_logits":
        return RNG.integers(0, 4, N), RNG.normal(size=(N, 4)).astype(f32)
    if kind == "sparse_seq":  # (N, T) labels, (N, T, C) logits: ignore_class masks padding
        return RNG.integers(0, 4, (N, 5)), RNG.normal(size=(N, 5, 4)).astype(f32)
    if kind == "regression":
        return RNG.normal(size=(N, 3)).astype(f32), RNG.normal(size=(N, 3)).astype(f32)
    if kind == "regression_col":  # (N,) targets against (N, 1) predictions
        return RNG.normal(size=(N,)).astype(f32), RNG.normal(size=(N, 1)).astype(f32)
    if kind == "positive":
        return RNG.uniform(0, 3, (N, 3)).astype(f32), RNG.uniform(0.1, 3, (N, 3)).astype(f32)
    if kind == "distribution":
        return (
            _softmax(RNG.normal(size=(N, 4))).astype(f32),
            _softmax(RNG.normal(size=(N, 4))).astype(f32),
        )
    if kind == "signed":
        return RNG.choice([-1.0, 1.0], (N, 3)).astype(f32), RNG.normal(size=(N, 3)).astype(f32)
    if kind == "mask":
        return (
            RNG.integers(0, 2, (N, 4, 4, 1)).astype(f32),
            RNG.uniform(0.05, 0.95, (N, 4, 4, 1)).astype(f32),
        )
    if kind == "embeddings":
        emb = RNG.normal(size=(N, 8)).astype(f32)
        return RNG.integers(0, 3, N), emb / np.linalg.norm(emb, axis=1, keepdims=True)
    if kind == "ctc":
        labels = RNG.integers(1, 5, (N, 4))
        labels[:, 3] = 0  # padding
        labels[0, 2:] = 0
        return labels, RNG.normal(size=(N, 7, 5)).astype(f32)
    raise AssertionError(kind)


# (class name, kwargs, input kind)
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, "binary"),
    (
        "BinaryCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1, "axis": 0},
        "binary_logits",
    ),
    ("BinaryFocalCrossentropy", {}, "binary"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "gamma": 1.5}, "binary_logits"),
    (
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "alpha": 0.4, "label_smoothing": 0.1},
        "binary",
    ),
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True}, "categorical_logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "categorical"),
    ("CategoricalFocalCrossentropy", {}, "categorical"),
    (
        "CategoricalFocalCrossentropy",
        {"from_logits": True, "alpha": 0.5, "gamma": 3.0},
        "categorical_logits",
    ),
    ("CategoricalFocalCrossentropy", {"label_smoothing": 0.2}, "categorical"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 0}, "sparse_seq"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanSquaredError", {}, "regression_col"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.5}, "regression_col"),
    ("LogCosh", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 0}, "regression"),
    ("Hinge", {}, "signed"),
    ("Hinge", {}, "binary_logits"),
    ("SquaredHinge", {}, "signed"),
    ("SquaredHinge", {}, "binary_logits"),
    ("CategoricalHinge", {}, "categorical_logits"),
    ("KLDivergence", {}, "distribution"),
    ("Poisson", {}, "positive"),
    ("Dice", {}, "mask"),
    ("Dice", {"axis": (1, 2, 3)}, "mask"),
    ("Tversky", {}, "mask"),
    ("Tversky", {"alpha": 0.7, "beta": 0.3, "axis": (1, 2)}, "mask"),
    ("Circle", {}, "embeddings"),
    ("Circle", {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False}, "embeddings"),
    ("CategoricalGeneralizedCrossEntropy", {}, "sparse"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.8}, "sparse"),
    ("CTC", {}, "ctc"),
]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None, "none"]


def _np(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _case_id(case: tuple[str, dict[str, Any], str]) -> str:
    name, kwargs, kind = case
    return f"{name}-{kind}-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_loss_class_matches_keras_for_every_reduction(keras, case) -> None:
    name, kwargs, kind = case
    y_true, y_pred = _inputs(kind)
    # One weight per unreduced loss value (per sample, or per timestep for sequence outputs).
    unreduced = _np(getattr(keras.losses, name)(reduction=None, **kwargs)(y_true, y_pred))
    weights = RNG.uniform(0.0, 2.0, unreduced.shape or (N,)).astype(np.float32)
    for reduction in REDUCTIONS:
        ours = getattr(losses, name)(reduction=reduction, **kwargs)
        theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
        for sample_weight in (None, weights):
            expected = _np(theirs(y_true, y_pred, sample_weight=sample_weight))
            got = _np(ours(y_true, y_pred, sample_weight=sample_weight))
            assert got.shape == expected.shape, (reduction, sample_weight is None)
            np.testing.assert_allclose(
                got,
                expected,
                rtol=1e-5,
                atol=1e-7,
                err_msg=f"{reduction=} weighted={sample_weight is not None}",
            )


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_loss_function_matches_keras(keras, case) -> None:
    name, kwargs, kind = case
    fn_name = losses._PAIRS[getattr(losses, name)].__name__
    y_true, y_pred = _inputs(kind)
    if kind == "regression_col":  # functions do not reconcile ranks on their own
        y_pred = y_pred[:, 0]
    if name == "CategoricalGeneralizedCrossEntropy":
        kwargs = {"q": 0.5, **kwargs}  # the function has no default `q`, and Keras's needs tensors
        y_true, y_pred = torch.as_tensor(y_true), torch.as_tensor(y_pred)
    expected = _np(getattr(keras.losses, fn_name)(y_true, y_pred, **kwargs))
    got = _np(getattr(losses, fn_name)(y_true, y_pred, **kwargs))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_tensor_inputs_take_the_fast_paths_with_the_same_values(keras) -> None:
    """MSE/MAE/Huber and the from-logits crossentropies have single-kernel fast paths for tensors."""
    for name, kwargs, kind in [
        ("MeanSquaredError", {}, "regression_col"),
        ("MeanAbsoluteError", {}, "regression"),
        ("Huber", {"delta": 0.7}, "regression"),
        ("BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
        ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ]:
        y_true, y_pred = _inputs(kind)
        expected = _np(getattr(keras.losses, name)(**kwargs)(y_true, y_pred))
        got = getattr(losses, name)(**kwargs)(torch.as_tensor(y_true), torch.as_tensor(y_pred))
        np.testing.assert_allclose(_np(got), expected, rtol=1e-5, err_msg=name)


def test_output_mask_of_the_model_is_applied_like_keras(keras) -> None:
    """A mask on y_pred (set by Masking/Embedding(mask_zero) layers) combines with ignore_class."""
    y_true, y_pred = _inputs("sparse_seq")
    mask = torch.as_tensor(RNG.integers(0, 2, (N, 5)).astype(bool))
    for kwargs in ({"from_logits": True}, {"from_logits": True, "ignore_class": 0}):
        for reduction in ("sum_over_batch_size", "sum"):
            pred_k = torch.as_tensor(y_pred)
            pred_k._keras_mask = mask
            pred_q = torch.as_tensor(y_pred)
            pred_q._keras_mask = mask
            expected = _np(
                keras.losses.SparseCategoricalCrossentropy(reduction=reduction, **kwargs)(
                    y_true, pred_k
                )
            )
            got = _np(
                losses.SparseCategoricalCrossentropy(reduction=reduction, **kwargs)(
                    torch.as_tensor(y_true), pred_q
                )
            )
            np.testing.assert_allclose(got, expected, rtol=1e-5)
    y_true, y_pred = _inputs("regression")
    pred_k, pred_q = torch.as_tensor(y_pred), torch.as_tensor(y_pred)
    pred_k._keras_mask = pred_q._keras_mask = torch.tensor([True, False, True, True, False, True])
    expected = _np(keras.losses.MeanSquaredError()(y_true, pred_k))
    np.testing.assert_allclose(
        _np(losses.MeanSquaredError()(torch.as_tensor(y_true), pred_q)), expected, rtol=1e-5
    )


# Keras's get_config drops these constructor arguments (so they do not survive a save); kseq keeps them.
EXTRA_CONFIG_KEYS = {
    "Huber": {"delta"},
    "CosineSimilarity": {"axis"},
    "SparseCategoricalCrossentropy": {"axis"},
}
LOSS_CLASSES = sorted({c[0] for c in CASES})


@pytest.mark.parametrize("name", LOSS_CLASSES)
def test_config_keys_and_defaults_equal_keras(keras, name) -> None:
    ours, theirs = getattr(losses, name)().get_config(), getattr(keras.losses, name)().get_config()
    extra = EXTRA_CONFIG_KEYS.get(name, set())
    assert set(ours) == set(theirs) | extra
    assert {k: v for k, v in ours.items() if k not in extra} == theirs
    # A Keras config loads in kseq, and kseq's config round-trips through serialize/deserialize.
    assert getattr(losses, name).from_config(theirs).get_config() == ours
    custom = getattr(losses, name)(name="custom", reduction="sum")
    restored = losses.deserialize(losses.serialize(custom))
    assert type(restored) is type(custom) and restored.get_config() == custom.get_config()


def test_non_default_arguments_survive_the_round_trip() -> None:
    for loss in (
        losses.Huber(delta=2.5),
        losses.CosineSimilarity(axis=1),
        losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.1, gamma=3.0),
        losses.Tversky(alpha=0.2, beta=0.8, axis=[1, 2]),
        losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, axis=1),
        losses.CategoricalGeneralizedCrossEntropy(q=0.3),
        losses.Circle(gamma=5.0, margin=0.1, remove_diagonal=False),
    ):
        restored = losses.deserialize(losses.serialize(loss))
        assert restored.get_config() == loss.get_config()


def _keras_names(keras) -> dict[str, Any]:
    from keras.src.losses import ALL_OBJECTS_DICT

    return {k: v for k, v in ALL_OBJECTS_DICT.items() if k not in ("Loss", "LossFunctionWrapper")}


def test_every_keras_loss_name_and_alias_resolves_to_the_same_loss(keras) -> None:
    for name, obj in _keras_names(keras).items():
        ours = losses.get(name)
        assert isinstance(ours, losses.Loss), name
        if isinstance(obj, type):
            assert type(ours).__name__ == obj.__name__, name
        else:  # Keras gives the function; kseq the class wrapping that function
            assert ours.fn.__name__ == obj.__name__, name
            assert losses.get_function(name) is ours.fn


def test_fused_training_loss_equals_keras_loss_for_non_saturated_outputs(keras) -> None:
    """fit/evaluate compute BCE/CCE/SCCE from the logits when the last layer is sigmoid/softmax;
    Keras clips probabilities instead. Away from saturation the values agree to 1e-5."""
    x = RNG.normal(size=(32, 5)).astype(np.float32)
    for units, activation, loss, y in [
        (3, "sigmoid", "binary_crossentropy", RNG.integers(0, 2, (32, 3)).astype(np.float32)),
        (
            4,
            "softmax",
            "categorical_crossentropy",
            np.eye(4, dtype=np.float32)[RNG.integers(0, 4, 32)],
        ),
        (4, "softmax", "sparse_categorical_crossentropy", RNG.integers(0, 4, 32)),
    ]:
        theirs = keras.Sequential(
            [keras.Input((5,)), keras.layers.Dense(units, activation=activation)]
        )
        ours = kseq.Sequential([kseq.Input((5,)), kseq.layers.Dense(units, activation=activation)])
        ours.set_weights(theirs.get_weights())
        theirs.compile(optimizer="sgd", loss=loss)
        ours.compile(optimizer="sgd", loss=loss)
        expected = theirs.evaluate(x, y, batch_size=32, verbose=0)
        got = ours.evaluate(x, y, batch_size=32, verbose=0)
        assert ours._trainer.steps._fused_loss is not None, loss
        np.testing.assert_allclose(got, expected, rtol=1e-5, err_msg=loss)
