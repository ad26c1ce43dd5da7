"""Custom layers, metrics and losses written the Keras way (``add_weight``, ``assign_add``,
``add_loss``, ``Metric.add_variable``, ``kseq.ops``), as real ``nn.Module``s.

Parity tests define each custom object once, as a function of the library module, and run it in
Keras 3 and in kseq with the same weights.
"""

from __future__ import annotations

import contextlib
import copy
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import ops

sys.path.insert(0, str(Path(__file__).parent / "training"))
from test_host_syncs import count_host_conversions

ATOL = 1e-5


def make_layer(keras: Any) -> type:
    """A Keras-style layer written once: trainable weights with a regularizer and a constraint, a
    non-trainable running sum updated in place, an ``add_loss`` penalty, a config."""

    class Linear(keras.layers.Layer):
        def __init__(self, units=4, rate=0.01, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.rate = rate

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
                regularizer=keras.regularizers.L2(0.1),
                name="kernel",
            )
            self.b = self.add_weight(
                shape=(self.units,),
                initializer="zeros",
                constraint=keras.constraints.NonNeg(),
                name="bias",
            )
            self.total = self.add_weight(
                shape=(self.units,), initializer="zeros", trainable=False, name="total"
            )

        def call(self, inputs, training=None):
            outputs = keras.ops.matmul(inputs, self.w) + self.b
            if training:
                self.total.assign_add(keras.ops.sum(outputs, axis=0))
            self.add_loss(self.rate * keras.ops.mean(keras.ops.square(outputs)))
            return keras.activations.relu(outputs)

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], self.units)

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units, "rate": self.rate})
            return config

    return Linear


