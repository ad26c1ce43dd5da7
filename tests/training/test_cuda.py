"""GPU behaviour (skipped without CUDA): placement, no host syncs in an epoch, mixed precision."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq
from kseq import layers

pytestmark = pytest.mark.cuda


def model_and_data(n: int = 512):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 12)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")
    model = kseq.Sequential(
        [
            kseq.Input(shape=(12,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    return model, x, y


def test_fit_moves_an_unplaced_model_to_cuda_and_predict_returns_numpy() -> None:
    model, x, y = model_and_data()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    assert next(model.parameters()).device.type == "cuda"
    out = model.predict(x[:10], verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (10, 1)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] > 0.8


def test_explicit_cpu_placement_is_respected() -> None:
    model, x, y = model_and_data()
    model.to("cpu")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert next(model.parameters()).device.type == "cpu"


def test_an_epoch_has_no_host_sync_inside() -> None:
    model, x, y = model_and_data(4096)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x[:64], y[:64], epochs=1, verbose=0)  # warm-up: build, allocate optimizer state
    trainer = model._trainer
    data = trainer.adapt(x, y)
    step = trainer.steps.train_step
    batches = list(data.batches(32, shuffle=True))
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for xb, yb, swb in batches:
            step(xb, yb, swb)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert 0 < trainer.logs()["loss"] < 1


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_on_gpu(policy: str) -> None:
    kseq.mixed_precision.set_global_policy(policy)
    try:
        model, x, y = model_and_data()
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=5, verbose=0)
        assert model.layers[0].linear.weight.dtype == torch.float32
        assert history.history["accuracy"][-1] > 0.8
    finally:
        kseq.mixed_precision.set_global_policy(None)


def test_jit_compile_on_gpu_matches_eager() -> None:
    results = []
    for jit in (False, True):
        kseq.utils.set_random_seed(0)
        model, x, y = model_and_data()
        model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=jit)
        model.fit(x, y, epochs=2, shuffle=False, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_moving_a_trained_model_moves_its_optimizer_state() -> None:
    model, x, y = model_and_data()
    model.to("cpu")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.to("cuda")
    history = model.fit(x, y, epochs=1, verbose=0)  # Adam's moments follow the weights
    assert np.isfinite(history.history["loss"]).all()
    assert all(t.device.type == "cuda" for t in model.optimizer._state_tensors())
