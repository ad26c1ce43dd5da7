"""Sequential: building the stack, shape inference and its errors, and the nn.Module face."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import kseq
from kseq import layers
from kseq.models import Sequential


def mlp(**kwargs) -> Sequential:
    return Sequential(
        [kseq.Input(shape=(10,)), layers.Dense(8, activation="relu"), layers.Dense(1)], **kwargs
    )


def test_constructor_list_and_name() -> None:
    model = Sequential([layers.Dense(4), layers.Dense(2)], name="my_model")
    assert model.name == "my_model"
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert not model.built


def test_auto_names_follow_keras_counters() -> None:
    first, second = Sequential(), Sequential()
    assert (first.name, second.name) == ("sequential", "sequential_1")
    assert [layers.LeakyReLU().name if hasattr(layers, "LeakyReLU") else "leaky_re_lu"][
        0
    ] == "leaky_re_lu"


def test_input_builds_every_add() -> None:
    model = Sequential()
    model.add(kseq.Input(shape=(10,)))
    model.add(layers.Dense(8))
    assert model.built and model.output_shape == (None, 8)
    model.add(layers.Dense(3))
    assert model.output_shape == (None, 3)
    assert model.input_shape == (None, 10)
    assert model.count_params() == 10 * 8 + 8 + 8 * 3 + 3
    assert len(model.weights) == 4


def test_legacy_input_shape_on_first_layer_builds_the_stack() -> None:
    model = Sequential()
    model.add(layers.Dense(32, activation="relu", input_shape=(10,)))
    model.add(layers.Dense(1))
    assert model.built and model.input_shape == (None, 10) and model.output_shape == (None, 1)
    input_dim = Sequential([layers.Dense(2, input_dim=5)])
    assert input_dim.input_shape == (None, 5)


def test_lazy_build_on_first_call_and_data() -> None:
    model = Sequential([layers.Dense(4), layers.Dense(2)])
    assert not model.built
    with pytest.raises(AttributeError):
        model.output_shape  # noqa: B018
    out = model(torch.ones(3, 7))
    assert out.shape == (3, 2) and model.built and model.input_shape == (None, 7)
    fitted = Sequential([layers.Dense(1)])
    fitted.compile(optimizer="sgd", loss="mse")
    fitted.fit(np.ones((8, 5)), np.ones(8), verbose=0)
    assert fitted.input_shape == (None, 5)


def test_explicit_build_prepends_input() -> None:
    model = Sequential([layers.Dense(8), layers.Dense(4)])
    model.build((None, 16))
    assert model.built and len(model.weights) == 4 and model.output_shape == (None, 4)
    with pytest.raises(ValueError, match="already been configured to use input shape"):
        model.build((None, 3))


def test_pop_rebuilds_output_shape() -> None:
    model = mlp()
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and popped.units == 1
    assert model.output_shape == (None, 8)
    assert len(model.layers) == 1
    with pytest.raises(TypeError, match="no layers"):
        Sequential().pop()


def test_get_layer_by_name_and_index() -> None:
    model = mlp()
    assert model.get_layer("dense_1") is model.layers[1]
    assert model.get_layer(index=0) is model.layers[0]
    with pytest.raises(
        ValueError, match="No such layer: nope. Existing layers are: \\['dense', 'dense_1'\\]"
    ):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="only has 2 layers"):
        model.get_layer(index=5)


def test_shape_mismatch_at_add_names_both_layers_and_shapes() -> None:
    model = Sequential([kseq.Input(shape=(28, 28, 1)), layers.Flatten(), layers.Dense(64)])
    dense = layers.Dense(10)
    dense.build((None, 32))
    with pytest.raises(ValueError) as info:
        model.add(dense)
    message = str(info.value)
    assert '"dense_1" (Dense)' in message and '"dense" (Dense)' in message
    assert "(None, 64)" in message and "value 32" in message
    assert len(model.layers) == 2  # the failed add changed nothing


def test_rank_mismatch_at_add() -> None:
    model = Sequential([kseq.Input(shape=(5,))])
    with pytest.raises(
        ValueError, match="cannot follow the model input, which outputs shape \\(None, 5\\)"
    ):
        model.add(layers.Reshape((2, 3)))


def test_duplicate_names_and_non_layers_are_refused() -> None:
    model = Sequential([layers.Dense(2, name="a")])
    with pytest.raises(ValueError, match="unique names. Name 'a' is already"):
        model.add(layers.Dense(2, name="a"))
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`.*Received: 'abc'"):
        model.add("abc")
    with pytest.raises(ValueError, match="already been configured"):
        Sequential([kseq.Input(shape=(2,)), kseq.Input(shape=(3,))])


def test_calling_with_numpy_and_float64_casts_to_floatx() -> None:
    model = mlp()
    out = model(np.ones((2, 10)))
    assert out.dtype == torch.float32 and out.shape == (2, 1)


def test_wrong_features_on_call_is_a_clear_error() -> None:
    model = mlp()
    with pytest.raises(
        ValueError, match='layer "dense" \\(Dense\\).*shape \\(4, 7\\).*built for \\(None, 10\\)'
    ):
        model(torch.ones(4, 7))


def test_is_a_plain_torch_module() -> None:
    model = mlp()
    assert isinstance(model, nn.Module)
    keys = list(model.state_dict())
    assert keys == ["0.linear.weight", "0.linear.bias", "1.linear.weight", "1.linear.bias"]
    assert model[1] is model.layers[1] and model[-1].units == 1
    clone = mlp()
    clone.load_state_dict(model.state_dict())
    x = torch.randn(3, 10)
    assert torch.equal(clone(x), model(x))
    assert sum(p.numel() for p in model.parameters()) == model.count_params()
    assert all(isinstance(m, (nn.Linear, kseq.Layer)) for m in model.modules())


def test_torch_compile_and_export() -> None:
    model = mlp()
    x = torch.randn(4, 10)
    compiled = torch.compile(model)
    assert torch.allclose(compiled(x), model(x), atol=1e-6)
    exported = torch.export.export(model.eval(), (x,))
    assert torch.allclose(exported.module()(x), model(x), atol=1e-6)


def test_training_flag_on_call() -> None:
    model = Sequential([kseq.Input(shape=(100,)), layers.Dropout(0.5)])
    model.eval()
    x = torch.ones(2, 100)
    assert torch.equal(model(x), x)
    dropped = model(x, training=True)
    assert (dropped == 0).any() and not model.training
    assert torch.equal(model(x, training=False), x)


def test_trainable_false_freezes_weights() -> None:
    model = mlp()
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    assert not model.layers[0].linear.weight.requires_grad
    before = model.layers[0].get_weights()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.random.rand(32, 10), np.random.rand(32), verbose=0)
    after = model.layers[0].get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert sum(p.numel() for p in model.optimizer._params) == 9


def test_get_config_round_trip() -> None:
    model = mlp(name="round_trip")
    config = model.get_config()
    assert config["name"] == "round_trip" and config["build_input_shape"] == [None, 10]
    assert [layer["class_name"] for layer in config["layers"]] == ["InputLayer", "Dense", "Dense"]
    clone = Sequential.from_config(config)
    assert clone.output_shape == (None, 1) and clone.count_params() == model.count_params()
