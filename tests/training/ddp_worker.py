"""Run by tests/training/test_distributed.py under torchrun (2 CPU processes, gloo).

Trains the same model on every rank and writes, on each rank, the final weights, the History and an
evaluate() result, so the test can compare ranks with each other and with a single process.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch.distributed as dist

import kseq
from kseq.training import distributed


def main(out_prefix: str) -> None:
    distributed.initialize(backend="gloo")
    kseq.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")
    model = kseq.Sequential(
        [
            kseq.Input(shape=(8,)),
            kseq.layers.Dense(16, activation="relu"),
            kseq.layers.Dropout(0.1),
            kseq.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=kseq.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=1)
    evaluation = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    rank = distributed.rank()
    np.savez(f"{out_prefix}{rank}.npz", *model.get_weights())
    with open(f"{out_prefix}{rank}.json", "w") as f:
        json.dump(
            {
                "history": history.history,
                "evaluate": evaluation,
                "world": distributed.world_size(),
                "steps": history.params["steps"],
            },
            f,
        )
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
