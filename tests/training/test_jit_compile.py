"""``compile(jit_compile=True)`` compiles the step once per input signature and trains as eager does.

torch.compile used to recompile on every step (it guarded on the loss tracker's host sample count)
until its recompile limit: 90x slower than eager. These tests count the compiled frames over whole
epochs and compare the compiled losses and metrics with eager ones.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch._dynamo.utils import counters

import kseq
from kseq import layers


def make_model(jit_compile: bool) -> kseq.Sequential:
    kseq.utils.set_random_seed(0)
    model = kseq.Sequential(
        [kseq.Input(shape=(6,)), layers.Dense(16, activation="relu"), layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"], jit_compile=jit_compile)
    return model


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype("float32")  # batch 32: 6 full batches + one of 8
    return x, (x[:, :1] * 2 - x[:, 1:2]).astype("float32")


pytestmark = pytest.mark.usefixtures("fresh_dynamo")


def test_compiles_once_per_input_signature_and_matches_eager() -> None:
    x, y = data()
    compiled = make_model(jit_compile=True)
    history = compiled.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
    # Two signatures (full batches, the last partial batch): two graphs for the whole run,
    # however many steps and epochs; no recompile per step.
    assert counters["stats"]["unique_graphs"] == 2
    assert not counters["recompiles"] or sum(counters["recompiles"].values()) <= 1
    eager = make_model(jit_compile=False)
    reference = eager.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
    for key in ("loss", "mae"):
        np.testing.assert_allclose(history.history[key], reference.history[key], rtol=1e-4)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_allclose(
        compiled.evaluate(x, y, verbose=0), eager.evaluate(x, y, verbose=0), rtol=1e-4
    )
    np.testing.assert_allclose(
        compiled.predict(x, verbose=0), eager.predict(x, verbose=0), rtol=1e-4, atol=1e-5
    )


def test_an_uncompilable_step_runs_eagerly_after_one_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch._dynamo.exc as dynamo_exc

    def refuse(fn, *args, **kwargs):
        def call(*a, **k):
            raise dynamo_exc.Unsupported("this step cannot be traced")

        return call

    monkeypatch.setattr(torch, "compile", refuse)
    x, y = data()
    model = make_model(jit_compile=True)
    with pytest.warns(UserWarning, match="running it eagerly instead") as record:
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    assert len([w for w in record if "jit_compile" in str(w.message)]) == 1
    reference = make_model(jit_compile=False).fit(
        x, y, batch_size=32, epochs=2, verbose=0, shuffle=False
    )
    np.testing.assert_allclose(history.history["loss"], reference.history["loss"], rtol=1e-6)
