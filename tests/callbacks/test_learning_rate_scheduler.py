"""LearningRateScheduler: the schedule sets the learning rate each epoch, as in Keras (same
values, same messages), the legacy one-argument schedule works, non-float results are refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kseq
from kseq.callbacks import LearningRateScheduler


def _model(lib):
    model = lib.Sequential([lib.Input(shape=(2,)), lib.layers.Dense(1)])
    model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.01), loss="mse")
    return model


def _fit(model, callback, epochs: int = 4):
    x = np.ones((8, 2), "float32")
    return model.fit(x, x[:, :1], batch_size=4, epochs=epochs, callbacks=[callback], verbose=0)


def schedule(epoch: int, lr: float) -> float:
    return lr if epoch < 2 else lr * math.exp(-0.1)


@pytest.mark.keras
def test_schedule_matches_keras(keras, capsys) -> None:
    ref = _fit(_model(keras), keras.callbacks.LearningRateScheduler(schedule, verbose=1))
    ref_out = capsys.readouterr().out
    history = _fit(_model(kseq), LearningRateScheduler(schedule, verbose=1))
    assert capsys.readouterr().out == ref_out
    assert history.history["learning_rate"] == ref.history["learning_rate"]


def test_schedule_sets_the_rate_each_epoch(capsys) -> None:
    model = _model(kseq)
    history = _fit(model, LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1), verbose=1))
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    assert capsys.readouterr().out.splitlines()[:2] == [
        "",
        "Epoch 1: LearningRateScheduler setting learning rate to 0.1.",
    ]


def test_legacy_one_argument_schedule() -> None:
    model = _model(kseq)
    _fit(model, LearningRateScheduler(lambda epoch: 0.5**epoch), epochs=3)
    assert model.optimizer.learning_rate == pytest.approx(0.25)


def test_non_float_schedule_output_is_rejected() -> None:
    with pytest.raises(
        ValueError, match="The output of the `schedule` function should be a float. Got: 1"
    ):
        _fit(_model(kseq), LearningRateScheduler(lambda epoch, lr: 1))
