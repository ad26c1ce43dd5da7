"""``get_config``/``from_config`` for every metric: a round trip rebuilds an equal metric, and the
config has Keras's keys and values (Keras 3 is the oracle)."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
import torch
from metric_cases import CASES

from kseq import metrics

KSEQ_CLASSES = sorted(
    {name for name, obj in metrics._ALL.items() if inspect.isclass(obj) and obj.__name__ == name}
)


def _plain(value: Any) -> Any:
    """Config values as plain Python (Keras puts numpy floats and tensors in some configs)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _plain(np.asarray(value).tolist())
    return value


def test_every_keras_metric_class_is_covered_by_a_case() -> None:
    covered = {type(make(metrics)).__name__ for (make, _), _ in CASES.values()}
    abstract = {"Metric", "Mean", "Sum"}
    assert set(KSEQ_CLASSES) - covered - abstract == set()


@pytest.mark.parametrize("case", list(CASES))
def test_from_config_rebuilds_an_equal_metric(case: str) -> None:
    (make, _), _ = CASES[case]
    metric = make(metrics)
    config = metric.get_config()
    clone = type(metric).from_config(config)
    assert clone.get_config() == config
    assert clone.name == metric.name
    restored = metrics.deserialize(metrics.serialize(metric))
    assert type(restored) is type(metric) and restored.get_config() == config


@pytest.mark.keras
@pytest.mark.parametrize("case", list(CASES))
def test_config_equals_keras(keras, case: str) -> None:
    (make_kseq, make_keras), _ = CASES[case]
    ours, theirs = make_kseq(metrics).get_config(), make_keras(keras).get_config()
    assert set(ours) == set(theirs)
    if "fn" in theirs:  # MeanMetricWrapper: Keras nests a serialized function, kseq names it
        assert ours.pop("fn") == theirs.pop("fn")["config"]
    assert ours == _plain(theirs)


@pytest.mark.keras
@pytest.mark.parametrize("cls", ["Mean", "Sum"])
def test_reduction_config_equals_keras(keras, cls: str) -> None:
    assert (
        getattr(metrics, cls)(name="m").get_config()
        == getattr(keras.metrics, cls)(name="m").get_config()
    )


def test_round_trip_keeps_the_accumulated_behaviour() -> None:
    auc = metrics.AUC(curve="PR", num_thresholds=50, multi_label=True, label_weights=[1.0, 3.0])
    clone = metrics.AUC.from_config(auc.get_config())
    y_true = torch.tensor([[0, 1], [1, 0], [1, 1], [0, 0]])
    y_pred = torch.tensor([[0.2, 0.7], [0.6, 0.4], [0.9, 0.8], [0.1, 0.3]])
    assert torch.equal(auc(y_true, y_pred), clone(y_true, y_pred))
