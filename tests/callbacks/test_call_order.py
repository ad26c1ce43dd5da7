"""The exact sequence of callback calls (names and arguments) of fit (2 epochs x 3 steps with
validation), evaluate and predict equals Keras's; ``model.stop_training`` from a hook stops at the
same point as in Keras; the ``on_batch_*`` aliases are called like Keras's.

The expected sequence is a literal (recorded from Keras 3.15.1, torch backend), so the kseq test
runs without Keras; the ``keras``-marked test checks that Keras still produces it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import kseq

BEGIN_END = ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
             "on_predict_begin", "on_predict_end")  # fmt: skip
INDEXED = ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
           "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
           "on_predict_batch_end")  # fmt: skip


def recorder_class(lib: Any) -> type:
    """A callback class of ``lib`` recording ``(hook, [index,] sorted log keys, how logs came)``."""

    def begin_end(hook: str):
        def method(self, *args, **kwargs):
            self.record(hook, (), args, kwargs)

        return method

    def indexed(hook: str):
        def method(self, index, *args, **kwargs):
            self.record(hook, (index,), args, kwargs)

        return method

    class Recorder(lib.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[tuple] = []

        def record(self, hook, head, args, kwargs) -> None:
            logs, how = (kwargs["logs"], "kw") if "logs" in kwargs else (args[0], "pos")
            self.calls.append((hook, *head, None if logs is None else sorted(logs), how))

        def set_params(self, params) -> None:
            super().set_params(params)
            self.calls.append(("set_params", dict(params)))

        def set_model(self, model) -> None:
            super().set_model(model)
            self.calls.append(("set_model", type(model).__name__))

    for hook in BEGIN_END:
        setattr(Recorder, hook, begin_end(hook))
    for hook in INDEXED:
        setattr(Recorder, hook, indexed(hook))
    return Recorder


def _run(lib: Any) -> list[tuple]:
    model = lib.Sequential([lib.Input(shape=(2,)), lib.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = np.ones((6, 2), "float32"), np.ones((6, 1), "float32")
    rec = recorder_class(lib)()
    model.fit(
        x, y, batch_size=2, epochs=2, validation_data=(x[:4], y[:4]), callbacks=[rec], verbose=0
    )
    model.evaluate(x, y, batch_size=3, callbacks=[rec], verbose=0)
    model.predict(x, batch_size=3, callbacks=[rec], verbose=0)
    return rec.calls


def _validation() -> list[tuple]:
    return [
        ("on_test_begin", [], "pos"),
        ("on_test_batch_begin", 0, [], "kw"),
        ("on_test_batch_end", 0, ["loss", "mae"], "kw"),
        ("on_test_batch_begin", 1, [], "kw"),
        ("on_test_batch_end", 1, ["loss", "mae"], "kw"),
        ("on_test_end", ["loss", "mae"], "pos"),
    ]


def _epoch(epoch: int) -> list[tuple]:
    steps = [
        call
        for step in range(3)
        for call in (
            ("on_train_batch_begin", step, [], "kw"),
            ("on_train_batch_end", step, ["loss", "mae"], "kw"),
        )
    ]
    return [
        ("on_epoch_begin", epoch, [], "pos"),
        *steps,
        *_validation(),
        ("on_epoch_end", epoch, ["loss", "mae", "val_loss", "val_mae"], "pos"),
    ]


EXPECTED = [
    ("set_model", "Sequential"),
    ("set_params", {"verbose": 0, "epochs": 2, "steps": 3}),
    ("on_train_begin", [], "pos"),
    *_epoch(0),
    *_epoch(1),
    ("on_train_end", ["loss", "mae", "val_loss", "val_mae"], "pos"),
    ("set_model", "Sequential"),
    ("set_params", {"verbose": 0, "epochs": 1, "steps": 2}),
    *_validation(),
    ("set_model", "Sequential"),
    ("set_params", {"verbose": 0, "epochs": 1, "steps": 2}),
    ("on_predict_begin", [], "pos"),
    ("on_predict_batch_begin", 0, [], "kw"),
    ("on_predict_batch_end", 0, ["outputs"], "kw"),
    ("on_predict_batch_begin", 1, [], "kw"),
    ("on_predict_batch_end", 1, ["outputs"], "kw"),
    ("on_predict_end", [], "pos"),
]


def test_call_order() -> None:
    assert _run(kseq) == EXPECTED


@pytest.mark.keras
def test_call_order_is_keras(keras) -> None:
    assert _run(keras) == EXPECTED


def _stop_run(lib: Any, hook: str, at: int) -> tuple[list[int], int]:
    """Fit 3 epochs x 3 steps with a callback setting ``stop_training`` in ``hook`` at index
    ``at``; return (epochs recorded in History, train steps run)."""
    steps: list[int] = []
    counter = lib.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: steps.append(batch)
    )

    def stop(index, logs=None):
        if index == at:
            stopper.model.stop_training = True

    stopper = lib.callbacks.LambdaCallback(**{hook: stop})
    model = lib.Sequential([lib.Input(shape=(2,)), lib.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((6, 2), "float32")
    history = model.fit(
        x, x[:, :1], batch_size=2, epochs=3, validation_data=(x, x[:, :1]),
        callbacks=[stopper, counter], verbose=0,
    )  # fmt: skip
    return history.epoch, len(steps)


STOP_CASES = [
    ("on_train_batch_end", 1, ([0], 2)),  # the epoch ends after this batch (validation still runs)
    ("on_train_batch_begin", 0, ([0], 1)),  # checked after the batch
    ("on_epoch_end", 1, ([0, 1], 6)),
    ("on_epoch_begin", 1, ([0, 1], 4)),  # the epoch runs one batch
    ("on_test_batch_end", 0, ([0], 3)),  # seen after validation, at the epoch end
]


@pytest.mark.parametrize(("hook", "at", "expected"), STOP_CASES)
def test_stop_training_from_hooks(hook, at, expected) -> None:
    assert _stop_run(kseq, hook, at) == expected


@pytest.mark.keras
@pytest.mark.parametrize(("hook", "at", "expected"), STOP_CASES)
def test_stop_training_from_hooks_is_keras(keras, hook, at, expected) -> None:
    assert _stop_run(keras, hook, at) == expected


def _alias_run(lib: Any) -> list[tuple]:
    calls: list[tuple] = []

    class Legacy(lib.callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, sorted(logs)))

    model = lib.Sequential([lib.Input(shape=(2,)), lib.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), "float32")
    model.fit(
        x, x[:, :1], batch_size=2, validation_data=(x, x[:, :1]), callbacks=[Legacy()], verbose=0
    )
    model.evaluate(x, x[:, :1], batch_size=2, callbacks=[Legacy()], verbose=0)
    return calls


def test_on_batch_aliases_are_train_only() -> None:
    assert _alias_run(kseq) == [
        ("begin", 0),
        ("end", 0, ["loss"]),
        ("begin", 1),
        ("end", 1, ["loss"]),
    ]


@pytest.mark.keras
def test_on_batch_aliases_are_keras(keras) -> None:
    assert _alias_run(keras) == _alias_run(kseq)
