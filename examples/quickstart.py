"""Quickstart: Keras Sequential code, unchanged, training on real data with kseq.

Binary classification of scikit-learn's breast-cancer dataset (569 samples, 30 features) with the
classic Keras tutorial model. Run it with ``python examples/quickstart.py``; it exits non-zero if the
test accuracy is not above 0.93.
"""

from __future__ import annotations

import sys

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import kseq as keras
from kseq.layers import Dense, Dropout
from kseq.models import Sequential


def main() -> float:
    keras.utils.set_random_seed(42)
    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=42, stratify=y
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    model = Sequential()
    model.add(keras.Input(shape=(30,)))
    model.add(Dense(32, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(16, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    model.summary()

    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=20, batch_size=32, validation_split=0.2, verbose=2)
    print("History keys:", list(history.history))

    results = model.evaluate(x_test, y_test, return_dict=True, verbose=0)
    print(f"Test loss {results['loss']:.4f} - test accuracy {results['accuracy']:.4f}")
    probabilities = model.predict(x_test[:5], verbose=0)
    print("First predictions:", np.round(probabilities.ravel(), 3), "true:", y_test[:5])
    return results["accuracy"]


if __name__ == "__main__":
    accuracy = main()
    sys.exit(0 if accuracy > 0.93 else 1)
