"""The training loop never copies device values to the host per step.

On CPU there is no "sync" as such, so we count the operations that would be one on a GPU:
``Tensor.item``, ``float(tensor)``, ``tolist``, ``numpy``, ``cpu`` and ``bool(tensor)``. The count
for a whole ``fit`` must not grow with the number of steps.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import numpy as np
import pytest
import torch

import kseq
from kseq import layers

CONVERSIONS = ("item", "__float__", "tolist", "numpy", "cpu", "__bool__", "__int__")


@contextlib.contextmanager
def count_host_conversions() -> Iterator[dict[str, int]]:
    counts = dict.fromkeys(CONVERSIONS, 0)
    originals = {name: getattr(torch.Tensor, name) for name in CONVERSIONS}

    def counting(name):
        original = originals[name]

        def wrapper(self, *args, **kwargs):
            counts[name] += 1
            return original(self, *args, **kwargs)

        return wrapper

    for name in CONVERSIONS:
        setattr(torch.Tensor, name, counting(name))
    try:
        yield counts
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)


def fit_and_count(steps: int, verbose: int, metrics: list[str]) -> int:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(steps * 8, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = kseq.Sequential(
        [
            kseq.Input(shape=(5,)),
            layers.Dense(8, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics)
    model.fit(x[:8], y[:8], batch_size=8, verbose=0)  # build everything first
    with contextlib.redirect_stdout(io.StringIO()), count_host_conversions() as counts:
        model.fit(x, y, batch_size=8, epochs=2, verbose=verbose, validation_data=(x[:16], y[:16]))
    return sum(counts.values())


@pytest.mark.parametrize("metrics", [[], ["accuracy"], ["accuracy", "mse", "mae"]])
def test_host_conversions_do_not_grow_with_steps(metrics: list[str]) -> None:
    few, many = fit_and_count(10, 0, metrics), fit_and_count(40, 0, metrics)
    assert few == many
    assert few <= 4 * (len(metrics) + 1) * 2  # a handful per epoch: the epoch-end logs


def test_progress_bar_syncs_are_bounded_by_time_not_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    # The bar reads the metrics on the first step, then at most every REFRESH_SECONDS, then at the
    # end of each epoch. With a refresh period longer than the run, the count is independent of steps.
    from kseq.callbacks import progbar_logger

    monkeypatch.setattr(progbar_logger, "REFRESH_SECONDS", 1e9)
    assert fit_and_count(10, 1, ["accuracy"]) == fit_and_count(80, 1, ["accuracy"])
    # ...and with no gate at all it would read them on every step:
    monkeypatch.setattr(progbar_logger, "REFRESH_SECONDS", 0.0)
    assert fit_and_count(80, 1, ["accuracy"]) > fit_and_count(10, 1, ["accuracy"]) + 100
