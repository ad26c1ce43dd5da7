"""A small CNN on scikit-learn's 8x8 handwritten digits, written as plain Keras code.

``import kseq as keras`` is the only change from a Keras 3 script: the model, ``compile``, ``fit`` and
``evaluate`` calls are Keras's. Images are channels_last ``(N, 8, 8, 1)``, as Keras expects.

Run: ``python examples/cnn_digits.py`` (a few seconds on a CPU). It prints the model summary and the
test accuracy, and exits with status 1 if the accuracy is below the target (0.9 by default).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kseq as keras
from kseq import layers


def load_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits as float32 images in [0, 1], shape ``(N, 8, 8, 1)``, split 80/20 (stratified)."""
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., np.newaxis]
    y = digits.target.astype("int64")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=y
    )
    return x_train, x_test, y_train, y_test


def build_model() -> keras.Sequential:
    """Conv -> pool -> conv -> flatten -> softmax, about 10k parameters."""
    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(10, activation="softmax"),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--target", type=float, default=0.9, help="minimum test accuracy")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    x_train, x_test, y_train, y_test = load_data(args.seed)
    model = build_model()
    model.summary()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.005),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, validation_split=0.1, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {loss:.4f} - test accuracy: {accuracy:.4f} (target {args.target})")
    if accuracy < args.target:
        print(f"FAILED: test accuracy {accuracy:.4f} is below the target {args.target}.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
