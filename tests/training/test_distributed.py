"""DDP under torchrun: two CPU processes (gloo) train one model.

Checks that ranks end with identical weights, see the same global metrics, split the data
(half the steps each), print only on rank 0, and that evaluate() reduces over ranks exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kseq

WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.mark.slow
def test_two_process_ddp_fit(tmp_path: Path) -> None:
    prefix = str(tmp_path / "rank")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "KSEQ_DEVICE": "cpu"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            str(WORKER),
            prefix,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reports = [json.loads(Path(f"{prefix}{r}.json").read_text()) for r in (0, 1)]
    weights = [np.load(f"{prefix}{r}.npz") for r in (0, 1)]
    for key in weights[0].files:
        np.testing.assert_array_equal(
            weights[0][key], weights[1][key]
        )  # DDP kept the replicas equal
    assert reports[0]["world"] == 2
    assert reports[0]["steps"] == 6  # 192 training samples / 2 ranks / batch 16
    assert reports[0]["history"] == reports[1]["history"]  # metrics are all-reduced: global values
    assert reports[0]["history"]["loss"][-1] < reports[0]["history"]["loss"][0]
    assert reports[0]["evaluate"] == reports[1]["evaluate"]
    # Only rank 0 printed the progress bar.
    assert result.stdout.count("Epoch 1/3") == 1

    # evaluate() under DDP sums the ranks' shards: it equals a single process on all the data.
    model = kseq.Sequential(
        [
            kseq.Input(shape=(8,)),
            kseq.layers.Dense(16, activation="relu"),
            kseq.layers.Dropout(0.1),
            kseq.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(loss="binary_crossentropy", metrics=["accuracy"])
    model.set_weights([weights[0][k] for k in weights[0].files])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")
    single = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    for key, value in single.items():
        assert reports[0]["evaluate"][key] == pytest.approx(value, rel=1e-5)
