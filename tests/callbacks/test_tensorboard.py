"""TensorBoard: Keras's tags in ``train``/``validation`` event files (epoch and batch scalars,
learning rate, evaluation-vs-iterations, weight histograms), and a clear ImportError without the
``tensorboard`` package."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import kseq
from kseq.callbacks import TensorBoard


def _fit(callback, epochs: int = 2):
    model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(2), kseq.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.ones((12, 3), "float32")
    model.fit(x, x[:, :1], batch_size=2, epochs=epochs, validation_data=(x, x[:, :1]),
              callbacks=[callback], verbose=0)  # fmt: skip
    return model


def _events(path: Path) -> dict[str, list[tuple[int, float]]]:
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    ).EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    scalars = {t: [(e.step, e.value) for e in accumulator.Scalars(t)] for t in tags["scalars"]}
    return {**scalars, **{t: [] for t in tags["histograms"]}}


def test_epoch_scalars_and_histograms(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    _fit(TensorBoard(log_dir=tmp_path, histogram_freq=1))
    train, val = _events(tmp_path / "train"), _events(tmp_path / "validation")
    assert {"epoch_loss", "epoch_mae", "epoch_learning_rate"} <= set(train)
    assert [step for step, _ in train["epoch_loss"]] == [0, 1]
    assert train["epoch_learning_rate"][0][1] == pytest.approx(0.01)
    assert "dense/linear.weight/histogram" in train and "dense_1/linear.bias/histogram" in train
    assert not any(t.startswith("batch_") for t in train)  # update_freq="epoch"
    assert {"epoch_loss", "epoch_mae"} <= set(val)
    # evaluation vs optimizer iterations (6 steps per epoch)
    assert [step for step, _ in val["evaluation_loss_vs_iterations"]] == [6, 12]


def test_batch_scalars_every_update_freq(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    _fit(TensorBoard(log_dir=tmp_path, update_freq=4, write_steps_per_second=True))
    train = _events(tmp_path / "train")
    assert [step for step, _ in train["batch_loss"]] == [4, 8, 12]  # global batch count
    assert "batch_steps_per_second" in train and "epoch_steps_per_second" in train


def test_batch_alias_and_argument_errors(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    assert TensorBoard(log_dir=tmp_path, update_freq="batch").update_freq == 1
    with pytest.raises(ValueError, match=r"Profiling is not yet available with the torch backend"):
        TensorBoard(log_dir=tmp_path, profile_batch=2)
    with pytest.raises(
        ValueError, match=r"`update_freq` must be 'epoch', 'batch' or a positive integer"
    ):
        TensorBoard(log_dir=tmp_path, update_freq="step")


def test_missing_tensorboard_package_is_explained(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    with pytest.raises(ImportError, match=r"pip install tensorboard.*kseq\[tensorboard\]"):
        TensorBoard()
