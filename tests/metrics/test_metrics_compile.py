"""Metrics as ``compile()`` users meet them: the log keys Keras gives for strings, classes,
instances and functions, and ``weighted_metrics`` honouring ``sample_weight``/``class_weight``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import kseq


def mean_abs_gap(y_true: Any, y_pred: Any) -> Any:
    """A user metric function (works on torch tensors, so on both backends)."""
    return (y_true - y_pred).abs().mean(dim=-1)


def _binary_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, :1] + 0.3 * rng.normal(size=(64, 1)) > 0).astype("float32")
    return x, y


# Each entry builds the `metrics` (and `weighted_metrics`) of one compile call from a module that
# has `.metrics` (kseq or keras).
CompileSpec = Callable[[Any], dict[str, Any]]
SPECS: dict[str, CompileSpec] = {
    "accuracy": lambda k: {"metrics": ["accuracy"]},
    "acc-and-weighted-acc": lambda k: {"metrics": ["acc"], "weighted_metrics": ["acc"]},
    "aliases": lambda k: {"metrics": ["mse", "mae", "mape", "msle", "bce"]},
    "snake-and-class-names": lambda k: {
        "metrics": ["auc", "AUC", "precision", "recall", "binary_accuracy", "BinaryAccuracy"]
    },
    "classes": lambda k: {"metrics": [k.metrics.AUC, k.metrics.Precision, k.metrics.Recall]},
    "instances": lambda k: {
        "metrics": [k.metrics.AUC(name="roc"), k.metrics.AUC(curve="PR"), k.metrics.F1Score()]
    },
    "functions": lambda k: {
        "metrics": [mean_abs_gap, k.metrics.mean_squared_error, k.metrics.binary_accuracy]
    },
    "duplicate-strings": lambda k: {"metrics": ["auc", "auc", "mse"]},
    "weighted-duplicates": lambda k: {
        "metrics": ["mse", k.metrics.AUC(name="auc")],
        "weighted_metrics": ["mse", "mse", k.metrics.AUC(name="auc")],
    },
    "vector-results": lambda k: {"metrics": [k.metrics.Precision(thresholds=[0.3, 0.7])]},
}


def _keys(module: Any, spec: CompileSpec) -> tuple[list[str], list[str]]:
    x, y = _binary_data()
    model = module.Sequential(
        [module.Input(shape=(5,)), module.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer="sgd", loss="binary_crossentropy", **spec(module))
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, validation_split=0.25)
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    return sorted(history.history), sorted(result)


@pytest.mark.keras
@pytest.mark.parametrize("spec", list(SPECS))
def test_log_keys_match_keras(keras, spec: str) -> None:
    expected = _keys(keras, SPECS[spec])
    kseq.utils.clear_session()
    assert _keys(kseq, SPECS[spec]) == expected


def test_string_log_key_is_what_the_user_wrote() -> None:
    x, y = _binary_data()
    model = kseq.Sequential([kseq.Input(shape=(5,)), kseq.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", metrics=["acc", "AUC", "mse"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert sorted(history.history) == ["AUC", "acc", "loss", "mse"]
    assert all(0.0 <= v <= 1.0 for v in history.history["AUC"])


def test_function_metric_is_named_after_the_function_in_every_model() -> None:
    x, y = _binary_data()
    for _ in range(2):  # no `mean_abs_gap_1` on the second model
        model = kseq.Sequential([kseq.Input(shape=(5,)), kseq.layers.Dense(1)])
        model.compile(loss="mse", metrics=[mean_abs_gap])
        assert "mean_abs_gap" in model.evaluate(x, y, verbose=0, return_dict=True)


def _fitted(weighted: dict[str, Any], **fit_kwargs: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    x, y = _binary_data()
    model = kseq.Sequential([kseq.Input(shape=(5,)), kseq.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", **weighted)
    model.fit(x, y, epochs=1, batch_size=64, verbose=0, **fit_kwargs)
    return model, x, y


def test_weighted_metrics_use_sample_weight_and_plain_metrics_do_not() -> None:
    x, y = _binary_data()
    weights = np.where(y[:, 0] > 0, 3.0, 0.5).astype("float32")
    model, _, _ = _fitted({"metrics": ["mse"], "weighted_metrics": ["mse", "auc"]})
    result = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    y_pred = torch.as_tensor(model.predict(x, verbose=0))
    errors = (y_pred - torch.as_tensor(y)).square()[:, 0].double()
    w = torch.as_tensor(weights).double()
    assert result["mse"] == pytest.approx(float(errors.mean()), rel=1e-5)
    assert result["weighted_mse"] == pytest.approx(float((errors * w).sum() / w.sum()), rel=1e-5)
    auc = kseq.metrics.AUC()
    auc.update_state(torch.as_tensor(y), y_pred, sample_weight=torch.as_tensor(weights))
    assert result["auc"] == pytest.approx(float(auc.result()), rel=1e-5)


def test_weighted_metrics_see_class_weight_during_fit() -> None:
    x, y = _binary_data()
    model = kseq.Sequential([kseq.Input(shape=(5,)), kseq.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])  # fmt: skip
    # One full batch: the metrics see the predictions made before the single weight update.
    hits = (model.predict(x, verbose=0) > 0.5) == (y > 0.5)
    positives = y[:, 0] > 0
    history = model.fit(x, y, batch_size=64, epochs=1, verbose=0, class_weight={0: 0.0, 1: 1.0})
    assert history.history["accuracy"][0] == pytest.approx(float(hits.mean()), rel=1e-6)
    assert history.history["weighted_accuracy"][0] == pytest.approx(
        float(hits[positives].mean()), rel=1e-6
    )


def test_array_valued_metrics_are_arrays_in_history_and_means_in_the_progress_bar(capsys) -> None:
    x, y = _binary_data()
    model = kseq.Sequential([kseq.Input(shape=(5,)), kseq.layers.Dense(1, activation="sigmoid")])
    thresholds = kseq.metrics.Precision(thresholds=[0.3, 0.7])
    model.compile(loss="binary_crossentropy", metrics=[kseq.metrics.F1Score(), thresholds])
    history = model.fit(x, y, epochs=1, batch_size=64, verbose=1)
    f1, precision = history.history["f1_score"][0], history.history["precision"][0]
    assert isinstance(f1, np.ndarray) and f1.shape == (1,)  # one class: still an array (Keras)
    assert precision.shape == (2,)
    assert f"precision: {precision.mean():.4f}" in capsys.readouterr().out


# Raised by dynamo while it traces the spine's loss tracker (step.py), not by a metric.
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_metrics_give_the_same_logs_under_jit_compile() -> None:
    x, y = _binary_data()

    def history(jit_compile: bool) -> dict[str, Any]:
        kseq.utils.set_random_seed(0)
        model = kseq.Sequential(
            [kseq.Input(shape=(5,)), kseq.layers.Dense(1, activation="sigmoid")]
        )
        specs = [
            kseq.metrics.AUC(multi_label=True, name="auc"),  # state built at the first update
            kseq.metrics.F1Score(threshold=0.5, name="f1"),
            kseq.metrics.Precision(thresholds=[0.3, 0.6], name="precision"),
            kseq.metrics.R2Score(name="r2"),
        ]
        model.compile(loss="binary_crossentropy", metrics=specs, jit_compile=jit_compile)
        return model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False).history

    eager, compiled = history(False), history(True)
    assert sorted(eager) == sorted(compiled)
    for key in eager:
        np.testing.assert_allclose(np.stack(compiled[key]), np.stack(eager[key]), rtol=1e-5)


@pytest.mark.keras
def test_evaluate_gives_keras_values_for_the_same_weights(keras) -> None:
    x, y = _binary_data()
    weights = np.random.default_rng(3).random(len(x)).astype("float32")

    def spec(k: Any) -> dict[str, Any]:
        m = k.metrics
        return {
            "metrics": ["accuracy", m.AUC(), m.AUC(curve="PR", name="pr"), m.Precision(),
                        m.Recall(thresholds=[0.2, 0.5]), m.F1Score(threshold=0.5), "mse",
                        m.BinaryIoU(dtype="float32"), m.PrecisionAtRecall(0.5)],
            "weighted_metrics": ["accuracy", m.AUC(name="auc"), "mse"],
        }  # fmt: skip

    def evaluate(module: Any, source: Any = None) -> tuple[Any, dict[str, Any]]:
        model = module.Sequential(
            [module.Input(shape=(5,)), module.layers.Dense(1, activation="sigmoid")]
        )
        if source is not None:
            model.set_weights(source.get_weights())
        model.compile(loss="binary_crossentropy", **spec(module))
        return model, model.evaluate(
            x, y, sample_weight=weights, batch_size=16, verbose=0, return_dict=True
        )

    reference, expected = evaluate(keras)
    _, got = evaluate(kseq, reference)
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6, err_msg=key)
