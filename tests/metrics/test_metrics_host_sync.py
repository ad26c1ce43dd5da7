"""Metric state stays on the device: training with many metrics reads tensors back to the host a
fixed number of times per epoch, however many steps the epoch has.

On CPU the conversions are counted by patching ``Tensor.item/__float__/__bool__/tolist/cpu/numpy``;
on a GPU the same epoch runs under ``torch.cuda.set_sync_debug_mode("error")``.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch

import kseq

HOST_CONVERSIONS = ("item", "__float__", "__bool__", "__int__", "tolist", "cpu", "numpy")


def _metrics() -> dict[str, list[Any]]:
    m = kseq.metrics
    return {
        "metrics": [
            "accuracy",
            m.AUC(),
            m.AUC(curve="PR", thresholds=[0.2, 0.6]),
            m.Precision(),
            m.Recall(thresholds=[0.3, 0.5, 0.7]),
            m.F1Score(threshold=0.5),
            "mse",
            m.TruePositives(),
            m.SpecificityAtSensitivity(0.5),
            m.BinaryIoU(dtype="float32"),
            m.R2Score(),
        ],
        "weighted_metrics": ["accuracy", m.AUC(), m.FBetaScore(average="macro", beta=2.0)],
    }


def _fit(steps: int, device: str = "cpu") -> kseq.Sequential:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16 * steps, 6)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    weights = rng.random(16 * steps).astype("float32")
    model = kseq.Sequential([kseq.Input(shape=(6,)), kseq.layers.Dense(1, activation="sigmoid")])
    model.to(device)
    model.compile(optimizer="adam", loss="binary_crossentropy", **_metrics())
    model.fit(x, y, sample_weight=weights, batch_size=16, epochs=1, verbose=0)
    return model


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    counts: collections.Counter[str] = collections.Counter()
    for name in HOST_CONVERSIONS:
        original = getattr(torch.Tensor, name)

        def counted(self: torch.Tensor, *args: Any, __name: str = name, __f: Any = original) -> Any:
            counts[__name] += 1
            return __f(self, *args)

        monkeypatch.setattr(torch.Tensor, name, counted)
    yield counts


def test_host_conversions_per_epoch_do_not_grow_with_steps(conversions) -> None:
    _fit(steps=10)
    short = dict(conversions)
    conversions.clear()
    model = _fit(steps=40)
    assert dict(conversions) == short, "a metric (or the step) reads a tensor back every step"
    accuracy = next(m for m in model.metrics[1].metrics if m.name == "accuracy")
    assert accuracy.count.tolist() == 16 * 40  # every step was counted, on the device


def test_counter_catches_a_per_step_sync(conversions) -> None:
    class Syncing(kseq.metrics.Mean):
        def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
            super().update_state(float(y_pred.mean()))

    def fit(steps: int) -> None:
        x = np.zeros((8 * steps, 2), "float32")
        model = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
        model.compile(loss="mse", metrics=[Syncing(name="syncing")])
        model.fit(x, x[:, :1], batch_size=8, verbose=0)

    fit(2)
    few = sum(conversions.values())
    conversions.clear()
    fit(6)
    assert sum(conversions.values()) == few + 4


@pytest.mark.cuda
def test_cuda_metric_updates_never_synchronize() -> None:
    from kseq.training.compile_utils import get_compile_metric

    spec = _metrics()
    built = [get_compile_metric(m, (64, 1), (64, 1)) for m in spec["metrics"]]
    built += [get_compile_metric(m, (64, 1), (64, 1)) for m in spec["weighted_metrics"]]
    y_true = (torch.rand(64, 1, device="cuda") > 0.5).float()
    y_pred, weights = torch.rand(64, 1, device="cuda"), torch.rand(64, device="cuda")
    for metric in built:
        metric.to("cuda").update_state(y_true, y_pred, weights)  # builds lazy state
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for metric in built:
            for _ in range(3):
                metric.update_state(y_true, y_pred, sample_weight=weights)
            metric.result()
            metric.reset_state()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert all(v.device.type == "cuda" for m in built for v in m.variables)
