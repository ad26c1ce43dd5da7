"""The issue's Keras tutorial snippet, pasted after ``import kseq as keras``."""

from __future__ import annotations

import numpy as np
import pytest

import kseq as keras
from kseq.layers import Dense
from kseq.models import Sequential


@pytest.fixture
def data() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 10)).astype("float32")
    y = (x[:, 0] + x[:, 1] - x[:, 2] > 0).astype("float32")
    return x[:800], y[:800], x[800:], y[800:]


def test_tutorial_snippet_trains_and_reports(data, capsys) -> None:
    x_train, y_train, x_test, y_test = data
    model = Sequential()
    model.add(Dense(32, activation="relu", input_shape=(10,)))
    model.add(Dense(16, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    model.summary()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=5, batch_size=32, validation_split=0.2)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = model.evaluate(x_test, y_test, return_dict=True)
    assert result["accuracy"] > 0.85
    probabilities = model.predict(x_test[:3])
    assert probabilities.shape == (3, 1) and probabilities.dtype == np.float32
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    out = capsys.readouterr().out
    assert 'Model: "sequential"' in out
    assert "Epoch 5/5" in out and "Epoch 6/5" not in out
    assert "20/20" in out  # 640 training samples / 32


def test_input_shape_warns_like_keras() -> None:
    with pytest.warns(UserWarning, match="Do not pass an `input_shape`"):
        Dense(3, input_shape=(4,))


def test_namespaces_mirror_keras() -> None:
    for name in (
        "layers",
        "models",
        "losses",
        "metrics",
        "optimizers",
        "callbacks",
        "activations",
        "initializers",
        "utils",
        "config",
        "regularizers",
        "constraints",
    ):
        assert hasattr(keras, name), name
    assert keras.Sequential is keras.models.Sequential
    assert keras.layers.Dense is Dense
    assert isinstance(keras.Input(shape=(3,)).shape, tuple)
