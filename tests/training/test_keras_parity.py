"""Parity with Keras 3 (torch backend): same weights in, same numbers and text out."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

import kseq

pytestmark = pytest.mark.keras

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 10)).astype("float32")
Y_BIN = (X[:, 0] > 0).astype("float32")
Y_INT = (X[:, 0] > 0).astype("int64") + (X[:, 1] > 0).astype("int64")
SW = RNG.uniform(0.0, 2.0, size=64).astype("float32")


def build_pair(keras, units: int = 1, activation: str = "sigmoid", hidden: int = 8):
    def make(lib):
        return lib.Sequential(
            [
                lib.Input(shape=(10,)),
                lib.layers.Dense(hidden, activation="relu"),
                lib.layers.Dense(units, activation=activation),
            ]
        )

    keras_model, kseq_model = make(keras), make(kseq)
    kseq_model.set_weights(keras_model.get_weights())
    return keras_model, kseq_model


def test_same_weights_same_outputs(keras) -> None:
    keras_model, kseq_model = build_pair(keras, units=3, activation="softmax")
    np.testing.assert_allclose(
        kseq_model.predict(X, verbose=0), keras_model.predict(X, verbose=0), atol=1e-5
    )
    for ours, theirs in zip(kseq_model.get_weights(), keras_model.get_weights(), strict=True):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    # and back: Keras accepts kseq's weights
    keras_model.set_weights([w * 0.5 for w in kseq_model.get_weights()])
    kseq_model.set_weights(keras_model.get_weights())
    np.testing.assert_allclose(
        kseq_model.predict(X, verbose=0), keras_model.predict(X, verbose=0), atol=1e-5
    )


@pytest.mark.parametrize(
    ("loss", "units", "activation", "y"),
    [
        ("binary_crossentropy", 1, "sigmoid", Y_BIN),
        ("categorical_crossentropy", 3, "softmax", np.eye(3, dtype="float32")[Y_INT]),
        ("sparse_categorical_crossentropy", 3, "softmax", Y_INT),
        ("mse", 1, None, Y_BIN),
        ("mae", 1, None, Y_BIN),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_same_loss_and_metric_on_a_batch(keras, loss, units, activation, y, weighted) -> None:
    keras_model, kseq_model = build_pair(keras, units, activation)
    for model in (keras_model, kseq_model):
        model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"] if activation else ["mae"])
    sw = SW if weighted else None
    theirs = keras_model.evaluate(X, y, sample_weight=sw, verbose=0, return_dict=True)
    ours = kseq_model.evaluate(X, y, sample_weight=sw, verbose=0, return_dict=True)
    assert list(ours) == list(theirs)
    for key in theirs:
        assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6), key


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_weights_close_after_training_steps(keras, optimizer) -> None:
    keras_model, kseq_model = build_pair(keras)
    keras_model.compile(optimizer=optimizer, loss="binary_crossentropy")
    kseq_model.compile(optimizer=optimizer, loss="binary_crossentropy")
    for start in range(0, 64, 16):
        xb, yb = X[start : start + 16], Y_BIN[start : start + 16]
        theirs = keras_model.train_on_batch(xb, yb)
        ours = kseq_model.train_on_batch(xb, yb)
        assert ours == pytest.approx(theirs, rel=1e-4)
    for ours_w, theirs_w in zip(kseq_model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(ours_w, theirs_w, rtol=1e-4, atol=1e-6)


def test_fit_histories_match_with_the_same_batches(keras) -> None:
    keras_model, kseq_model = build_pair(keras)
    for model in (keras_model, kseq_model):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    theirs = keras_model.fit(
        X,
        Y_BIN,
        epochs=3,
        batch_size=16,
        shuffle=False,
        verbose=0,
        validation_data=(X[:16], Y_BIN[:16]),
    ).history
    ours = kseq_model.fit(
        X,
        Y_BIN,
        epochs=3,
        batch_size=16,
        shuffle=False,
        verbose=0,
        validation_data=(X[:16], Y_BIN[:16]),
    ).history
    assert list(ours) == list(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4)


def test_evaluate_structure_and_metric_names(keras) -> None:
    keras_model, kseq_model = build_pair(keras)
    for model in (keras_model, kseq_model):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc", "mse"])
    theirs = keras_model.evaluate(X, Y_BIN, verbose=0)
    ours = kseq_model.evaluate(X, Y_BIN, verbose=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert sorted(kseq_model.fit(X, Y_BIN, verbose=0).history) == sorted(
        keras_model.fit(X, Y_BIN, verbose=0).history
    )


def _summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def _pair_models(lib):
    return [
        lib.Sequential(
            [
                lib.Input(shape=(10,)),
                lib.layers.Dense(64, activation="relu"),
                lib.layers.Dropout(0.5),
                lib.layers.Dense(1),
            ],
            name="mlp",
        ),
        lib.Sequential([lib.layers.Dense(8), lib.layers.Dense(2)], name="unbuilt"),
        lib.Sequential(
            [
                lib.Input(shape=(4, 5)),
                lib.layers.Flatten(),
                lib.layers.Reshape((2, 10)),
                lib.layers.Dense(3, name="a_rather_long_layer_name_that_needs_wrapping"),
            ],
            name="shapes",
        ),
    ]


def test_summary_text_is_identical(keras) -> None:
    for theirs, ours in zip(_pair_models(keras), _pair_models(kseq), strict=True):
        assert _summary(ours) == _summary(theirs)


def test_summary_after_fit_counts_optimizer_and_frozen_weights(keras) -> None:
    def make(lib):
        model = lib.Sequential(
            [lib.Input(shape=(10,)), lib.layers.Dense(16), lib.layers.Dense(1)], name="trained"
        )
        model.layers[0].trainable = False
        model.compile(optimizer="adam", loss="mse")
        model.fit(X, Y_BIN, epochs=1, verbose=0)
        return model

    ours, theirs = make(kseq), make(keras)
    assert _summary(ours) == _summary(theirs)
    lines: list[str] = []
    ours.summary(print_fn=lines.append, show_trainable=True)
    theirs_lines: list[str] = []
    theirs.summary(print_fn=theirs_lines.append, show_trainable=True)
    assert lines == theirs_lines


def _normalize_bar(text: str) -> str:
    text = re.sub(r"\d+(\.\d+)?(ms|us|s)/step", "T/step", text)
    text = re.sub(r"\x1b\[1m\d+s\x1b\[0m", "\x1b[1mTs\x1b[0m", text)
    text = re.sub(r" - \d+s - ", " - Ts - ", text)
    text = re.sub(r": \d\.\d{4}(e-\d+)?", ": V", text)
    text = re.sub(
        r" +(\n|\x08)", r"\1", text
    )  # padding over a longer previous line (timing-dependent)
    text = re.sub(r"\x08+", "\x08", text)
    return text


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_bar_text_matches(keras, verbose) -> None:
    outputs = []
    for lib in (keras, kseq):
        model = lib.Sequential([lib.Input(shape=(10,)), lib.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            model.fit(
                X, Y_BIN, epochs=2, batch_size=32, verbose=verbose, validation_data=(X, Y_BIN)
            )
            model.fit(X, Y_BIN, epochs=1, batch_size=32, verbose=verbose)
            model.evaluate(X, Y_BIN, verbose=verbose)
            model.predict(X, verbose=verbose)
        outputs.append(_normalize_bar(buffer.getvalue()))
    assert outputs[1] == outputs[0]


def test_masked_text_model_trains_like_keras(keras) -> None:
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 20, size=(32, 6))
    ids[:16, :2] = 0  # pre-padded
    ids[16:, -3:] = 0  # post-padded
    labels = (ids.max(axis=1) > 15).astype("float32")

    def make(lib):
        return lib.Sequential(
            [
                lib.Input(shape=(6,), dtype="int32"),
                lib.layers.Embedding(20, 4, mask_zero=True),
                lib.layers.LSTM(5),
                lib.layers.Dense(1, activation="sigmoid"),
            ]
        )

    theirs, ours = make(keras), make(kseq)
    ours.set_weights(theirs.get_weights())
    for model in (theirs, ours):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    assert ours._trainer is not None
    their_history = theirs.fit(
        ids, labels, epochs=3, batch_size=8, shuffle=False, verbose=0
    ).history
    our_history = ours.fit(ids, labels, epochs=3, batch_size=8, shuffle=False, verbose=0).history
    assert (
        ours._trainer.steps._fused_loss is not None
    )  # masked models also compute the loss from logits
    for key in their_history:
        np.testing.assert_allclose(our_history[key], their_history[key], rtol=1e-4)
