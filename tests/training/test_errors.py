"""Bad input gets a clear, Keras-style error — and changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

import kseq
from kseq import layers
from kseq.models import Sequential


def compiled_model() -> Sequential:
    model = Sequential(
        [
            kseq.Input(shape=(10,)),
            layers.Dense(4, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def snapshot(model: Sequential) -> list[np.ndarray]:
    return [w.copy() for w in model.get_weights()]


def assert_unchanged(model: Sequential, before: list[np.ndarray]) -> None:
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    assert model.optimizer is None or model.optimizer.iterations == 0


X = np.random.default_rng(0).normal(size=(40, 10)).astype("float32")
Y = (X[:, 0] > 0).astype("float32")


def test_fit_before_compile() -> None:
    model = Sequential([kseq.Input(shape=(10,)), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` before using the model."):
        model.fit(X, Y)
    with pytest.raises(ValueError, match="compile"):
        model.evaluate(X, Y)


def test_x_and_y_lengths_differ() -> None:
    model = compiled_model()
    before = snapshot(model)
    with pytest.raises(
        ValueError, match="(?s)Data cardinality is ambiguous.*'x' sizes: 40\n'y' sizes: 39"
    ):
        model.fit(X, Y[:-1], verbose=0)
    assert_unchanged(model, before)


def test_wrong_feature_count() -> None:
    model = compiled_model()
    before = snapshot(model)
    with pytest.raises(
        ValueError,
        match='Input 0 of layer "dense" is incompatible with the layer: expected axis -1 '
        r"of input shape to have value 10, but received input with shape \(40, 12\)",
    ):
        model.fit(np.zeros((40, 12)), Y, verbose=0)
    with pytest.raises(ValueError, match="expected ndim=2"):
        model.predict(np.zeros((40, 10, 1)), verbose=0)
    assert_unchanged(model, before)


def test_labels_that_are_not_numbers() -> None:
    model = compiled_model()
    before = snapshot(model)
    with pytest.raises(
        ValueError,
        match="`y` must hold numbers, but it has dtype <U3.*Encode text or category labels",
    ):
        model.fit(X, np.array(["cat", "dog"] * 20), verbose=0)
    assert_unchanged(model, before)


def test_targets_that_cannot_match_the_output() -> None:
    model = compiled_model()
    before = snapshot(model)
    with pytest.raises(
        ValueError,
        match=r"Targets of shape \(40, 3\) do not match the model's output shape \(None, 1\)",
    ):
        model.fit(X, np.zeros((40, 3)), verbose=0)
    assert_unchanged(model, before)
    softmax = Sequential([kseq.Input(shape=(10,)), layers.Dense(3, activation="softmax")])
    softmax.compile(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        softmax.fit(X, np.zeros(40), verbose=0)
    sparse = Sequential([kseq.Input(shape=(10,)), layers.Dense(3, activation="softmax")])
    sparse.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(
        ValueError,
        match="integer class indices.*For one-hot targets use 'categorical_crossentropy'",
    ):
        sparse.fit(X, np.zeros((40, 3)), verbose=0)


def test_unknown_names_list_the_valid_ones() -> None:
    model = Sequential([kseq.Input(shape=(10,)), layers.Dense(1)])
    with pytest.raises(
        ValueError,
        match="Unknown optimizer: 'rmsprp'. Did you mean 'rmsprop'\\? Valid optimizer names: .*adam",
    ):
        model.compile(optimizer="rmsprp", loss="mse")
    with pytest.raises(
        ValueError, match="Unknown loss: 'binary_crossentropyy'. Did you mean 'binary_crossentropy'"
    ):
        model.compile(optimizer="adam", loss="binary_crossentropyy")
    with pytest.raises(ValueError, match="Unknown metric: 'accuracyy'"):
        model.compile(optimizer="adam", loss="mse", metrics=["accuracyy"])
    with pytest.raises(ValueError, match="Unknown activation: 'rellu'. Did you mean 'relu'"):
        layers.Dense(1, activation="rellu")
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot'"):
        layers.Dense(1, kernel_initializer="glorot")
    assert not model.compiled


@pytest.mark.parametrize("split", [-0.1, 1.0, 1.5, "0.2"])
def test_validation_split_out_of_range(split) -> None:
    model = compiled_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"`validation_split` must be a float in \[0, 1\)"):
        model.fit(X, Y, validation_split=split, verbose=0)
    assert_unchanged(model, before)


def test_validation_split_leaving_nothing() -> None:
    with pytest.raises(ValueError, match="leaves no samples for training out of 3"):
        compiled_model().fit(X[:3], Y[:3], validation_split=0.8, verbose=0)


def test_bad_batch_size_and_verbose() -> None:
    model = compiled_model()
    with pytest.raises(
        ValueError, match="`batch_size` must be a positive integer. Received: batch_size=0"
    ):
        model.fit(X, Y, batch_size=0)
    with pytest.raises(ValueError, match="`verbose` must be 'auto', 0, 1 or 2"):
        model.fit(X, Y, verbose=3)


def test_keras2_optimizer_arguments() -> None:
    with pytest.raises(
        ValueError, match="`lr` is now `learning_rate`: write Adam\\(learning_rate=0.1\\)"
    ):
        kseq.optimizers.Adam(lr=0.1)
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        kseq.optimizers.SGD(decay=0.1)


def test_unknown_layer_argument() -> None:
    with pytest.raises(
        ValueError, match="Unrecognized keyword arguments passed to Dense: \\{'unit': 3\\}"
    ):
        layers.Dense(3, unit=3)


def test_a_subclass_built_from_inputs_and_outputs_says_what_to_use_instead() -> None:
    class Custom(kseq.Model):
        pass

    inputs = kseq.Input(shape=(3,))
    with pytest.raises(NotImplementedError, match=r"kseq.Model\(inputs, outputs\)"):
        Custom(inputs, inputs)


def test_a_model_stays_usable_after_an_error() -> None:
    model = compiled_model()
    with pytest.raises(ValueError):
        model.fit(np.zeros((40, 12)), Y, verbose=0)
    history = model.fit(X, Y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
