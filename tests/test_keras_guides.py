"""The keras-io guides' custom layers, models, losses and metrics, run on kseq.

From "Making new layers and models via subclassing" (Keras 3 version) and the custom
losses/metrics sections of "Training & evaluation with the built-in methods". The guides' code is
kept as written, with ``import kseq as keras`` (and ``from kseq import ops, layers``). What
differs, and why:

* The guides build some models with the functional API (``keras.Model(inputs, outputs)``),
  which kseq does not implement; those models are the same layers in a ``keras.Sequential``.
* MNIST is replaced by small random arrays of the same shapes (no downloads in tests).
* ``print(...)`` calls became assertions on what they print.
* The ``LogisticEndpoint`` example (a layer taking targets as a second model input) needs a
  two-input functional model and is not reproduced.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np
import pytest
import torch

import kseq as keras
from kseq import layers, ops


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


# ============================================== Making new layers and models via subclassing
class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_linear_layer_tracks_its_weights() -> None:
    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    assert tuple(y.shape) == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]
    assert list(linear_layer.state_dict()) == ["w", "b"]


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


def test_non_trainable_weight() -> None:
    x = ops.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    assert y.numpy().tolist() == [2.0, 2.0]
    y = my_sum(x)
    assert y.numpy().tolist() == [4.0, 4.0]
    assert len(my_sum.weights) == 1
    assert len(my_sum.non_trainable_weights) == 1
    assert my_sum.trainable_weights == []


class LazyLinear(keras.layers.Layer):  # the guide's second `Linear`: weights created in build()
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_weights_created_in_build() -> None:
    x = ops.ones((2, 2))
    linear_layer = LazyLinear(32)
    assert not linear_layer.built and linear_layer.weights == []
    y = linear_layer(x)
    assert tuple(y.shape) == (2, 32) and linear_layer.built
    assert [tuple(w.shape) for w in linear_layer.weights] == [(2, 32), (32,)]


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LazyLinear(32)
        self.linear_2 = LazyLinear(32)
        self.linear_3 = LazyLinear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


def test_layers_are_recursively_composable() -> None:
    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
    assert tuple(y.shape) == (3, 1)
    assert len(mlp.weights) == 6
    assert len(mlp.trainable_weights) == 6
    assert len(list(mlp.parameters())) == 6  # a real nn.Module: torch sees the same weights


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


def test_add_loss_is_reset_at_each_top_level_call() -> None:
    layer = OuterLayer()
    assert len(layer.losses) == 0  # No losses yet since the layer has never been called
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # We created one loss value
    # `layer.losses` gets reset at the start of each __call__
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # This is the loss created during the call above


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


def test_losses_include_inner_weight_regularization() -> None:
    layer = OuterLayerWithKernelRegularizer()
    _ = layer(ops.zeros((1, 1)))
    # This is `1e-3 * sum(layer.dense.kernel ** 2)`, created by the `kernel_regularizer` above.
    (penalty,) = layer.losses
    expected = 1e-3 * torch.sum(layer.dense.kernel.detach() ** 2)
    assert float(penalty.detach()) == pytest.approx(float(expected), rel=1e-6)


def test_add_loss_works_with_fit_with_or_without_a_compiled_loss() -> None:
    model = keras.Sequential([keras.Input(shape=(3,)), ActivityRegularizationLayer()])
    # If there is a loss passed in `compile`, the regularization losses get added to it
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.random((2, 3)), np.random.random((2, 3))
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = quiet(model.fit, x, y)
    expected = np.mean((x - y) ** 2) + 1e-2 * np.mean(x)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    # It's also possible not to pass any loss in `compile`, since the model already has a loss
    # to minimize, via the `add_loss` call during the forward pass!
    model.compile(optimizer="adam")
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = quiet(model.fit, x, y)
    assert history.history["loss"][0] == pytest.approx(1e-2 * np.mean(x), rel=1e-5)


class SerializableLinear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


def test_layer_config_round_trip() -> None:
    layer = SerializableLinear(64)
    config = layer.get_config()
    assert config["units"] == 64 and config["name"] == layer.name and config["trainable"] is True
    new_layer = SerializableLinear.from_config(config)
    assert new_layer.units == 64 and new_layer.name == layer.name


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(inputs, rate=self.rate)
        return inputs


def test_training_argument_in_call() -> None:
    layer = CustomDropout(0.5)
    x = ops.ones((200, 10))
    assert torch.equal(layer(x), x)  # inference by default (training=None)
    dropped = layer(x, training=True)
    assert set(dropped.unique().tolist()) == {0.0, 2.0}
    model = keras.Sequential([keras.Input(shape=(10,)), CustomDropout(0.5), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    quiet(model.fit, np.ones((8, 10)), np.ones((8, 1)), epochs=1)  # fit passes training=True


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim))
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(
        self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def test_end_to_end_variational_autoencoder() -> None:
    x_train = (np.random.default_rng(0).random((256, 784)) > 0.7).astype("float32")
    vae = VariationalAutoEncoder(784, 64, 32)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = quiet(vae.fit, x_train, x_train, epochs=2, batch_size=64)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert [layer.name for layer in vae.layers] == ["encoder", "decoder"]


# ===================================== Training & evaluation with the built-in methods
def get_uncompiled_model():
    # The guide's functional model, as a Sequential stack of the same layers.
    return keras.Sequential(
        [
            keras.Input(shape=(784,), name="digits"),
            layers.Dense(64, activation="relu", name="dense_1"),
            layers.Dense(64, activation="relu", name="dense_2"),
            layers.Dense(10, activation="softmax", name="predictions"),
        ]
    )


def mnist_like(n: int = 256) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((n, 784)).astype("float32"), rng.integers(0, 10, n).astype("float32")


def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


@pytest.mark.parametrize(
    "loss", [custom_mean_squared_error, CustomMSE()], ids=["function", "class"]
)
def test_custom_losses(loss: Any) -> None:
    x_train, y_train = mnist_like()
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=loss)
    # We need to one-hot encode the labels to use MSE
    y_train_one_hot = ops.one_hot(y_train, num_classes=10)
    history = quiet(model.fit, x_train, y_train_one_hot, batch_size=64, epochs=1)
    y_pred = model.predict(x_train, verbose=0)
    expected = np.mean(np.mean((y_train_one_hot.numpy() - y_pred) ** 2, axis=-1))
    if isinstance(loss, CustomMSE):
        expected += 0.1 * np.mean(np.mean((0.5 - y_pred) ** 2, axis=-1))
    assert model.evaluate(x_train, y_train_one_hot, verbose=0) == pytest.approx(expected, rel=1e-4)
    assert list(history.history) == ["loss"]


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        # The state of the metric will be reset at the start of each epoch.
        self.true_positives.assign(0.0)


def test_custom_metric() -> None:
    x_train, y_train = mnist_like()
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = quiet(model.fit, x_train, y_train, batch_size=64, epochs=3)
    assert sorted(history.history) == ["categorical_true_positives", "loss"]
    # The metric is reset at each epoch. The labels have shape (N,) and the reshaped predictions
    # (N, 1), so the guide's comparison broadcasts to batch x batch (in Keras too).
    assert all(0 <= v <= 256 * 256 for v in history.history["categorical_true_positives"])
    predicted = model.predict(x_train, verbose=0).argmax(axis=1)
    _, count = model.evaluate(x_train, y_train, batch_size=64, verbose=0)
    expected = sum(
        np.sum(y_train[i : i + 64, None].astype("int32") == predicted[None, i : i + 64])
        for i in range(0, 256, 64)
    )
    assert count == float(expected)


class ActivityRegularizationLayer2(layers.Layer):  # the training guide's version
    def call(self, inputs):
        self.add_loss(ops.sum(inputs) * 0.1)
        return inputs  # Pass-through layer.


def test_add_loss_in_a_model_between_dense_layers() -> None:
    x_train, y_train = mnist_like()
    model = keras.Sequential(
        [
            keras.Input(shape=(784,), name="digits"),
            layers.Dense(64, activation="relu", name="dense_1"),
            ActivityRegularizationLayer2(),
            layers.Dense(64, activation="relu", name="dense_2"),
            layers.Dense(10, name="predictions"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    # The displayed loss will be much higher than before due to the regularization component.
    x, y = x_train[:64], y_train[:64]
    with torch.no_grad():
        hidden = model.layers[0](torch.as_tensor(x))
        crossentropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        expected = float(crossentropy(y, model(torch.as_tensor(x))) + 0.1 * hidden.sum())
    assert model.evaluate(x, y, batch_size=64, verbose=0) == pytest.approx(expected, rel=1e-5)
    history = quiet(model.fit, x_train, y_train, batch_size=64, epochs=1)
    assert history.history["loss"][0] > 10  # dominated by the activity penalty


# ---------------------------------------------------------------------------- parity
@pytest.mark.keras
def test_custom_loss_and_metric_training_matches_keras(keras: Any) -> None:
    """The guide's custom loss and metric in the same model, in Keras 3 and in kseq."""
    import keras as real_keras

    x_train, y_train = mnist_like(128)

    def build(lib: Any) -> Any:
        model = lib.Sequential(
            [lib.Input(shape=(784,)), lib.layers.Dense(16, activation="relu"), lib.layers.Dense(10, activation="softmax")]
        )  # fmt: skip
        return model

    keras_model, kseq_model = build(real_keras), build(globals()["keras"])
    kseq_model.set_weights(keras_model.get_weights())

    def keras_loss(y_true, y_pred):
        return real_keras.ops.mean(real_keras.ops.square(y_true - y_pred), axis=-1)

    y_one_hot = np.eye(10, dtype="float32")[y_train.astype(int)]
    keras_model.compile(optimizer="adam", loss=keras_loss)
    kseq_model.compile(optimizer="adam", loss=custom_mean_squared_error)
    expected = quiet(keras_model.fit, x_train, y_one_hot, batch_size=32, epochs=2, shuffle=False)
    got = quiet(kseq_model.fit, x_train, y_one_hot, batch_size=32, epochs=2, shuffle=False)
    np.testing.assert_allclose(got.history["loss"], expected.history["loss"], atol=1e-5)
    for a, b in zip(kseq_model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