def make_metric(keras: Any) -> type:
    """The training guide's ``CategoricalTruePositives`` metric, written once."""
    ops_ = keras.ops

    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops_.reshape(ops_.argmax(y_pred, axis=1), (-1, 1))
            values = ops_.cast(y_true, "int32") == ops_.cast(y_pred, "int32")
            values = ops_.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = ops_.cast(sample_weight, "float32")
                values = ops_.multiply(values, sample_weight)
            self.true_positives.assign_add(ops_.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    return CategoricalTruePositives


def make_losses(keras: Any) -> tuple[Any, type]:
    """The training guide's custom loss function and ``Loss`` subclass, written once."""
    ops_ = keras.ops

    def custom_mean_squared_error(y_true, y_pred):
        return ops_.mean(ops_.square(y_true - y_pred), axis=-1)

    class CustomMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = ops_.mean(ops_.square(y_true - y_pred), axis=-1)
            reg = ops_.mean(ops_.square(0.5 - y_pred), axis=-1)
            return mse + reg * self.regularization_factor

    return custom_mean_squared_error, CustomMSE


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


X = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")


# ---------------------------------------------------------------- the torch face
def test_weights_are_registered_once_under_their_attribute_names() -> None:
    layer = make_layer(kseq)(units=2, name="linear")
    layer(torch.as_tensor(X))
    assert list(layer.state_dict()) == ["w", "b", "total"]
    assert [n for n, _ in layer.named_parameters()] == ["w", "b", "total"]
    assert layer.weights == [layer.w, layer.b, layer.total]
    assert layer.trainable_weights == [layer.w, layer.b]
    assert layer.non_trainable_weights == [layer.total]
    assert [w.name for w in layer.weights] == ["kernel", "bias", "total"]
    assert [w.path for w in layer.weights] == ["linear/kernel", "linear/bias", "linear/total"]
    assert isinstance(layer.w, torch.nn.Parameter) and isinstance(layer.w, kseq.Variable)
    assert not layer.total.requires_grad


def test_weights_kept_in_a_list_are_tracked_in_creation_order() -> None:
    class Stack(kseq.layers.Layer):
        def build(self, input_shape):
            self.kernels = [
                self.add_weight(shape=(input_shape[-1], input_shape[-1]), name="k")
                for _ in range(3)
            ]

        def call(self, x):
            for kernel in self.kernels:
                x = ops.matmul(x, kernel)
            return x

    layer = Stack()
    layer(torch.ones(2, 4))
    assert list(layer.state_dict()) == ["k", "k_1", "k_2"]
    assert layer.weights == layer.kernels
    assert layer.count_params() == 3 * 16


def test_non_trainable_state_updates_in_place_during_fit_without_joining_the_graph() -> None:
    Linear = make_layer(kseq)
    model = kseq.Sequential([kseq.Input(shape=(3,)), Linear(units=2), kseq.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    y = X[:, :1] * 2
    history = model.fit(X, y, batch_size=4, epochs=3, verbose=0)
    total = model.layers[0].total
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert float(total.abs().sum()) > 0  # 12 training steps added to it
    assert total.grad_fn is None and not total.requires_grad and total.is_leaf
    before = total.detach().clone()
    model.predict(X, verbose=0)  # inference: `training` is False, no update
    assert torch.equal(total, before)


def test_add_weight_defaults_follow_keras() -> None:
    layer = kseq.layers.Layer(name="l")
    vector = layer.add_weight(shape=(3,))  # float: glorot_uniform, even for a vector
    counter = layer.add_weight(shape=(), dtype="int32", trainable=True)
    assert float(vector.detach().abs().sum()) > 0
    assert counter.dtype == torch.int32 and counter.item() == 0 and not counter.trainable
    with pytest.raises(ValueError, match="`name` must be passed as a keyword argument"):
        layer.add_weight("kernel")


def test_custom_layer_config_round_trip_and_summary() -> None:
    Linear = make_layer(kseq)
    layer = Linear(units=3, rate=0.5, name="lin")
    clone = Linear.from_config(layer.get_config())
    assert (clone.units, clone.rate, clone.name) == (3, 0.5, "lin")
    model = kseq.Sequential([kseq.Input(shape=(3,)), layer])
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "lin (Linear)" in text and "Trainable params: 12" in text
    assert "Non-trainable params: 3" in text


def test_variable_assign_api() -> None:
    v = kseq.Variable(initializer="ones", shape=(2,), trainable=False, name="v")
    v.assign([3.0, 4.0])
    v.assign_add(np.array([1.0, 1.0]))
    v.assign_sub(torch.tensor(2.0))
    assert v.numpy().tolist() == [2.0, 3.0]
    assert repr(v) == "<Variable path=v, shape=(2,), dtype=float32, value=[2. 3.]>"
    with pytest.raises(ValueError, match="must match"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="must broadcast to the variable's shape"):
        v.assign_add(torch.ones(3))
    w = kseq.Variable(np.zeros((2, 2)))
    assert w.dtype == torch.float64 and w.requires_grad and w.value is w


def test_deepcopy_keeps_variables_and_their_flags() -> None:
    layer = make_layer(kseq)(units=2)
    layer(torch.as_tensor(X))
    clone = copy.deepcopy(layer)
    assert isinstance(clone.total, kseq.Variable) and not clone.total.trainable
    assert clone.non_trainable_weights == [clone.total]
    assert clone.w.path == layer.w.path and clone.w is not layer.w


def test_builtin_weights_have_the_variable_api_too() -> None:
    model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(2, name="d")])
    kernel = model.trainable_weights[0]
    assert isinstance(kernel, kseq.Variable) and kernel.value is kernel
    assert kernel.path == "d/kernel"  # Keras layout and Keras path: (in, out)
    assert kernel.numpy().shape == (3, 2)
    assert tuple(next(model.parameters()).shape) == (2, 3)  # the torch face: (out, in)


def test_model_subclass_with_call_trains() -> None:
    class TwoTower(kseq.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.left = kseq.layers.Dense(4, activation="relu")
            self.right = make_layer(kseq)(units=4)
            self.head = kseq.layers.Dense(1)

        def call(self, inputs, training=None):
            return self.head(ops.concatenate([self.left(inputs), self.right(inputs)], axis=-1))

    model = TwoTower()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(X, X[:, :1] - X[:, 1:2], epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(model.layers) == 3 and model.count_params() == 16 + 16 + 4 + 9


def test_metric_subclass_state_is_a_buffer_and_resets() -> None:
    metric = make_metric(kseq)()
    metric.update_state(torch.tensor([[1], [0]]), torch.tensor([[0.1, 0.9], [0.8, 0.2]]))
    assert float(metric.result()) == 2.0
    assert [n for n, _ in metric.named_buffers()] == ["ctp"] and not list(metric.parameters())
    metric.reset_state()
    assert float(metric.result()) == 0.0
    moved = metric.to(torch.float64)
    assert isinstance(moved.true_positives, kseq.Variable)
    assert moved.true_positives.dtype == torch.float64


def test_a_model_holding_metrics_does_not_count_them_as_weights() -> None:
    class Tracked(kseq.Sequential):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.tracker = kseq.metrics.Mean(name="tracker")

    model = Tracked([kseq.Input(shape=(3,)), kseq.layers.Dense(2)])
    assert len(model.weights) == 2 and len(model.layers) == 1
    model.tracker.update_state(torch.ones(2, requires_grad=True))  # no graph kept
    assert model.tracker.total.grad_fn is None


@pytest.mark.parametrize("loss_kind", ["function", "class"])
def test_custom_losses_and_metrics_from_ops_run_in_the_fused_step_without_host_syncs(
    loss_kind: str,
) -> None:
    function, CustomMSE = make_losses(kseq)
    Metric = make_metric(kseq)

    def fit_count(steps: int) -> int:
        model = kseq.Sequential(
            [kseq.Input(shape=(3,)), kseq.layers.Dense(4, activation="softmax")]
        )
        model.compile(
            optimizer="adam",
            loss=function if loss_kind == "function" else CustomMSE(),
            metrics=[Metric()],
        )
        x = np.repeat(X, steps // 2, axis=0)[: steps * 8]
        y = np.eye(4, dtype="float32")[np.arange(len(x)) % 4]
        model.fit(x[:8], y[:8], batch_size=8, verbose=0)
        with count_host_conversions() as counts:
            model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        return sum(counts.values())

    assert fit_count(4) == fit_count(16)


def test_custom_layer_compiles_with_torch_compile() -> None:
    layer = make_layer(kseq)(units=2)
    layer(torch.as_tensor(X))
    layer.train()
    compiled = torch.compile(layer, fullgraph=True)
    out = compiled(torch.as_tensor(X))
    assert out.shape == (16, 2) and float(layer.total.abs().sum()) > 0


# ---------------------------------------------------------------------------- parity
@pytest.mark.keras
def test_custom_layer_matches_keras(keras: Any) -> None:
    keras_layer, kseq_layer = make_layer(keras)(units=3), make_layer(kseq)(units=3)
    keras_layer.build((None, 3))
    kseq_layer.build((None, 3))
    assert [w.shape for w in kseq_layer.get_weights()] == [
        w.shape for w in keras_layer.get_weights()
    ]
    weights = [np.random.default_rng(i).normal(size=w.shape).astype("float32") for i, w in enumerate(keras_layer.get_weights())]  # fmt: skip
    keras_layer.set_weights(weights)
    kseq_layer.set_weights(keras_layer.get_weights())
    for training in (False, True):
        expected = keras.ops.convert_to_numpy(keras_layer(X, training=training))
        got = kseq_layer(torch.as_tensor(X), training=training).detach().numpy()
        np.testing.assert_allclose(got, expected, atol=ATOL)
        expected_losses = [float(keras.ops.convert_to_numpy(v)) for v in keras_layer.losses]
        got_losses = [float(v.detach()) for v in kseq_layer.losses]
        np.testing.assert_allclose(got_losses, expected_losses, atol=ATOL)
    for got, expected in zip(kseq_layer.get_weights(), keras_layer.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, atol=ATOL)  # `total` was updated in both
    expected_config = keras_layer.get_config()
    got_config = kseq_layer.get_config()
    assert {k: got_config[k] for k in ("units", "rate", "trainable")} == {
        k: expected_config[k] for k in ("units", "rate", "trainable")
    }


@pytest.mark.keras
def test_custom_layer_training_matches_keras(keras: Any) -> None:
    def model_of(lib: Any) -> Any:
        return lib.Sequential(
            [lib.Input(shape=(3,)), make_layer(lib)(units=3), lib.layers.Dense(1)]
        )

    keras_model, kseq_model = model_of(keras), model_of(kseq)
    kseq_model.set_weights(keras_model.get_weights())
    y = X[:, :1] - X[:, 1:2]
    histories = []
    for model in (keras_model, kseq_model):
        model.compile(optimizer="sgd", loss="mse")
        histories.append(quiet(model.fit, X, y, batch_size=4, epochs=2, shuffle=False))
    np.testing.assert_allclose(
        histories[1].history["loss"], histories[0].history["loss"], atol=ATOL
    )
    for got, expected in zip(kseq_model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, atol=ATOL)


@pytest.mark.keras
def test_custom_metric_matches_keras(keras: Any) -> None:
    y_true = np.array([[1], [0], [2], [2]], dtype="float32")
    y_pred = np.array(
        [[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]], "float32"
    )
    sample_weight = np.array([[1.0], [0.5], [2.0], [1.0]], dtype="float32")
    results = []
    for lib in (keras, kseq):
        metric = make_metric(lib)()
        metric.update_state(lib.ops.convert_to_tensor(y_true), lib.ops.convert_to_tensor(y_pred))
        metric.update_state(
            lib.ops.convert_to_tensor(y_true),
            lib.ops.convert_to_tensor(y_pred),
            sample_weight=sample_weight,
        )
        first = float(metric.result())
        metric.reset_state()
        results.append((first, float(metric.result())))
    assert results[1] == pytest.approx(results[0], abs=ATOL)


@pytest.mark.keras
@pytest.mark.parametrize("loss_kind", ["function", "class"])
def test_custom_loss_matches_keras(keras: Any, loss_kind: str) -> None:
    y_true = np.eye(3, dtype="float32")[[0, 2, 1, 1]]
    y_pred = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3]], "float32"
    )
    values = []
    for lib in (keras, kseq):
        function, CustomMSE = make_losses(lib)
        loss = function if loss_kind == "function" else CustomMSE(regularization_factor=0.3)
        value = loss(lib.ops.convert_to_tensor(y_true), lib.ops.convert_to_tensor(y_pred))
        values.append(np.asarray(lib.ops.convert_to_numpy(value)))
    np.testing.assert_allclose(values[1], values[0], atol=ATOL)


@pytest.mark.keras
def test_custom_metric_in_compile_matches_keras(keras: Any) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((64, 20)).astype("float32")
    y = rng.integers(0, 10, 64).astype("float32")
    results, histories = [], []
    keras_weights = None
    for lib in (keras, kseq):
        model = lib.Sequential([lib.Input(shape=(20,)), lib.layers.Dense(10, activation="softmax")])
        if keras_weights is None:
            keras_weights = model.get_weights()
        model.set_weights(keras_weights)
        model.compile(
            optimizer="rmsprop",
            loss="sparse_categorical_crossentropy",
            metrics=[make_metric(lib)()],
        )
        results.append(model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True))
        histories.append(quiet(model.fit, x, y, batch_size=16, epochs=2, shuffle=False).history)
    assert results[1] == pytest.approx(results[0], abs=ATOL)
    for key, values in histories[0].items():
        np.testing.assert_allclose(histories[1][key], values, atol=ATOL, err_msg=key)


@pytest.mark.cuda
def test_custom_layer_loss_and_metric_step_on_cuda_has_no_host_sync() -> None:
    function, _ = make_losses(kseq)
    model = kseq.Sequential(
        [
            kseq.Input(shape=(3,)),
            make_layer(kseq)(units=4),
            kseq.layers.Dense(4, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss=function, metrics=[make_metric(kseq)()])
    y = np.eye(4, dtype="float32")[np.arange(16) % 4]
    model.fit(X, y, batch_size=8, verbose=0)  # warm-up: build, place, optimizer state
    trainer = model._trainer
    batches = list(trainer.adapt(X, y).batches(8, shuffle=True))
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for xb, yb, swb in batches:
            trainer.steps.train_step(xb, yb, swb)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert model.layers[0].total.device.type == "cuda"
