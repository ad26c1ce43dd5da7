"""LambdaCallback: the given functions run at their hooks with Keras's arguments; only the
hooks given are dispatched; extra hooks by keyword; misspelled hooks warn."""

from __future__ import annotations

import numpy as np
import pytest

import kseq
from kseq.callbacks import CallbackList, LambdaCallback


def _fit(callback, **kwargs):
    model = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((6, 2), "float32")
    model.fit(x, x[:, :1], batch_size=2, epochs=2, callbacks=[callback], verbose=0, **kwargs)
    return model


def test_every_documented_hook_runs() -> None:
    calls: list[tuple] = []
    cb = LambdaCallback(
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_begin=lambda logs: calls.append(("train_begin",)),
        on_train_end=lambda logs: calls.append(("train_end",)),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, sorted(logs))),
    )
    _fit(cb)
    epoch = [("batch_begin", 0), ("batch_end", 0, ["loss"]), ("batch_begin", 1),
             ("batch_end", 1, ["loss"]), ("batch_begin", 2), ("batch_end", 2, ["loss"])]  # fmt: skip
    assert calls == [
        ("train_begin",),
        ("epoch_begin", 0), *epoch, ("epoch_end", 0, ["loss"]),
        ("epoch_begin", 1), *epoch, ("epoch_end", 1, ["loss"]),
        ("train_end",),
    ]  # fmt: skip


def test_batch_logs_are_passed_by_keyword() -> None:
    seen = []
    _fit(LambdaCallback(on_train_batch_end=lambda batch, **kw: seen.append(sorted(kw["logs"]))))
    assert seen == [["loss"]] * 6


def test_other_hooks_by_keyword() -> None:
    seen = []
    cb = LambdaCallback(on_test_end=lambda logs: seen.append(("test_end", sorted(logs))))
    x = np.ones((6, 2), "float32")
    _fit(cb, validation_data=(x, x[:, :1]))
    assert seen == [("test_end", ["loss"])] * 2


def test_only_given_hooks_are_dispatched() -> None:
    cbs = CallbackList([LambdaCallback(on_epoch_end=lambda epoch, logs: None)])
    assert not cbs.has_batch_hooks("train")  # so fit adds no per-batch call or host sync
    assert not cbs.has_batch_hooks("test")


def test_misspelled_hook_warns() -> None:
    with pytest.warns(UserWarning, match=r"\['on_epoch_ends'\], which are not callback hooks"):
        LambdaCallback(on_epoch_ends=lambda epoch, logs: None)
