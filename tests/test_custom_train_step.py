"""Keras's guide "Customizing what happens in fit() with PyTorch", on kseq.

The step methods below are the guide's, unchanged. Two things differ from the guide, both about
building the model, not the step: the guide builds ``CustomModel(inputs, outputs)`` with the
functional API, which kseq does not have, so the models here subclass ``keras.Sequential`` (a
``keras.Model``) and take their layers as a list; and the data is small random arrays instead
of MNIST. Parity tests run the very same class bodies in Keras 3 and compare histories and weights.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np
import pytest
import torch

import kseq

ATOL = 1e-5


def guide_models(keras: Any) -> dict[str, type]:
    """The guide's ``CustomModel`` classes, written once against a library (Keras or kseq)."""

    class CustomModel(keras.Sequential):
        def train_step(self, data):
            # Unpack the data. Its structure depends on your model and
            # on what you pass to `fit()`.
            x, y = data

            # Call torch.nn.Module.zero_grad() to clear the leftover gradients
            # for the weights from the previous train step.
            self.zero_grad()

            # Compute loss
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compute_loss(y=y, y_pred=y_pred)

            # Call torch.Tensor.backward() on the loss to compute gradients
            # for the weights.
            loss.backward()

            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]

            # Update weights
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)

            # Update metrics (includes the metric that tracks the loss)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)

            # Return a dict mapping metric names to current value
            # Note that it will include the loss (tracked in self.metrics).
            return {m.name: m.result() for m in self.metrics}

    class LowLevelModel(keras.Sequential):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)  # Forward pass
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {
                "loss": self.loss_tracker.result(),
                "mae": self.mae_metric.result(),
            }

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    class WeightedModel(keras.Sequential):
        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)  # Forward pass
            loss = self.compute_loss(
                y=y,
                y_pred=y_pred,
                sample_weight=sample_weight,
            )
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    class EvalModel(keras.Sequential):
        def test_step(self, data):
            # Unpack the data
            x, y = data
            # Compute predictions
            y_pred = self(x, training=False)
            # Updates the metrics tracking the loss
            loss = self.compute_loss(y=y, y_pred=y_pred)
            # Update the metrics.
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            # Return a dict mapping metric names to current value.
            # Note that it will include the loss (tracked in self.metrics).
            return {m.name: m.result() for m in self.metrics}

    return {
        "CustomModel": CustomModel,
        "LowLevelModel": LowLevelModel,
        "WeightedModel": WeightedModel,
        "EvalModel": EvalModel,
    }


def make_gan(keras: Any) -> type:
    """The guide's GAN class, unchanged (its networks are passed in)."""

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            device = "cuda" if torch.cuda.is_available() else "cpu"
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            # Sample random points in the latent space
            batch_size = real_images.shape[0]
            random_latent_vectors = keras.random.normal(
                shape=(batch_size, self.latent_dim), seed=self.seed_generator
            )

            # Decode them to fake images
            generated_images = self.generator(random_latent_vectors)

            # Combine them with real images
            real_images = torch.tensor(real_images, device=device)
            combined_images = torch.concat([generated_images, real_images], axis=0)

            # Assemble labels discriminating real from fake images
            labels = torch.concat(
                [
                    torch.ones((batch_size, 1), device=device),
                    torch.zeros((batch_size, 1), device=device),
                ],
                axis=0,
            )
            # Add random noise to the labels - important trick!
            labels += 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)

            # Train the discriminator
            self.zero_grad()
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with torch.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

            # Sample random points in the latent space
            random_latent_vectors = keras.random.normal(
                shape=(batch_size, self.latent_dim), seed=self.seed_generator
            )

            # Assemble labels that say "all real images"
            misleading_labels = torch.zeros((batch_size, 1), device=device)

            # Train the generator (note that we should *not* update the weights
            # of the discriminator)!
            self.zero_grad()
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
            grads = g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with torch.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)

            # Update metrics and return their value.
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {
                "d_loss": self.d_loss_tracker.result(),
                "g_loss": self.g_loss_tracker.result(),
            }

    return GAN


def data(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 32)).astype("float32")
    return x, rng.random((n, 1)).astype("float32"), rng.random((n, 1)).astype("float32")


def layers_of(keras: Any) -> list[Any]:
    return [keras.Input(shape=(32,)), keras.layers.Dense(1)]


