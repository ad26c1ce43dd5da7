"""True output shapes of user layers without `compute_output_shape` (the Keras guide's MyDense)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq as keras
from kseq import layers, ops


class MyDense(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_custom_layer_before_dense_has_true_shapes_at_add_time():
    model = keras.Sequential(
        [keras.Input((6,)), MyDense(16), layers.Activation("relu"), layers.Dense(1)]
    )
    assert model.count_params() == 6 * 16 + 16 + 16 + 1 == 129
    assert model.layers[0].output_shape == (None, 16)
    assert model.layers[2].kernel.shape == (16, 1)
    lines = []
    model.summary(print_fn=lines.append)
    assert "(None, 16)" in "\n".join(lines) and "129" in "\n".join(lines)


def test_custom_layer_before_dense_trains():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 6)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            MyDense(16),
            layers.Activation("relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_probe_keeps_unknown_axes_and_leaves_no_trace():
    class Pairs(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(inputs.sum())
            return torch.nn.functional.dropout(inputs, 0.5, True).reshape(inputs.shape[0], -1, 2)

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    model = keras.Sequential([keras.Input((None, 4)), Pairs()])
    assert model.output_shape == (None, None, 2)
    torch.testing.assert_close(torch.rand(3), expected)  # RNG state restored
    assert model.layers[0].losses == []


def test_time_distributed_custom_layer():
    model = keras.Sequential(
        [keras.Input((5, 6)), layers.TimeDistributed(MyDense(3)), layers.Flatten()]
    )
    assert model.output_shape == (None, 15)


def test_layer_that_cannot_run_on_the_shape_fails_in_add():
    class Fives(keras.layers.Layer):
        def call(self, inputs):
            return inputs.reshape(-1, 5)

    model = keras.Sequential([keras.Input((6,))])
    with pytest.raises(ValueError) as info:
        model.add(Fives(name="fives"))
    message = str(info.value)
    assert (
        'Layer "fives" (Fives) cannot follow the model input, which outputs shape (None, 6)'
        in message
    )
    assert "define `compute_output_shape(input_shape)`" in message
    assert model.layers == []
