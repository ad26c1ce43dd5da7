"""TerminateOnNaN: stops a diverging fit with Keras's message, raises on request, and reads the
loss from the device only at the epoch's first and last batches (plus <= 10 Hz), not per step."""

from __future__ import annotations

import re

import numpy as np
import pytest

import kseq
from kseq.callbacks import TerminateOnNaN
from kseq.training.trainer import Trainer


def _model(lib, lr: float):
    model = lib.Sequential([lib.Input(shape=(4,)), lib.layers.Dense(1)])
    model.compile(optimizer=lib.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def _nan_at_first_batch() -> tuple[np.ndarray, np.ndarray]:
    x = np.ones((32, 4), "float32")
    y = np.ones((32, 1), "float32")
    y[0] = np.nan
    return x, y


def test_huge_learning_rate_is_stopped(capsys) -> None:
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32") * 100
    history = _model(kseq, lr=1e6).fit(
        x, x[:, :1], batch_size=8, epochs=20, callbacks=[TerminateOnNaN()], verbose=0
    )
    assert len(history.epoch) < 20
    assert not np.isfinite(history.history["loss"][-1])
    out = capsys.readouterr().out
    assert re.fullmatch(r"Batch \d+: Invalid loss, terminating training\n", out)


@pytest.mark.keras
def test_message_and_stop_match_keras(keras, capsys) -> None:
    x, y = _nan_at_first_batch()
    ref = _model(keras, 0.01).fit(x, y, batch_size=8, epochs=3, shuffle=False,
                                  callbacks=[keras.callbacks.TerminateOnNaN()], verbose=0)  # fmt: skip
    ref_out = capsys.readouterr().out
    ours = _model(kseq, 0.01).fit(x, y, batch_size=8, epochs=3, shuffle=False,
                                  callbacks=[TerminateOnNaN()], verbose=0)  # fmt: skip
    assert capsys.readouterr().out == ref_out == "Batch 0: Invalid loss, terminating training\n"
    assert len(ours.epoch) == len(ref.epoch) == 1


def test_raise_error() -> None:
    x, y = _nan_at_first_batch()
    with pytest.raises(
        RuntimeError, match=r"NaN or Inf loss encountered at batch 0\. Loss value: nan\."
    ):
        _model(kseq, 0.01).fit(
            x,
            y,
            batch_size=8,
            shuffle=False,
            callbacks=[TerminateOnNaN(raise_error=True)],
            verbose=0,
        )


def test_no_per_step_host_sync(monkeypatch) -> None:
    # Freeze the clock: only the first and last batch of each epoch are read, plus the epoch end.
    monkeypatch.setattr("kseq.callbacks.terminate_on_nan.time.monotonic", lambda: 1000.0)
    calls = []
    real_logs = Trainer.logs
    monkeypatch.setattr(Trainer, "logs", lambda self: calls.append(1) or real_logs(self))
    x = np.ones((200, 4), "float32")
    _model(kseq, 0.01).fit(
        x, x[:, :1], batch_size=2, epochs=2, callbacks=[TerminateOnNaN()], verbose=0
    )
    assert len(calls) == 2 * (2 + 1)  # 100 steps per epoch


def test_nan_between_checks_is_caught_at_the_epoch_last_batch(monkeypatch, capsys) -> None:
    monkeypatch.setattr("kseq.callbacks.terminate_on_nan.time.monotonic", lambda: 1000.0)
    x = np.ones((40, 4), "float32")
    y = np.ones((40, 1), "float32")
    y[20] = np.inf  # batch 5 of 10
    history = _model(kseq, 0.0).fit(
        x, y, batch_size=4, epochs=3, shuffle=False, callbacks=[TerminateOnNaN()], verbose=0
    )
    assert len(history.epoch) == 1
    assert capsys.readouterr().out == "Batch 9: Invalid loss, terminating training\n"


def test_unknown_length_data_is_checked_at_epoch_end(monkeypatch, capsys) -> None:
    monkeypatch.setattr("kseq.callbacks.terminate_on_nan.time.monotonic", lambda: 1000.0)

    def batches():  # a generator: fit does not know the epoch length
        for i in range(5):
            yield np.ones((2, 4), "float32"), np.full((2, 1), np.nan if i == 3 else 1.0, "float32")

    cb = TerminateOnNaN()
    seen: list[int] = []
    model = _model(kseq, 0.0)
    record = kseq.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: seen.append(batch)
    )
    model.fit(batches(), epochs=1, callbacks=[cb, record], verbose=0)
    assert cb.params["steps"] is None
    assert model.stop_training
    # Not seen at batch 3 (no check was due), but by the epoch-end check, named after the last batch.
    assert seen[-1] >= 3
    assert capsys.readouterr().out == f"Batch {seen[-1]}: Invalid loss, terminating training\n"
