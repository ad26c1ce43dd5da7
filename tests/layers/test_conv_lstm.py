"""ConvLSTM1D/2D/3D: Keras parity (padding, strides, dilation, data formats, masks, states,
configs), dropout and stateful use, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _rnn_parity import assert_outputs_close, jsonable, randomize

import kseq
from kseq.layers import ConvLSTM2D

MASK = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 0, 1, 0, 1]], bool)

CASES = [
    ("ConvLSTM2D", (3, 5, 7, 6, 2), {"filters": 4, "kernel_size": 3}),
    ("ConvLSTM2D", (3, 5, 7, 6, 2), {"filters": 4, "kernel_size": (2, 3), "padding": "same",
                                     "return_sequences": True, "go_backwards": True}),
    ("ConvLSTM2D", (3, 5, 8, 7, 2), {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same",
                                     "return_state": True}),
    ("ConvLSTM2D", (3, 5, 8, 7, 2), {"filters": 3, "kernel_size": 3, "dilation_rate": 2,
                                     "return_sequences": True}),
    ("ConvLSTM2D", (3, 5, 2, 7, 6), {"filters": 3, "kernel_size": 3, "data_format": "channels_first",
                                     "return_sequences": True, "return_state": True}),
    ("ConvLSTM1D", (3, 5, 9, 2), {"filters": 3, "kernel_size": 4, "padding": "same", "return_sequences": True}),
    ("ConvLSTM3D", (3, 3, 4, 5, 4, 2), {"filters": 2, "kernel_size": 3, "padding": "same"}),
]  # fmt: skip


@pytest.mark.keras
@pytest.mark.parametrize(("name", "shape", "kwargs"), CASES)
def test_conv_lstm_matches_keras(keras, name, shape, kwargs):
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    keras_layer = getattr(keras.layers, name)(name="c", **kwargs)
    kseq_layer = getattr(kseq.layers, name)(name="c", **kwargs)
    input_shape = (None, *shape[1:])
    keras_layer.build(input_shape)
    kseq_layer.build(input_shape)
    kseq_layer.set_weights(randomize(keras_layer))
    assert kseq_layer.count_params() == keras_layer.count_params()
    for mask in (None, MASK[:, : shape[1]]):
        expected = keras_layer(x, mask=mask)
        got = kseq_layer(torch.as_tensor(x), mask=None if mask is None else torch.as_tensor(mask))
        assert_outputs_close(got, expected)
    expected_shape = keras_layer.compute_output_shape(input_shape)
    got_shape = kseq_layer.compute_output_shape(input_shape)
    if kwargs.get("return_state"):
        assert got_shape == [tuple(s) for s in expected_shape]
    else:
        assert got_shape == tuple(expected_shape)
    config = kseq_layer.get_config()
    assert jsonable(config) == jsonable(keras_layer.get_config())
    assert jsonable(type(kseq_layer).from_config(config).get_config()) == jsonable(config)
    keras_layer.set_weights(kseq_layer.get_weights())


def test_torch_face_and_keras_weight_layout():
    layer = ConvLSTM2D(4, (3, 2))
    layer.build((None, 5, 8, 8, 3))
    assert isinstance(layer.input_conv, torch.nn.Conv2d) and isinstance(
        layer.recurrent_conv, torch.nn.Conv2d
    )
    assert layer.recurrent_conv.bias is None
    kernel, recurrent, bias = layer.get_weights()
    assert (kernel.shape, recurrent.shape, bias.shape) == ((3, 2, 3, 16), (3, 2, 4, 16), (16,))
    np.testing.assert_array_equal(bias[4:8], np.ones(4))  # unit_forget_bias


def test_dropout_training_runs_and_inference_is_deterministic():
    layer = ConvLSTM2D(2, 3, padding="same", dropout=0.3, recurrent_dropout=0.3, seed=0)
    x = torch.randn(2, 3, 6, 6, 1)
    a, b = layer(x, training=False), layer(x, training=False)
    torch.testing.assert_close(a, b)
    trained = layer(x, training=True)
    assert not torch.allclose(trained, a)
    trained.sum().backward()
    assert layer.recurrent_conv.weight.grad is not None


def test_stateful_conv_lstm_carries_the_state():
    plain = ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    stateful = ConvLSTM2D(2, 3, padding="same", return_sequences=True, stateful=True)
    x = torch.randn(2, 4, 5, 5, 1)
    whole = plain(x)
    stateful.build((2, 4, 5, 5, 1))
    stateful.set_weights(plain.get_weights())
    torch.testing.assert_close(torch.cat([stateful(x[:, :2]), stateful(x[:, 2:])], 1), whole)


def test_conv_lstm_in_a_model_trains():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4, 6, 6, 1)).astype("float32")
    y = (x[:, :, :3].mean(axis=(1, 2, 3, 4)) > x[:, :, 3:].mean(axis=(1, 2, 3, 4))).astype(
        "float32"
    )
    model = kseq.Sequential([
        kseq.Input((4, 6, 6, 1)), ConvLSTM2D(4, 3, padding="same"),
        kseq.layers.Flatten(), kseq.layers.Dense(1, activation="sigmoid"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_errors_use_keras_wording():
    with pytest.raises(
        ValueError, match="`strides > 1` is not compatible with `dilation_rate > 1`"
    ):
        ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        ConvLSTM2D(2, 3)(torch.ones(1, 3, 8, 8))
    with pytest.raises(
        ValueError, match="only support static input shapes for the spatial dimension"
    ):
        ConvLSTM2D(2, 3).build((None, 3, None, 8, 1))
