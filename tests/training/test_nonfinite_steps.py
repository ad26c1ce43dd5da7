"""A step whose loss or gradients are non-finite is not applied (beyond Keras, which applies it).

With ``TerminateOnNaN`` the run stops and the model keeps the weights of the last finite step, so it
still predicts finite values; without it, training simply goes on from those weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq
from kseq import layers
from kseq.callbacks import terminate_on_nan


def model_for(optimizer: str, jit_compile: bool = False) -> kseq.Sequential:
    kseq.utils.set_random_seed(0)
    model = kseq.Sequential(
        [kseq.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(1)]
    )
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"], jit_compile=jit_compile)
    return model


def data_with_nan_batch(bad_batch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True).astype("float32")
    x[bad_batch * 8 + 3, 2] = np.nan
    return x, y


def weights_after_batches(model: kseq.Sequential, x: np.ndarray, y: np.ndarray, n: int) -> list:
    for i in range(n):
        model.train_on_batch(x[i * 8 : (i + 1) * 8], y[i * 8 : (i + 1) * 8])
    return [w.copy() for w in model.get_weights()]


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop", "adamw"])
def test_terminate_on_nan_keeps_the_weights_of_the_last_finite_step(
    optimizer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Check the loss after every batch (kseq's default checks at most every 0.1 s, and the finite
    # batches it trains on meanwhile are applied as usual).
    monkeypatch.setattr(terminate_on_nan, "CHECK_SECONDS", 0.0)
    x, y = data_with_nan_batch(bad_batch=3)
    expected = weights_after_batches(model_for(optimizer), x, y, 3)
    model = model_for(optimizer)
    history = model.fit(
        x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
        callbacks=[kseq.callbacks.TerminateOnNaN()],
    )  # fmt: skip
    assert len(history.history["loss"]) == 1  # stopped in the first epoch
    for got, want in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_array_equal(got, want)  # bitwise: the NaN step changed nothing
    assert np.isfinite(model.predict(x[:8], verbose=0)).all()


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_skipped_step_leaves_the_optimizer_slots_unchanged(optimizer: str) -> None:
    x, y = data_with_nan_batch(bad_batch=1)
    model = model_for(optimizer)
    weights_after_batches(model, x, y, 1)
    slots = [t.detach().clone() for t in model.optimizer.variables if isinstance(t, torch.Tensor)]
    weights = model.get_weights()
    logs = model.train_on_batch(x[8:16], y[8:16], return_dict=True)  # the NaN batch
    assert np.isnan(logs["loss"])
    for got, want in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)
    after = [t.detach() for t in model.optimizer.variables if isinstance(t, torch.Tensor)]
    for before, now in zip(slots[1:], after[1:], strict=True):  # [0] is the host iteration count
        assert torch.equal(before, now)
    # Training then goes on from the last finite weights, and learns.
    clean = np.nan_to_num(x)
    history = model.fit(clean, y, batch_size=8, epochs=5, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.usefixtures("fresh_dynamo")
def test_compiled_step_skips_a_nan_batch_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terminate_on_nan, "CHECK_SECONDS", 0.0)
    x, y = data_with_nan_batch(bad_batch=2)
    expected = weights_after_batches(model_for("adam"), x, y, 2)
    model = model_for("adam", jit_compile=True)
    model.fit(
        x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
        callbacks=[kseq.callbacks.TerminateOnNaN()],
    )  # fmt: skip
    for got, want in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
