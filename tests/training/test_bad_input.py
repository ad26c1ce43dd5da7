"""Bad input to ``fit``/``evaluate``/``predict`` and to a model call: a clear Keras-style error
naming what was received, what was expected and what to write instead, raised before any weight,
optimizer slot, metric or random state changes (``state_snapshot.py`` compares them bitwise).
An interrupted ``fit`` leaves the model in inference mode, ready to ``fit`` again."""

from __future__ import annotations

import re

import numpy as np
import pytest
from state_snapshot import assert_state_unchanged, snapshot_state

import kseq
from kseq import callbacks, layers

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 5)).astype("float32")
Y = (X[:, 0] > 0).astype("int64") + 2 * (X[:, 1] > 0)  # 4 classes


def classifier(trained: bool = False) -> kseq.Sequential:
    model = kseq.Sequential(
        [
            kseq.Input(shape=(5,)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(4, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=kseq.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    if trained:  # optimizer slots and metrics hold values, so "unchanged" means something
        model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    return model


@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_empty_input_is_a_value_error(method: str, trained: bool) -> None:
    model = classifier(trained)
    before = snapshot_state(model)
    args = (np.zeros((0, 5), "float32"),) + ((np.zeros(0, "int64"),) if method != "predict" else ())
    message = (
        f"Expect x to be a non-empty array or dataset. Received: x with 0 samples (shape (0, 5)) "
        f"in {method}(). Pass at least one sample"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(model, method)(*args, verbose=0)
    assert_state_unchanged(model, before)


def test_empty_validation_data_is_a_value_error() -> None:
    model = classifier(trained=True)
    before = snapshot_state(model)
    empty = (np.zeros((0, 5), "float32"), np.zeros(0, "int64"))
    with pytest.raises(ValueError, match=r"Expect validation_data to be a non-empty array"):
        model.fit(X, Y, validation_data=empty, verbose=0)
    assert_state_unchanged(model, before)


@pytest.mark.parametrize("trained", [False, True])
def test_sparse_label_out_of_range_names_label_and_classes(trained: bool) -> None:
    model = classifier(trained)
    y = Y.copy()
    y[37] = 11
    before = snapshot_state(model)
    message = (
        "Received a label value of 11 which is outside the valid range of [0, 4) in fit() "
        "(found at sample 37 of `y`): the model's output has 4 classes, so "
        "sparse_categorical_crossentropy takes integer labels 0 to 3. Give the last layer 12 "
        'units (e.g. `Dense(12, activation="softmax")`) to score labels up to 11, or fix the labels.'
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(X, y, batch_size=8, verbose=0)
    assert_state_unchanged(model, before)


def test_negative_label_and_bad_validation_label() -> None:
    model = classifier(trained=True)
    before = snapshot_state(model)
    y = Y.copy()
    y[3] = -1
    with pytest.raises(ValueError, match=r"label value of -1 .*\[0, 4\) in evaluate\(\)"):
        model.evaluate(X, y, verbose=0)
    with pytest.raises(ValueError, match=r"label value of 7 .*sample 2 of the validation targets"):
        model.fit(X, Y, validation_data=(X[:4], np.array([0, 1, 7, 2])), verbose=0)
    assert_state_unchanged(model, before)


def test_ignore_class_labels_are_allowed() -> None:
    model = classifier()
    model.compile(loss=kseq.losses.SparseCategoricalCrossentropy(ignore_class=-1))
    y = Y.copy()
    y[:8] = -1
    model.fit(X, y, verbose=0)  # -1 is padding, not an error


def test_label_check_is_one_device_check_per_fit() -> None:
    # The check reads one boolean for the whole fit (a host sync), whatever the number of steps.
    from test_host_syncs import count_host_conversions

    model = classifier(trained=True)
    counts = []
    for n in (16, 64):
        with count_host_conversions() as c:
            model.fit(X[:n], Y[:n], batch_size=8, verbose=0)
        counts.append(sum(c.values()))
    assert counts[0] == counts[1]


def test_wrong_feature_count_on_call_in_keras_words() -> None:
    model = classifier()
    before = snapshot_state(model)
    with pytest.raises(ValueError) as info:
        model(np.zeros((2, 7), "float32"))
    text = str(info.value)
    assert (
        "expected axis -1 of input shape to have value 5, but received input with shape (2, 7)"
        in text
    )
    assert "The model expects 5 features per sample and received 7." in text
    assert "mat1" not in text and "torch" not in text
    assert_state_unchanged(model, before)


def image_model() -> kseq.Sequential:
    model = kseq.Sequential(
        [
            kseq.Input(shape=(8, 8, 3)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


CHANNELS_HINT = (
    "The model expects channels_last data, shaped (batch, height, width, channels) = "
    "(None, 8, 8, 3), but received (6, 3, 8, 8), which looks channels_first (batch, channels, "
    "height, width). Write `x.transpose(0, 2, 3, 1)` (NumPy) or `x.permute(0, 2, 3, 1)` (torch) "
    "before passing it, or add `layers.Permute((2, 3, 1))` as the first layer, or build the image "
    'layers with `data_format="channels_first"`.'
)


@pytest.mark.parametrize("how", ["call", "fit", "predict"])
def test_channels_first_images_name_the_fixes(how: str) -> None:
    model = image_model()
    before = snapshot_state(model)
    x = np.zeros((6, 3, 8, 8), "float32")
    with pytest.raises(ValueError, match=re.escape(CHANNELS_HINT)):
        if how == "call":
            model(x)
        elif how == "fit":
            model.fit(x, np.zeros(6, "int64"), verbose=0)
        else:
            model.predict(x, verbose=0)
    assert_state_unchanged(model, before)
    # The fix the message names works.
    assert model.predict(x.transpose(0, 2, 3, 1), verbose=0).shape == (6, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": Y[:10]}, "Data cardinality is ambiguous"),
        ({"batch_size": 0}, "`batch_size` must be a positive integer. Received: batch_size=0"),
        (
            {"epochs": -1},
            "`epochs` must be a non-negative integer: the number of passes over the data. Received: epochs=-1",
        ),
        ({"epochs": 2.5}, "Received: epochs=2.5"),
        ({"validation_split": 1.0}, "`validation_split` must be a float in [0, 1)"),
        ({"validation_split": -0.1}, "Received: validation_split=-0.1"),
        ({"y": np.array(["cat"] * 64)}, "`y` must hold numbers, but it has dtype <U3"),
        ({"x": np.array([["a"] * 5] * 64)}, "`x` must hold numbers, but it has dtype <U1"),
        (
            {"y": np.zeros((64, 3), "float32")},
            "Arguments `target` and `output` must have the same shape",
        ),
    ],
)
def test_bad_fit_arguments_change_nothing(kwargs: dict, message: str) -> None:
    model = classifier(trained=True)
    before = snapshot_state(model)
    args = {"x": X, "y": Y, "verbose": 0, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(**args)
    assert_state_unchanged(model, before)


def test_wrong_target_shape_for_categorical_loss_changes_nothing() -> None:
    model = classifier(trained=True)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    before = snapshot_state(model)
    with pytest.raises(
        ValueError,
        match=re.escape("Targets of shape (64, 3) do not match the model's output shape (None, 4)"),
    ):
        model.fit(X, np.zeros((64, 3), "float32"), verbose=0)
    assert_state_unchanged(model, before)


class StopMidEpoch(callbacks.Callback):
    def __init__(self, error: type[BaseException]) -> None:
        super().__init__()
        self.error = error

    def on_train_batch_end(self, batch, logs=None):
        if batch == 2:
            raise self.error("stop")


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_interrupted_fit_leaves_inference_mode_and_fits_again(error: type[BaseException]) -> None:
    model = classifier()
    with pytest.raises(error, match="stop"):
        model.fit(X, Y, batch_size=8, epochs=3, verbose=0, callbacks=[StopMidEpoch(error)])
    assert not model.training
    first, second = model(X).detach().numpy(), model(X).detach().numpy()
    np.testing.assert_array_equal(first, second)  # Dropout is off outside fit
    before = model.evaluate(X, Y, verbose=0, return_dict=True)
    history = model.fit(X, Y, batch_size=8, epochs=20, verbose=0)
    assert len(history.history["loss"]) == 20
    assert history.history["loss"][-1] < history.history["loss"][0]
    after = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert after["loss"] < before["loss"] and after["accuracy"] > 0.8  # chance is 0.25
    assert not model.training


class FailOnTestBatch(callbacks.Callback):
    def on_test_batch_end(self, batch, logs=None):
        raise RuntimeError("stop")

    def on_predict_batch_end(self, batch, logs=None):
        raise RuntimeError("stop")


@pytest.mark.parametrize("method", ["evaluate", "predict"])
def test_interrupted_inference_restores_the_mode(method: str) -> None:
    model = classifier(trained=True)
    args = (X, Y) if method == "evaluate" else (X,)
    for mode in (True, False):
        model.train(mode)
        with pytest.raises(RuntimeError, match="stop"):
            getattr(model, method)(*args, verbose=0, callbacks=[FailOnTestBatch()])
        assert model.training is mode
    model.eval()
    assert model.evaluate(X, Y, verbose=0, return_dict=True)["loss"] > 0


def test_interrupted_validation_leaves_inference_mode() -> None:
    model = classifier()
    with pytest.raises(RuntimeError, match="stop"):
        model.fit(X, Y, validation_data=(X, Y), verbose=0, callbacks=[FailOnTestBatch()])
    assert not model.training
    np.testing.assert_array_equal(model(X).detach().numpy(), model(X).detach().numpy())
