"""``kseq.callbacks.TqdmProgressBar``: a tqdm bar carrying Keras's logs, asking for the device
values exactly when Keras's bar does, and chosen automatically inside a Jupyter notebook."""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest

import kseq
from kseq.callbacks import ProgbarLogger, TqdmProgressBar
from kseq.callbacks import callback_list as callback_list_module
from kseq.callbacks.callback_list import CallbackList
from kseq.core.notebook import in_notebook


def small_model():
    model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    return x, (x[:, 0] > 0).astype("float32")[:, None]


def test_fit_draws_one_bar_per_epoch_with_keras_logs(capsys):
    x, y = data()
    out = io.StringIO()
    history = small_model().fit(
        x, y, validation_split=0.25, epochs=2, batch_size=10,
        callbacks=[TqdmProgressBar(file=out, ncols=200)],
    )  # fmt: skip
    assert capsys.readouterr().out == ""  # no Keras text bar besides it
    text = out.getvalue()
    last_line = [line for line in text.split("\r") if line.strip()][-1]
    assert last_line.startswith("Epoch 2/2: 100%") and "3/3" in last_line
    logs = history.history
    expected = " - ".join(
        f"{key}: {logs[key][-1]:.4f}" for key in ("accuracy", "loss", "val_accuracy", "val_loss")
    )
    assert expected in last_line


def test_predict_and_evaluate_show_it_too():
    x, y = data()
    model = small_model()
    out = io.StringIO()
    model.predict(x, batch_size=8, callbacks=[TqdmProgressBar(file=out)])
    assert "5/5" in out.getvalue()
    out = io.StringIO()
    loss, _ = model.evaluate(x, y, batch_size=8, callbacks=[TqdmProgressBar(file=out, ncols=200)])
    assert "5/5" in out.getvalue() and f"loss: {loss:.4f}" in out.getvalue()


def test_costs_no_more_host_syncs_than_keras_bar():
    # The same rule decides when the logs (a host sync) are fetched: the first step, then 10 Hz.
    assert TqdmProgressBar._wants_batch_logs is ProgbarLogger._wants_batch_logs
    bar = TqdmProgressBar(file=io.StringIO())
    bar.set_params({"verbose": 1, "epochs": 1, "steps": 100})
    bar.on_epoch_begin(0)
    bar.on_train_batch_end(0, {"loss": 1.0})
    assert not bar._wants_batch_logs(1)  # within 0.1 s of the last draw
    for batch in range(1, 50):
        bar.on_train_batch_end(batch, None)  # a step without logs: counted, not drawn
    assert bar.seen == 50 and bar.bar.n == 1
    bar.on_epoch_end(0, {"loss": 0.5})
    assert bar.bar is None


def fake_jupyter(monkeypatch, shell_name):
    shell = type(shell_name, (), {})()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))


def test_notebook_detection(monkeypatch):
    assert not in_notebook()
    fake_jupyter(monkeypatch, "TerminalInteractiveShell")  # plain `ipython` in a terminal
    assert not in_notebook()
    fake_jupyter(monkeypatch, "ZMQInteractiveShell")
    assert in_notebook()


def test_notebooks_get_the_tqdm_bar_by_default(monkeypatch):
    assert type(CallbackList(add_progbar=True)._progbar) is ProgbarLogger
    fake_jupyter(monkeypatch, "ZMQInteractiveShell")
    assert type(CallbackList(add_progbar=True)._progbar) is TqdmProgressBar
    mine = TqdmProgressBar()
    cbs = CallbackList([mine], add_progbar=True)
    assert cbs._progbar is mine and len(cbs.callbacks) == 1


def test_notebook_fit_prints_no_keras_bar(monkeypatch, capsys):
    monkeypatch.setattr(callback_list_module, "in_notebook", lambda: True)
    x, y = data()
    small_model().fit(x, y, epochs=1, batch_size=10)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "4/4" in captured.err and "loss:" in captured.err  # tqdm.auto's text fallback


@pytest.mark.parametrize("verbose", [0, 2])
def test_verbose_0_and_2(verbose):
    bar = TqdmProgressBar(file=io.StringIO())
    bar.set_params({"verbose": verbose, "epochs": 1, "steps": 3})
    bar.on_epoch_begin(0)
    for batch in range(3):
        assert not bar._wants_batch_logs(batch)
        bar.on_train_batch_end(batch, None)
    bar.on_epoch_end(0, {"loss": 0.5})
    assert ("3/3" in bar.tqdm_kwargs["file"].getvalue()) is (verbose == 2)
