"""Helpers for the callback tests: a duck-typed model that both libraries' callbacks can drive
epoch by epoch (stop flag, optimizer learning rate, get/set weights), and a driver loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest


class StubModel:
    """What EarlyStopping/ReduceLROnPlateau touch: ``stop_training``, ``optimizer.learning_rate``,
    ``metrics`` and Keras-layout ``get_weights``/``set_weights`` (one scalar: the epoch index)."""

    def __init__(self, optimizer: Any = None) -> None:
        self.stop_training = False
        self.optimizer = optimizer
        self.metrics: list[Any] = []
        self.weights = [np.zeros(1, "float32")]

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        self.weights = [np.array(w, copy=True) for w in weights]


def drive(callback: Any, model: StubModel, history: Sequence[dict[str, float]]) -> list[tuple]:
    """Run ``callback`` over ``history`` as ``fit`` would (weights = epoch index before each epoch
    end; stop when asked), returning ``(epoch, stop_training, wait, lr)`` per epoch and, last,
    ``("final weights", value)``."""
    callback.set_model(model)
    callback.set_params({"epochs": len(history), "steps": 1, "verbose": 0})
    model.stop_training = False
    callback.on_train_begin({})
    record: list[tuple] = []
    for epoch, logs in enumerate(history):
        model.weights = [np.full(1, epoch, "float32")]
        callback.on_epoch_begin(epoch, {})
        callback.on_epoch_end(epoch, dict(logs))
        lr = (
            None
            if model.optimizer is None
            else float(np.float32(float(model.optimizer.learning_rate)))
        )
        record.append((epoch, model.stop_training, callback.wait, lr))
        if model.stop_training:
            break
    callback.on_train_end({})
    record.append(("final weights", float(model.weights[0][0])))
    return record


@pytest.fixture
def stub_model() -> type[StubModel]:
    return StubModel


@pytest.fixture
def drive_callback() -> Any:
    return drive
