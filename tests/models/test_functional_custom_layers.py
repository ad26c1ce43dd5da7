"""User-written layers in functional graphs: the output shape (and dtype) of a layer that defines no
``compute_output_shape`` comes from running it once, as in the keras.io examples (the VAE's
``Sampling`` layer on ``[z_mean, z_log_var]``)."""

from __future__ import annotations

import numpy as np

import kseq as keras
from kseq import layers, ops


class Double(layers.Layer):
    def call(self, x):
        return x * 2


class MeanOverTime(layers.Layer):
    def call(self, x):
        return ops.mean(x, axis=1)


class ArgMax(layers.Layer):
    def call(self, x):
        return ops.argmax(x, axis=-1)


class Sampling(layers.Layer):
    """keras.io's VAE: z = z_mean + exp(z_log_var / 2) * epsilon."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def test_a_custom_layer_without_compute_output_shape_in_a_functional_model() -> None:
    inputs = keras.Input((3,))
    doubled = Double()(inputs)
    model = keras.Model(inputs, layers.Dense(1, kernel_initializer="ones")(doubled))

    assert doubled.shape == (None, 3)
    np.testing.assert_allclose(model.predict(np.ones((2, 3)), verbose=0), [[6.0], [6.0]])


def test_variable_length_axes_are_probed_not_copied_from_the_input() -> None:
    inputs = keras.Input((None, 4))
    pooled = MeanOverTime()(inputs)
    assert pooled.shape == (None, 4)
    model = keras.Model(inputs, layers.Dense(2)(pooled))
    assert model.predict(np.ones((3, 7, 4)), verbose=0).shape == (3, 2)


def test_the_output_dtype_comes_from_the_run() -> None:
    assert ArgMax()(keras.Input((5,))).dtype == "int32"  # ops.argmax is int32, as in Keras


def test_the_vae_encoder_from_keras_io_builds_and_trains() -> None:
    latent_dim = 2
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

    assert [tuple(t.shape) for t in encoder.outputs] == [(None, 2)] * 3
    images = np.random.default_rng(0).random((8, 28, 28, 1)).astype("float32")
    mean, _log_var, sample = encoder.predict(images, verbose=0)
    assert sample.shape == (8, 2) and not np.allclose(sample, mean)  # epsilon was drawn

    decoded = layers.Dense(28 * 28, activation="sigmoid")(z)
    autoencoder = keras.Model(encoder_inputs, layers.Reshape((28, 28, 1))(decoded))
    autoencoder.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = autoencoder.fit(images, images, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
