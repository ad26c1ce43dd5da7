"""Keras guide snippets at the layer's entrance: numpy in, `call` overrides, `training=None`,
1-D data into a `(None, 1)` model, and true output shapes of user layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq as keras
from kseq import layers, ops


# ------------------------------------------------------------------ numpy in, tensor out
@pytest.mark.parametrize(
    ("make", "x", "shape"),
    [
        (lambda: layers.Dense(4), np.ones((2, 3)), (2, 4)),
        (lambda: layers.Embedding(10, 3), np.array([[1, 2, 3]]), (1, 3, 3)),
        (lambda: layers.LSTM(4), np.ones((2, 5, 3)), (2, 4)),
        (lambda: layers.GRU(4), np.ones((2, 5, 3)), (2, 4)),
        (lambda: layers.Conv2D(4, 3), np.ones((1, 8, 8, 3)), (1, 6, 6, 4)),
        (lambda: layers.Conv2DTranspose(4, 3), np.ones((1, 8, 8, 3)), (1, 10, 10, 4)),
        (lambda: layers.SeparableConv2D(4, 3), np.ones((1, 8, 8, 3)), (1, 6, 6, 4)),
    ],
)
def test_layers_called_on_numpy_return_float32_tensors(make, x, shape):
    out = make()(x)  # float64 numpy (int ids for Embedding) straight from the guides
    assert isinstance(out, torch.Tensor)
    assert tuple(out.shape) == shape and out.dtype == torch.float32


def test_numpy_result_equals_tensor_result():
    layer = layers.Dense(4)
    x = np.random.default_rng(0).normal(size=(2, 3))
    np.testing.assert_allclose(
        layer(x).detach().numpy(), layer(torch.tensor(x, dtype=torch.float32)).detach().numpy()
    )


def test_embedding_keeps_integer_ids():
    seen = []

    class Spy(layers.Embedding):
        def call(self, inputs, training=None):
            seen.append(inputs.dtype)
            return super().call(inputs, training=training)

    Spy(10, 2)(np.array([[1, 2]]))
    assert seen == [torch.int64]


def test_custom_layer_subtracting_the_mean_of_numpy_inputs():
    class Center(keras.layers.Layer):
        def call(self, inputs):
            inputs -= ops.mean(inputs, axis=-1, keepdims=True)
            return inputs

    out = Center()(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 3.0]]))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), [[-1, 0, 1], [-1, -1, 2]])


def test_python_lists_scalars_and_lists_of_arrays():
    assert layers.Dense(2)([[1, 2, 3]]).shape == (1, 2)
    assert float(layers.Activation("relu")(-3.0)) == 0.0
    total = layers.Add()([np.ones(3), np.full(3, 2.0)])
    np.testing.assert_allclose(total.numpy(), [3.0, 3.0, 3.0])


def test_model_called_on_numpy():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    assert model(np.ones((4, 3))).shape == (4, 2)


# ------------------------------------------------------------------ overriding call
class MCDropout(keras.layers.Dropout):
    def call(self, inputs):
        return super().call(inputs, training=True)


def test_mc_dropout_drops_at_predict_time():
    model = keras.Sequential([keras.Input((1000,)), MCDropout(0.5)])
    y = model.predict(np.ones((4, 1000)), verbose=0)
    assert 0.4 < (y == 0).mean() < 0.6  # dropped although predict runs in inference mode
    assert set(np.unique(y)) == {0.0, 2.0}
    assert not np.array_equal(y, model.predict(np.ones((4, 1000)), verbose=0))
    plain = keras.Sequential([keras.Input((1000,)), layers.Dropout(0.5)])
    assert (plain.predict(np.ones((4, 1000)), verbose=0) == 1).all()


def test_state_dict_and_compile_see_call_layers():
    model = keras.Sequential(
        [keras.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(1)]
    )
    x = torch.ones(2, 3)
    assert list(model.state_dict()) == [
        "0.linear.weight",
        "0.linear.bias",
        "1.linear.weight",
        "1.linear.bias",
    ]
    torch.testing.assert_close(torch.compile(model)(x), model(x))
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), model(x))


# ------------------------------------------------------------------ training=None
def test_augmentation_sequential_called_directly_augments():
    data_augmentation = keras.Sequential(
        [layers.RandomFlip("horizontal", seed=1), layers.RandomRotation(0.2, seed=2)]
    )
    image = np.random.default_rng(0).random((1, 16, 16, 3)).astype("float32")
    outs = [data_augmentation(image).numpy() for _ in range(3)]
    assert all(not np.allclose(o, image) for o in outs)
    # an explicit training= wins, and the layers keep their own default afterwards
    np.testing.assert_array_equal(data_augmentation(image, training=False).numpy(), image)
    assert not np.allclose(data_augmentation(image).numpy(), image)


def test_augmentation_inside_a_model_fit_predict_and_direct_call():
    image = np.random.default_rng(0).random((4, 8, 8, 3)).astype("float32")
    augment = keras.Sequential([layers.RandomFlip("horizontal_and_vertical", seed=3)])
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), augment, layers.Flatten(), layers.Dropout(0.5), layers.Dense(2)]
    )
    np.testing.assert_array_equal(model.predict(image, verbose=0), model.predict(image, verbose=0))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(image, np.zeros((4, 2)), epochs=1, verbose=0)
    assert model.evaluate(image, np.zeros((4, 2)), verbose=0) == model.evaluate(
        image, np.zeros((4, 2)), verbose=0
    )
    dropout = model.layers[2]
    assert augment.layers[0].training and not dropout.training  # each layer's own default
    assert not np.allclose(augment(image).numpy(), image)


def test_model_eval_switches_augmentation_off():
    augment = keras.Sequential([layers.RandomFlip("horizontal", seed=0)]).eval()
    image = np.random.default_rng(0).random((2, 4, 4, 1)).astype("float32")
    np.testing.assert_array_equal(augment(image).numpy(), image)


# ------------------------------------------------------------------ 1-D data, (None, 1) input
def test_single_feature_regression_on_one_dimensional_data():
    x = np.arange(10.0)
    y = 2 * x + 1
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((1,)), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    history = model.fit(x, y, epochs=300, verbose=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]
    assert model(x).shape == (10, 1)
    np.testing.assert_allclose(model.predict(x, verbose=0)[:, 0], y, atol=1.0)


def test_normalization_input_shape_one_adapted_then_fit_on_a_column():
    x = np.linspace(0.0, 5.0, 64)
    with pytest.warns(UserWarning, match="input_shape"):  # the tutorial's legacy argument
        normalizer = layers.Normalization(input_shape=[1], axis=None)
    normalizer.adapt(x)
    model = keras.Sequential([normalizer, layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    model.fit(x, 3 * x, epochs=100, verbose=0)
    assert model.evaluate(x, 3 * x, verbose=0) < 0.1


def test_rank_rule_applies_only_to_a_trailing_one():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match="expected ndim=2"):
        model.predict(np.arange(10.0), verbose=0)
