"""The Layer base: Keras's build/shape/weights/config contract on an nn.Module."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import kseq
from kseq import layers


def test_auto_naming_and_explicit_names() -> None:
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert layers.Dense(1, name="head").name == "head"
    kseq.utils.clear_session()
    assert layers.Dense(1).name == "dense"


def test_unknown_keyword_is_rejected() -> None:
    with pytest.raises(
        ValueError,
        match="Unrecognized keyword arguments passed to Dense: \\{'activaton': 'relu'\\}",
    ):
        layers.Dense(2, activaton="relu")


def test_lazy_build_on_first_call_removes_its_hook() -> None:
    layer = layers.Dense(3)
    assert not layer.built and len(layer._forward_pre_hooks) == 1
    out = layer(torch.ones(2, 5))
    assert out.shape == (2, 3) and layer.built
    assert len(layer._forward_pre_hooks) == 0  # the built layer's call path has no hooks
    assert layer._build_input_shape == (2, 5)


def test_explicit_build_marks_built_and_counts() -> None:
    layer = layers.Dense(4)
    layer.build((None, 3))
    assert layer.built and layer.count_params() == 16
    with pytest.raises(ValueError, match="isn't built"):
        layers.Dense(1).count_params()


def test_weights_views_and_keras_layout() -> None:
    layer = layers.Dense(4)
    layer.build((None, 3))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 4) and bias.shape == (4,)
    assert [tuple(w.shape) for w in layer.weights] == [(3, 4), (4,)]  # Keras layout
    assert [tuple(p.shape) for p in layer.parameters()] == [(4, 3), (4,)]  # torch layout
    assert torch.equal(layer.kernel, layer.linear.weight.T)
    layer.set_weights([np.ones((3, 4)), np.arange(4.0)])
    assert torch.equal(layer(torch.ones(1, 3)), torch.tensor([[3.0, 4.0, 5.0, 6.0]]))


def test_set_weights_errors_name_the_layer_and_shapes() -> None:
    layer = layers.Dense(4, name="d")
    layer.build((None, 3))
    with pytest.raises(
        ValueError,
        match="Layer d weight shape \\(3, 4\\) is not compatible with provided weight shape \\(4, 3\\)",
    ):
        layer.set_weights([np.ones((4, 3)), np.zeros(4)])
    with pytest.raises(
        ValueError, match="with a weight list of length 1, but the layer was expecting 2 weights"
    ):
        layer.set_weights([np.ones((3, 4))])


def test_trainable_toggles_requires_grad_and_weight_lists() -> None:
    layer = layers.Dense(2)
    layer.build((None, 2))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not any(p.requires_grad for p in layer.parameters())
    layer.trainable = True
    assert len(layer.trainable_weights) == 2
    frozen_before_build = layers.Dense(2, trainable=False)
    frozen_before_build.build((None, 2))
    assert not frozen_before_build.linear.weight.requires_grad


def test_keras_style_subclass_with_add_weight_and_call() -> None:
    class Scale(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")
            self.count = self.add_weight(
                shape=(), initializer="zeros", trainable=False, name="count"
            )

        def call(self, inputs, training=None):
            return inputs * self.scale if training else inputs * self.scale * 2

    layer = Scale()
    x = torch.ones(2, 3)
    assert torch.equal(layer(x), 2 * x)  # outside fit a layer runs in inference mode, as in Keras
    assert torch.equal(layer(x, training=True), x)
    layer.train()
    assert torch.equal(layer(x), x)  # torch's train() switches the default
    assert [n for n, _ in layer.named_parameters()] == ["scale", "count"]
    assert len(layer.trainable_weights) == 1 and len(layer.non_trainable_weights) == 1
    model = kseq.Sequential([kseq.Input(shape=(3,)), layer, layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 3)), np.zeros(8), verbose=0)
    assert float(layer.count.detach()) == 0.0  # non-trainable weights are not optimized


def test_activity_regularizer_adds_a_loss_per_batch_size() -> None:
    layer = layers.Dense(2, kernel_initializer="ones", activity_regularizer="l2")
    layer(torch.ones(4, 3))
    (penalty,) = layer.losses
    assert float(penalty.detach()) == pytest.approx(0.01 * (3.0**2) * 2 * 4 / 4)


def test_float64_layer_dtype() -> None:
    layer = layers.Dense(2, dtype="float64")
    out = layer(torch.ones(1, 3, dtype=torch.float64))
    assert layer.linear.weight.dtype == torch.float64 and out.dtype == torch.float64
    assert layer.dtype == "float64" and layer.get_config()["dtype"]["config"]["name"] == "float64"


def test_layers_start_in_inference_mode_like_keras() -> None:
    model = kseq.Sequential([kseq.Input(shape=(50,)), layers.Dropout(0.5)])
    x = torch.ones(4, 50)
    assert not model.training and torch.equal(model(x), x)
    model.train()
    assert (model(x) == 0).any()
    model.add(layers.Dense(1))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 50)), np.ones(4), verbose=0)
    assert not model.training  # fit leaves the model in inference mode


def test_layers_are_modules_and_move_with_to() -> None:
    layer = layers.Dense(2)
    layer.build((None, 2))
    assert isinstance(layer, nn.Module)
    layer.to(torch.float64)
    assert layer.linear.weight.dtype == torch.float64


def test_config_round_trip() -> None:
    layer = layers.Dense(5, activation="tanh", use_bias=False, kernel_regularizer="l2", name="x")
    clone = layers.Dense.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert layers.deserialize(layers.serialize(layer)).get_config() == layer.get_config()


def test_add_loss_belongs_to_the_latest_top_level_call() -> None:
    class Penalty(layers.Layer):
        def call(self, inputs):
            self.add_loss(inputs.abs().mean())
            return inputs

    inner = kseq.Sequential([Penalty()])
    model = kseq.Sequential([kseq.Input(shape=(3,)), Penalty(), inner, layers.Dense(1)])
    for _ in range(3):
        model(torch.ones(2, 3))
    assert len(model.losses) == 2  # one per Penalty layer, not one per call
    model(torch.zeros(2, 3))
    assert [float(t) for t in model.losses] == [0.0, 0.0]
