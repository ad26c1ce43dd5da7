"""The functional API: a two-input model on generated data, trained with ``fit([a, b], y)``.

Each sample has 10 "sensor" features and 5 "context" features; the label depends on both, so the
model needs its two branches merged. Run it with ``python examples/functional_two_inputs.py``; it
exits non-zero if the test accuracy is not above 0.9.
"""

from __future__ import annotations

import sys

import numpy as np

import kseq as keras
from kseq.layers import Dense, Input, concatenate
from kseq.models import Model


def make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sensors = rng.normal(size=(n, 10)).astype("float32")
    context = rng.normal(size=(n, 5)).astype("float32")
    score = sensors[:, :3].sum(axis=1) - 2.0 * context[:, 0]
    return sensors, context, (score > 0).astype("float32")[:, None]


def main() -> float:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    a_train, b_train, y_train = make_data(2000, rng)
    a_test, b_test, y_test = make_data(500, rng)

    sensors = Input(shape=(10,), name="sensors")
    context = Input(shape=(5,), name="context")
    x = Dense(16, activation="relu", name="sensor_features")(sensors)
    y = Dense(8, activation="relu", name="context_features")(context)
    merged = concatenate([x, y], name="merged")
    output = Dense(1, activation="sigmoid", name="label")(merged)
    model = Model(inputs=[sensors, context], outputs=output, name="two_inputs")
    model.summary()

    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit([a_train, b_train], y_train, epochs=10, batch_size=32, verbose=2)
    _, accuracy = model.evaluate([a_test, b_test], y_test, verbose=0)
    print(f"Test accuracy: {accuracy:.4f}")
    return float(accuracy)


if __name__ == "__main__":
    sys.exit(0 if main() > 0.9 else 1)
