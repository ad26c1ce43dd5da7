"""The model and data the BackupAndRestore resume tests train (shared with resume_worker.py)."""

from __future__ import annotations

import numpy as np

import kseq

EPOCHS = 6
BATCH_SIZE = 16  # 4 steps per epoch


def build() -> kseq.Sequential:
    model = kseq.Sequential(
        [
            kseq.Input((6,)),
            kseq.layers.Dense(16, activation="relu"),
            kseq.layers.Dropout(0.3),
            kseq.layers.BatchNormalization(),
            kseq.layers.Dense(1),
        ]
    )
    model.compile(optimizer=kseq.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    x = rng.normal(size=(64, 6)).astype("float32")
    return x, (x.sum(axis=1, keepdims=True) > 0).astype("float32")
