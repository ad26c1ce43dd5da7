"""compile / fit / evaluate / predict: the arguments Keras users pass, used as they use them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import kseq
from kseq import layers
from kseq.models import Sequential


def binary_data(n: int = 256, features: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("float32")
    return x, y


def classifier(features: int = 6, **compile_kwargs) -> Sequential:
    model = Sequential(
        [
            kseq.Input(shape=(features,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    compile_kwargs.setdefault("optimizer", "adam")
    compile_kwargs.setdefault("loss", "binary_crossentropy")
    compile_kwargs.setdefault("metrics", ["accuracy"])
    model.compile(**compile_kwargs)
    return model


def test_fit_learns_and_history_records_every_epoch() -> None:
    x, y = binary_data()
    model = classifier(optimizer=kseq.optimizers.Adam(learning_rate=0.01))
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert history.epoch == list(range(8))
    assert model.history is history
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    assert history.params["epochs"] == 8 and history.params["steps"] == 16


def test_batch_size_defaults_to_32() -> None:
    x, y = binary_data(100)
    model = classifier()
    history = model.fit(x, y, verbose=0)
    assert history.params["steps"] == 4


def test_validation_split_takes_the_last_fraction_before_shuffling() -> None:
    x, y = binary_data(100)
    model = classifier()
    history = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert history.params["steps"] == 3  # 75 samples / 32
    val = model.evaluate(x[75:], y[75:], return_dict=True, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val["loss"], rel=1e-6)


def test_validation_data_freq_steps_and_batch_size() -> None:
    x, y = binary_data(128)
    model = classifier()
    history = model.fit(
        x,
        y,
        epochs=4,
        verbose=0,
        validation_data=(x[:64], y[:64]),
        validation_freq=2,
        validation_batch_size=8,
        validation_steps=3,
    )
    assert len(history.history["val_loss"]) == 2
    assert len(history.history["loss"]) == 4
    listed = classifier().fit(
        x, y, epochs=3, verbose=0, validation_data=(x, y), validation_freq=[1, 3]
    )
    assert len(listed.history["val_accuracy"]) == 2


def test_sample_weight_zero_ignores_samples() -> None:
    x, y = binary_data(64)
    model = classifier()
    weights = np.zeros(64, dtype="float32")
    weights[:32] = 1.0
    weighted = model.evaluate(x, y, sample_weight=weights, verbose=0)
    plain = model.evaluate(x[:32], y[:32], verbose=0)
    # Keras's "sum_over_batch_size": the weighted sum divided by the number of samples.
    assert weighted[0] == pytest.approx(plain[0] / 2, rel=1e-5)


def test_class_weight_scales_the_loss() -> None:
    x, y = binary_data(64)
    model = classifier()
    base = model.evaluate(x, y, verbose=0, batch_size=64)[0]
    model.fit(x, y, epochs=1, class_weight={0: 0.0, 1: 0.0}, verbose=0, batch_size=64)
    history = model.fit(
        x, y, epochs=1, class_weight={0: 0.0, 1: 0.0}, verbose=0, batch_size=64, shuffle=False
    )
    assert history.history["loss"][0] == 0.0
    assert model.evaluate(x, y, verbose=0, batch_size=64)[0] == pytest.approx(
        base
    )  # nothing was learned
    with pytest.raises(ValueError, match="cannot `class_weight` and `sample_weight`"):
        model.fit(x, y, class_weight={0: 1.0}, sample_weight=np.ones(64), verbose=0)


def test_initial_epoch_and_steps_per_epoch() -> None:
    x, y = binary_data(64)
    model = classifier()
    history = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert history.epoch == [3, 4]
    limited = model.fit(x, y, epochs=3, steps_per_epoch=1, batch_size=8, verbose=0)
    assert limited.params["steps"] == 1


def test_shuffle_false_is_deterministic_order() -> None:
    x, y = binary_data(64)
    seen: list[torch.Tensor] = []

    class Record(kseq.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    kseq.utils.set_random_seed(1)
    a = classifier()
    a.fit(x, y, epochs=2, shuffle=False, verbose=0, callbacks=[Record()])
    kseq.utils.set_random_seed(1)
    b = classifier()
    b.fit(x, y, epochs=2, shuffle=False, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights(), strict=True))
    assert seen == [0, 1] * 2


def test_torch_tensors_dataloader_and_generator_inputs() -> None:
    x, y = binary_data(96)
    model = classifier()
    model.fit(torch.from_numpy(x), torch.from_numpy(y), epochs=1, verbose=0)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=32, shuffle=True
    )
    history = model.fit(loader, epochs=2, verbose=0)
    assert history.params["steps"] == 3 and len(history.history["loss"]) == 2

    def generator():
        while True:
            for i in range(0, 96, 32):
                yield x[i : i + 32], y[i : i + 32]

    gen_history = model.fit(generator(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(gen_history.history["accuracy"]) == 2
    assert model.evaluate(loader, verbose=0)[1] > 0.5
    assert model.predict(loader, verbose=0).shape == (96, 1)


def test_evaluate_return_types_follow_keras() -> None:
    x, y = binary_data(64)
    model = classifier()
    assert isinstance(model.evaluate(x, y, verbose=0), list)
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy"}
    assert model.metrics_names == ["loss", "compile_metrics"]  # as Keras 3
    loss_only = classifier(metrics=None)
    assert isinstance(loss_only.evaluate(x, y, verbose=0), float)


def test_predict_is_batched_numpy_and_needs_no_compile() -> None:
    model = Sequential([kseq.Input(shape=(3,)), layers.Dense(2)])
    x = np.random.rand(70, 3).astype("float32")
    out = model.predict(x, batch_size=16, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (70, 2)
    np.testing.assert_allclose(out, model(torch.from_numpy(x)).detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), out[:5], atol=1e-6)


def test_on_batch_methods() -> None:
    x, y = binary_data(32)
    model = classifier()
    first = model.train_on_batch(x, y)
    assert isinstance(first, list) and len(first) == 2
    logs = model.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    test = model.test_on_batch(x, y, return_dict=True)  # this batch's values, as in Keras
    assert test["loss"] == pytest.approx(
        model.evaluate(x, y, verbose=0, return_dict=True)["loss"], rel=1e-5
    )


def test_compile_accepts_objects_and_callables() -> None:
    x, y = binary_data(64)

    def mean_error(y_true, y_pred):
        return (y_true - y_pred).abs().mean(dim=-1)

    model = Sequential([kseq.Input(shape=(6,)), layers.Dense(1, activation="sigmoid")])
    model.compile(
        optimizer=kseq.optimizers.SGD(learning_rate=0.1),
        loss=kseq.losses.BinaryCrossentropy(),
        metrics=[kseq.metrics.BinaryAccuracy(), mean_error, "mse"],
    )
    logs = model.fit(x, y, verbose=0).history
    assert set(logs) == {"binary_accuracy", "loss", "mean_error", "mse"}
    raw = Sequential([kseq.Input(shape=(6,)), layers.Dense(1)])
    raw.compile(optimizer=torch.optim.SGD(raw.parameters(), lr=0.1), loss="mse")
    before = raw.evaluate(x, y, verbose=0)
    raw.fit(x, y, epochs=5, verbose=0)
    assert raw.evaluate(x, y, verbose=0) < before


def test_loss_weights_scale_the_loss() -> None:
    x, y = binary_data(64)
    model = classifier(loss_weights=2.0, metrics=None)
    doubled = model.evaluate(x, y, verbose=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    assert doubled == pytest.approx(2 * model.evaluate(x, y, verbose=0), rel=1e-5)


@pytest.mark.parametrize(
    ("loss", "y_kind", "units"),
    [
        ("categorical_crossentropy", "onehot", 3),
        ("sparse_categorical_crossentropy", "int", 3),
        ("mse", "float", 1),
        ("mae", "float", 1),
        ("binary_crossentropy", "float", 1),
    ],
)
def test_basic_losses_train(loss: str, y_kind: str, units: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 4)).astype("float32")
    labels = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64") * (units > 2)
    y = {
        "onehot": lambda: kseq.utils.to_categorical(labels, units),
        "int": lambda: labels,
        "float": lambda: labels.astype("float32"),
    }[y_kind]()
    activation = "softmax" if units > 1 else ("sigmoid" if loss == "binary_crossentropy" else None)
    model = Sequential(
        [
            kseq.Input(shape=(4,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(units, activation=activation),
        ]
    )
    model.compile(optimizer=kseq.optimizers.Adam(learning_rate=0.01), loss=loss)
    history = model.fit(x, y, epochs=10, verbose=0)
    assert history.history["loss"][-1] < 0.75 * history.history["loss"][0]


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop", "Adam", "RMSprop"])
def test_optimizer_strings(name: str) -> None:
    x, y = binary_data(64)
    model = classifier(optimizer=name)
    history = model.fit(x, y, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_accuracy_resolves_by_loss_and_shapes() -> None:
    x = np.random.rand(30, 4).astype("float32")
    model = Sequential([kseq.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", metrics=["acc"])
    model.fit(x, np.arange(30) % 3, verbose=0)
    assert (
        type(model.metrics[1].metrics[0]).__name__ == "SparseCategoricalAccuracy"
        and model.metrics[1].metrics[0].name == "acc"
    )
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, kseq.utils.to_categorical(np.arange(30) % 3), verbose=0)
    assert type(model.metrics[1].metrics[0]).__name__ == "CategoricalAccuracy"


def test_verbose_modes_print_keras_text(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = binary_data(64)
    model = classifier()
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert out.startswith("Epoch 1/2\n2/2 - ")
    assert " - accuracy: " in out and " - loss: " in out and out.count("\n") == 4
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch" not in out  # no header for a single epoch, as in Keras
    assert out.endswith("\n") and "2/2 \x1b[0m" not in out and "\x1b[1m2/2\x1b[0m" in out


def test_stop_training_from_a_callback() -> None:
    x, y = binary_data(64)

    class StopAtSecondBatch(kseq.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    history = classifier().fit(
        x, y, epochs=5, batch_size=8, verbose=0, callbacks=[StopAtSecondBatch()]
    )
    assert history.epoch == [0]


def test_batch_callbacks_get_python_floats() -> None:
    x, y = binary_data(64)
    seen: list[dict] = []

    class Logs(kseq.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(dict(logs))

    classifier().fit(x, y, epochs=1, verbose=0, callbacks=[Logs()])
    assert len(seen) == 2 and all(isinstance(v, float) for v in seen[0].values())
    assert list(seen[0]) == ["accuracy", "loss"]


def test_steps_per_execution_spaces_batch_callbacks() -> None:
    x, y = binary_data(64)
    calls: list[int] = []
    begins: list[int] = []

    class Count(kseq.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            begins.append(batch)

        def on_train_batch_end(self, batch, logs=None):
            calls.append(batch)

    model = classifier(steps_per_execution=4)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[Count()])
    assert calls == [3, 7, 11, 15] and begins == [0, 4, 8, 12]


def test_jit_compile_trains_like_eager() -> None:
    x, y = binary_data(64)
    kseq.utils.set_random_seed(3)
    eager = classifier()
    eager.fit(x, y, epochs=2, shuffle=False, verbose=0)
    kseq.utils.set_random_seed(3)
    compiled = classifier(jit_compile=True)
    compiled.fit(x, y, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(eager.get_weights(), compiled.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_policies_train(policy: str) -> None:
    x, y = binary_data(64)
    kseq.mixed_precision.set_global_policy(policy)
    try:
        model = classifier()
        history = model.fit(x, y, epochs=3, verbose=0)
        assert model.layers[0].linear.weight.dtype == torch.float32  # variables stay float32
        assert np.isfinite(history.history["loss"]).all()
        assert history.history["loss"][-1] < history.history["loss"][0]
        scale = model._trainer.steps.precision.loss_scale
        assert (scale is not None) == (policy == "mixed_float16")  # float16 needs loss scaling
    finally:
        kseq.mixed_precision.set_global_policy(None)


def test_regularization_losses_join_the_training_loss() -> None:
    x, y = binary_data(32)
    model = Sequential(
        [
            kseq.Input(shape=(6,)),
            layers.Dense(
                1, kernel_regularizer=kseq.regularizers.L2(0.5), kernel_initializer="ones"
            ),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    plain = float(
        ((model(torch.from_numpy(x)).squeeze(1) - torch.from_numpy(y)) ** 2).mean().detach()
    )
    penalty = float(sum(model.losses).detach())
    assert penalty == pytest.approx(0.5 * 6)
    assert model.evaluate(x, y, verbose=0, batch_size=32) == pytest.approx(
        plain + penalty, rel=1e-5
    )


def test_keras_doc_example_with_integer_inputs_and_broadcast_targets() -> None:
    # keras.callbacks.EarlyStopping's docstring example, unchanged.
    callback = kseq.callbacks.EarlyStopping(monitor="loss", patience=3)
    model = kseq.models.Sequential([kseq.layers.Dense(10)])
    model.compile(kseq.optimizers.SGD(), loss="mse")
    history = model.fit(
        np.arange(100).reshape(5, 20),
        np.zeros(5),
        epochs=10,
        batch_size=1,
        callbacks=[callback],
        verbose=0,
    )
    assert len(history.history["loss"]) == 4  # Only 4 epochs are run.


def test_generators_lose_no_batch() -> None:
    seen: list[int] = []

    class Record(kseq.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    def batches():
        for _ in range(5):
            yield np.ones((2, 6), "float32"), np.ones(2, "float32")

    classifier().fit(batches(), epochs=1, verbose=0, callbacks=[Record()])
    assert seen == [0, 1, 2, 3, 4]


def test_stop_evaluating_and_predicting() -> None:
    x, y = binary_data(64)
    model = classifier()
    calls: list[int] = []

    class StopEarly(kseq.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            calls.append(batch)
            self.model.stop_evaluating = True

        def on_predict_batch_end(self, batch, logs=None):
            self.model.stop_predicting = True

    model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[StopEarly()])
    assert calls == [0]
    assert model.predict(x, batch_size=8, verbose=0, callbacks=[StopEarly()]).shape == (8, 1)