def quiet_fit(model: Any, *args: Any, **kwargs: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return model.fit(*args, **kwargs)


def copy_weights(keras_model: Any, kseq_model: Any) -> None:
    kseq_model.set_weights(keras_model.get_weights())


def assert_same_weights(keras_model: Any, kseq_model: Any) -> None:
    for got, expected in zip(kseq_model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, atol=ATOL)


def assert_same_history(keras_history: Any, kseq_history: Any) -> None:
    assert sorted(kseq_history.history) == sorted(keras_history.history)
    for key, values in keras_history.history.items():
        np.testing.assert_allclose(kseq_history.history[key], values, atol=ATOL, err_msg=key)


# ---------------------------------------------------------------------------- kseq alone
def test_first_example_trains_with_compiled_loss_and_metrics() -> None:
    model = guide_models(kseq)["CustomModel"](layers_of(kseq))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y, _ = data(256)
    history = quiet_fit(model, x, y, epochs=3)
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    # The compiled optimizer was built lazily by `optimizer.apply`, for the model's weights.
    assert model.optimizer.iterations == 3 * 8


def test_lower_level_example_resets_its_own_metrics_each_epoch() -> None:
    model = guide_models(kseq)["LowLevelModel"](layers_of(kseq))
    model.compile(optimizer="adam")
    x, y, _ = data(64)
    history = quiet_fit(model, x, y, epochs=3, batch_size=32, shuffle=False)
    assert sorted(history.history) == ["loss", "mae"]
    # `fit` reset the metrics listed by the `metrics` property at each epoch: 2 steps counted.
    assert model.loss_tracker.count.item() == 2.0
    assert model.mae_metric.count.item() == 64.0
    assert history.history["loss"][2] < history.history["loss"][0]


def test_overridden_test_step_drives_evaluate() -> None:
    model = guide_models(kseq)["EvalModel"](layers_of(kseq))
    model.compile(loss="mse", metrics=["mae"])
    x, y, _ = data(64)
    loss, mae = model.evaluate(x, y, verbose=0)
    y_pred = model.predict(x, verbose=0)
    assert loss == pytest.approx(float(np.mean((y_pred - y) ** 2)), rel=1e-5)
    assert mae == pytest.approx(float(np.mean(np.abs(y_pred - y))), rel=1e-5)


def test_super_train_step_reaches_the_fused_step() -> None:
    class Doubled(kseq.Sequential):
        def train_step(self, data):
            x, y = data
            return super().train_step((x, 2 * y))

    model, reference = Doubled(layers_of(kseq)), kseq.Sequential(layers_of(kseq))
    reference.set_weights(model.get_weights())
    for m in (model, reference):
        m.compile(optimizer="sgd", loss="mse")
    x, y, _ = data(64)
    got = quiet_fit(model, x, y, epochs=2, batch_size=32, shuffle=False)
    expected = quiet_fit(reference, x, 2 * y, epochs=2, batch_size=32, shuffle=False)
    np.testing.assert_allclose(got.history["loss"], expected.history["loss"], atol=ATOL)
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=ATOL)


def test_overridden_predict_step_drives_predict() -> None:
    class Clipped(kseq.Sequential):
        def predict_step(self, data):
            return torch.clamp(self(data), 0.0, 0.1)

    model = Clipped(layers_of(kseq))
    out = model.predict(data(8)[0], verbose=0)
    assert out.shape == (8, 1) and out.max() <= 0.1


def test_train_step_must_return_a_dict() -> None:
    class Bad(kseq.Sequential):
        def train_step(self, data):
            return 1.0

    model = Bad(layers_of(kseq))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="must return a dict mapping metric names"):
        model.fit(*data(8)[:2], verbose=0)


def test_compute_loss_without_any_loss_says_what_to_do() -> None:
    model = kseq.Sequential(layers_of(kseq))
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="Provide a `loss` argument in `compile\\(\\)`"):
        model.compute_loss(y=torch.zeros(2, 1), y_pred=torch.zeros(2, 1))


def test_optimizer_apply_rejects_unknown_variables() -> None:
    w, other = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    optimizer = kseq.optimizers.SGD(learning_rate=0.1)
    optimizer.apply([torch.ones(2)], [w])
    with pytest.raises(ValueError, match="Unknown variable"):
        optimizer.apply([torch.ones(2)], [other])
    optimizer.apply_gradients([(torch.ones(2), w)])
    assert w.detach().tolist() == pytest.approx([0.8, 0.8])


