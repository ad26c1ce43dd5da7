"""Files move both ways between Keras 3 and kseq: ``.keras`` archives and ``.weights.h5`` files,
weights *and* optimizer state (Keras's variable order and weight layout).

Each direction: train a little in one library, save, load in the other, and check predictions,
the optimizer's variables, and that training continues the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kseq
from kseq.saving.optimizer_layout import keras_optimizer_arrays

pytestmark = pytest.mark.keras

RNG = np.random.default_rng(0)
X_VEC = RNG.normal(size=(16, 6)).astype("float32")
X_IMG = RNG.normal(size=(8, 6, 6, 2)).astype("float32")
X_SEQ = RNG.normal(size=(8, 5, 3)).astype("float32")


def _mlp(lib: Any) -> Any:
    L = lib.layers
    return lib.Sequential(
        [
            lib.Input((6,)),
            L.Dense(8, activation="relu"),
            L.LayerNormalization(),
            L.Dense(3, activation="softmax"),
        ]
    )


def _cnn(lib: Any) -> Any:
    L = lib.layers
    return lib.Sequential(
        [
            lib.Input((6, 6, 2)),
            L.Conv2D(4, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(3, 2),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ]
    )


def _rnn(lib: Any) -> Any:
    L = lib.layers
    return lib.Sequential(
        [
            lib.Input((5, 3)),
            L.LSTM(4, return_sequences=True),
            L.BatchNormalization(),
            L.Bidirectional(L.GRU(2)),
            L.Dense(3, activation="softmax"),
        ]
    )


MODELS: dict[str, tuple[Callable[[Any], Any], np.ndarray, Callable[[Any], Any]]] = {
    "mlp": (_mlp, X_VEC, lambda lib: lib.optimizers.Adam(learning_rate=0.01)),
    "cnn": (_cnn, X_IMG, lambda lib: lib.optimizers.SGD(learning_rate=0.05, momentum=0.9)),
    "lstm_bn": (_rnn, X_SEQ, lambda lib: lib.optimizers.RMSprop(momentum=0.5, centered=True)),
}


def _train(lib: Any, which: str) -> tuple[Any, np.ndarray, np.ndarray]:
    build, x, optimizer = MODELS[which]
    model = build(lib)
    model.compile(
        optimizer=optimizer(lib), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    y = np.arange(len(x)) % 3
    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    return model, x, y


def _keras_optimizer_values(model: Any) -> list[np.ndarray]:
    return [np.asarray(v.numpy()) for v in model.optimizer.variables]


def _assert_same_optimizer_state(keras_model: Any, kseq_model: Any) -> None:
    ours = keras_optimizer_arrays(kseq_model.optimizer, kseq_model)
    theirs = _keras_optimizer_values(keras_model)
    assert [a.shape for a in ours] == [t.shape for t in theirs]
    for a, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, t, rtol=1e-6, atol=1e-7)


def _assert_same_predictions(keras_model: Any, kseq_model: Any, x: np.ndarray) -> None:
    np.testing.assert_allclose(
        kseq_model.predict(x, verbose=0), keras_model.predict(x, verbose=0), atol=1e-5
    )


@pytest.mark.parametrize("which", sorted(MODELS))
def test_keras_archive_loads_in_kseq(which: str, keras: Any, tmp_path: Any) -> None:
    keras_model, x, y = _train(keras, which)
    keras_model.save(tmp_path / "keras.keras")
    model = kseq.models.load_model(tmp_path / "keras.keras")
    _assert_same_predictions(keras_model, model, x)
    assert type(model.optimizer).__name__ == type(keras_model.optimizer).__name__
    _assert_same_optimizer_state(keras_model, model)
    # Training continues from the same optimizer state in both libraries.
    keras_model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("which", sorted(MODELS))
def test_kseq_archive_loads_in_keras(which: str, keras: Any, tmp_path: Any) -> None:
    model, x, _ = _train(kseq, which)
    model.save(tmp_path / "kseq.keras")
    keras_model = keras.models.load_model(tmp_path / "kseq.keras")
    _assert_same_predictions(keras_model, model, x)
    assert keras_model.optimizer.get_config()["learning_rate"] == pytest.approx(
        model.optimizer.learning_rate
    )
    _assert_same_optimizer_state(keras_model, model)


@pytest.mark.parametrize("which", sorted(MODELS))
def test_weights_h5_both_ways(which: str, keras: Any, tmp_path: Any) -> None:
    model, x, _ = _train(kseq, which)
    # The same architecture in Keras, from kseq's JSON config.
    keras_model = keras.models.model_from_json(model.to_json())
    model.save_weights(tmp_path / "kseq.weights.h5")
    keras_model.load_weights(tmp_path / "kseq.weights.h5")
    _assert_same_predictions(keras_model, model, x)

    keras_trained, x, _ = _train(keras, which)
    keras_trained.save_weights(tmp_path / "keras.weights.h5")
    model.load_weights(tmp_path / "keras.weights.h5")
    _assert_same_predictions(keras_trained, model, x)
    _assert_same_optimizer_state(keras_trained, model)


# Layers whose Keras variable paths are not simply ``layers/<name>/vars``: nested objects, cells,
# wrappers, several kernels.
NESTED = {
    "bidirectional_lstm": lambda lib: lib.layers.Bidirectional(
        lib.layers.LSTM(3, return_sequences=True)
    ),
    "time_distributed": lambda lib: lib.layers.TimeDistributed(lib.layers.Dense(3)),
    "nested_sequential": lambda lib: lib.Sequential([lib.layers.Dense(3), lib.layers.Dense(2)]),
    "simple_rnn": lambda lib: lib.layers.SimpleRNN(3),
    "gru_reset_before": lambda lib: lib.layers.GRU(3, reset_after=False),
    "separable_conv1d": lambda lib: lib.layers.SeparableConv1D(3, 2),
    "conv1d_transpose": lambda lib: lib.layers.Conv1DTranspose(2, 2, strides=2),
    "prelu": lambda lib: lib.layers.PReLU(shared_axes=[1]),
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_nested_variable_paths_match_keras(name: str, keras: Any, tmp_path: Any) -> None:
    keras_model = keras.Sequential([keras.Input((5, 4)), NESTED[name](keras)])
    keras_model.set_weights([RNG.normal(size=w.shape) for w in keras_model.get_weights()])
    keras_model.save(tmp_path / "keras.keras")
    model = kseq.models.load_model(tmp_path / "keras.keras")
    x = RNG.normal(size=(2, 5, 4)).astype("float32")
    _assert_same_predictions(keras_model, model, x)
    model.save_weights(tmp_path / "kseq.weights.h5")
    fresh = keras.Sequential([keras.Input((5, 4)), NESTED[name](keras)])
    fresh.load_weights(tmp_path / "kseq.weights.h5")
    _assert_same_predictions(fresh, model, x)
    model.save(tmp_path / "kseq.keras")
    _assert_same_predictions(keras.models.load_model(tmp_path / "kseq.keras"), model, x)


def test_compile_objects_survive_both_ways(keras: Any, tmp_path: Path) -> None:
    model = _mlp(kseq)
    model.compile(
        optimizer=kseq.optimizers.Adam(learning_rate=0.02),
        loss=kseq.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=[kseq.metrics.AUC(num_thresholds=50), "mae"],
    )
    model.save(tmp_path / "kseq.keras")
    keras_model = keras.models.load_model(tmp_path / "kseq.keras")
    assert type(keras_model.loss).__name__ == "CategoricalCrossentropy"
    assert keras_model.loss.get_config()["label_smoothing"] == 0.1
    keras_model.save(tmp_path / "keras.keras")
    loaded = kseq.models.load_model(tmp_path / "keras.keras")
    assert loaded.loss.get_config() == model.loss.get_config()
    metrics = loaded.get_compile_config()["metrics"]
    assert metrics[0]["class_name"] == "AUC" and metrics[0]["config"]["num_thresholds"] == 50
    assert metrics[1] == "mae"


def test_unconvertible_optimizer_is_left_out_of_keras_files(tmp_path: Any, keras: Any) -> None:
    import torch

    model = _mlp(kseq)
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), loss="mse")
    model.fit(X_VEC, np.zeros((16, 3)), epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="has no Keras layout"):
        model.save_weights(tmp_path / "w.weights.h5")
    fresh = keras.models.model_from_json(_mlp(kseq).to_json())
    fresh.load_weights(tmp_path / "w.weights.h5")
    _assert_same_predictions(fresh, model, X_VEC)