# ---------------------------------------------------------------------------- parity
@pytest.mark.keras
@pytest.mark.parametrize("name", ["CustomModel", "LowLevelModel"])
def test_custom_train_step_matches_keras(keras: Any, name: str) -> None:
    keras_model = guide_models(keras)[name](layers_of(keras))
    kseq_model = guide_models(kseq)[name](layers_of(kseq))
    copy_weights(keras_model, kseq_model)
    for model in (keras_model, kseq_model):
        if name == "CustomModel":
            model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        else:
            model.compile(optimizer="adam")
    x, y, _ = data()
    expected = quiet_fit(keras_model, x, y, epochs=2, batch_size=32, shuffle=False)
    got = quiet_fit(kseq_model, x, y, epochs=2, batch_size=32, shuffle=False)
    assert_same_history(expected, got)
    assert_same_weights(keras_model, kseq_model)


@pytest.mark.keras
def test_sample_weighted_train_step_matches_keras(keras: Any) -> None:
    keras_model = guide_models(keras)["WeightedModel"](layers_of(keras))
    kseq_model = guide_models(kseq)["WeightedModel"](layers_of(kseq))
    copy_weights(keras_model, kseq_model)
    x, y, sw = data()
    histories = []
    for model in (keras_model, kseq_model):
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        histories.append(quiet_fit(model, x, y, sample_weight=sw, epochs=2, shuffle=False))
    assert_same_history(*histories)
    assert_same_weights(keras_model, kseq_model)


@pytest.mark.keras
def test_custom_test_step_matches_keras(keras: Any) -> None:
    keras_model = guide_models(keras)["EvalModel"](layers_of(keras))
    kseq_model = guide_models(kseq)["EvalModel"](layers_of(kseq))
    copy_weights(keras_model, kseq_model)
    x, y, _ = data()
    results = []
    for model in (keras_model, kseq_model):
        model.compile(loss="mse", metrics=["mae"])
        results.append(model.evaluate(x, y, verbose=0, return_dict=True))
    assert sorted(results[1]) == sorted(results[0])
    for key, value in results[0].items():
        assert results[1][key] == pytest.approx(value, abs=ATOL)


def gan_networks(keras: Any, latent_dim: int) -> tuple[Any, Any]:
    discriminator = keras.Sequential(
        [keras.Input(shape=(6,)), keras.layers.Dense(8), keras.layers.LeakyReLU(negative_slope=0.2), keras.layers.Dense(1)],
        name="discriminator",
    )  # fmt: skip
    generator = keras.Sequential(
        [keras.Input(shape=(latent_dim,)), keras.layers.Dense(8), keras.layers.LeakyReLU(negative_slope=0.2), keras.layers.Dense(6, activation="sigmoid")],
        name="generator",
    )  # fmt: skip
    return discriminator, generator


@pytest.mark.keras
@pytest.mark.filterwarnings("ignore:To copy construct from a tensor:UserWarning")
def test_gan_example_matches_keras(keras: Any) -> None:
    """The guide's GAN: two optimizers, a SeedGenerator, its own metrics; same numbers as Keras."""
    latent_dim = 4
    real = np.random.default_rng(0).random((32, 6)).astype("float32")
    histories, models = [], []
    keras_nets, kseq_nets = gan_networks(keras, latent_dim), gan_networks(kseq, latent_dim)
    for keras_net, kseq_net in zip(keras_nets, kseq_nets, strict=True):
        kseq_net.set_weights(keras_net.get_weights())
    for lib, (discriminator, generator) in ((keras, keras_nets), (kseq, kseq_nets)):
        gan = make_gan(lib)(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
        gan.compile(
            d_optimizer=lib.optimizers.Adam(learning_rate=0.0003),
            g_optimizer=lib.optimizers.Adam(learning_rate=0.0003),
            loss_fn=lib.losses.BinaryCrossentropy(from_logits=True),
        )
        histories.append(quiet_fit(gan, real, epochs=2, batch_size=8, shuffle=False))
        models.append(gan)
    assert sorted(histories[1].history) == ["d_loss", "g_loss"]
    assert_same_history(*histories)
    for keras_net, kseq_net in zip(
        (models[0].discriminator, models[0].generator),
        (models[1].discriminator, models[1].generator),
        strict=True,
    ):
        assert_same_weights(keras_net, kseq_net)
