"""Bidirectional and TimeDistributed: Keras parity (merge modes, masks, states, weights order,
configs), shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _rnn_parity import IDS, MASKS, assert_outputs_close, jsonable, randomize, sequence_data

import kseq
from kseq.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN, TimeDistributed

MERGE_MODES = ["concat", "sum", "mul", "ave", None]


def _bidirectional_pair(keras, name, merge_mode, **rnn_kwargs):
    keras_layer = keras.layers.Bidirectional(
        getattr(keras.layers, name)(3, **rnn_kwargs), merge_mode=merge_mode
    )
    kseq_layer = Bidirectional(getattr(kseq.layers, name)(3, **rnn_kwargs), merge_mode=merge_mode)
    keras_layer.build((None, 6, 3))
    kseq_layer.build((None, 6, 3))
    kseq_layer.set_weights(randomize(keras_layer))
    return keras_layer, kseq_layer


@pytest.mark.keras
@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_matches_keras_with_any_mask(keras, name, return_sequences):
    x = sequence_data()
    keras_layer, kseq_layer = _bidirectional_pair(
        keras, name, "concat", return_sequences=return_sequences
    )
    assert kseq_layer.count_params() == keras_layer.count_params()
    for mask in (None, "post", "pre", "holes"):
        expected = keras_layer(x, mask=None if mask is None else MASKS[mask])
        got = kseq_layer(
            torch.as_tensor(x), mask=None if mask is None else torch.as_tensor(MASKS[mask])
        )
        assert_outputs_close(got, expected)


@pytest.mark.keras
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_merge_modes_match_keras(keras, merge_mode, return_sequences):
    x = sequence_data()
    keras_layer, kseq_layer = _bidirectional_pair(
        keras, "GRU", merge_mode, return_sequences=return_sequences
    )
    for mask in (None, "pre"):
        expected = keras_layer(x, mask=None if mask is None else MASKS[mask])
        got = kseq_layer(
            torch.as_tensor(x), mask=None if mask is None else torch.as_tensor(MASKS[mask])
        )
        assert_outputs_close(got, expected)
    shape = kseq_layer.compute_output_shape((None, 6, 3))
    keras_shape = keras_layer.compute_output_shape((None, 6, 3))
    if merge_mode is None:
        assert shape == [tuple(s) for s in keras_shape]
        assert [tuple(o.shape) for o in got] == [(4, *s[1:]) for s in shape]
    else:
        assert shape == tuple(keras_shape) and tuple(got.shape) == (4, *shape[1:])


@pytest.mark.keras
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_bidirectional_return_state_matches_keras(keras, name, merge_mode):
    x = sequence_data()
    keras_layer, kseq_layer = _bidirectional_pair(
        keras, name, merge_mode, return_sequences=True, return_state=True
    )
    for mask in (None, MASKS["pre"]):
        expected = keras_layer(x, mask=mask)
        got = kseq_layer(torch.as_tensor(x), mask=None if mask is None else torch.as_tensor(mask))
        assert_outputs_close(got, expected)
    assert [tuple(s) for s in keras_layer.compute_output_shape((None, 6, 3))] == list(
        kseq_layer.compute_output_shape((None, 6, 3))
    )


@pytest.mark.keras
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_bidirectional_text_model_matches_keras(keras, padding):
    def build(lib):
        return lib.Sequential([
            lib.Input((6,), dtype="int32"), lib.layers.Embedding(10, 4, mask_zero=True),
            lib.layers.Bidirectional(lib.layers.LSTM(3, return_sequences=True)),
            lib.layers.Bidirectional(lib.layers.GRU(2), merge_mode="sum"), lib.layers.Dense(1),
        ])  # fmt: skip

    keras_model, kseq_model = build(keras), build(kseq)
    kseq_model.set_weights(randomize(keras_model))
    assert_outputs_close(kseq_model(torch.as_tensor(IDS[padding])), keras_model(IDS[padding]))


@pytest.mark.keras
def test_bidirectional_config_and_weights_order_match_keras(keras):
    keras_layer = keras.layers.Bidirectional(keras.layers.LSTM(3, name="lstm"), name="bi")
    kseq_layer = Bidirectional(LSTM(3, name="lstm"), name="bi")
    config = kseq_layer.get_config()
    assert jsonable(config) == jsonable(keras_layer.get_config())
    clone = Bidirectional.from_config(config)
    assert jsonable(clone.get_config()) == jsonable(config)
    keras_layer.build((None, 5, 2))
    kseq_layer.build((None, 5, 2))
    weights = randomize(keras_layer)
    kseq_layer.set_weights(weights)
    forward = kseq_layer.forward_layer.get_weights()
    backward = kseq_layer.backward_layer.get_weights()
    for got, expected in zip(forward + backward, weights, strict=True):
        np.testing.assert_array_equal(got, expected)
    keras_layer.set_weights(kseq_layer.get_weights())


def test_bidirectional_copies_the_layer_and_names_the_directions():
    lstm = LSTM(2, name="enc")
    layer = Bidirectional(lstm)
    assert layer.forward_layer is not lstm
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_enc", "backward_enc")
    assert (layer.forward_layer.go_backwards, layer.backward_layer.go_backwards) == (False, True)
    assert [n for n, _ in layer.named_children()] == ["forward_layer", "backward_layer"]


def test_bidirectional_custom_backward_layer():
    layer = Bidirectional(LSTM(2), backward_layer=GRU(3, go_backwards=True), merge_mode=None)
    forward_out, backward_out = layer(torch.ones(2, 4, 5))
    assert forward_out.shape == (2, 2) and backward_out.shape == (2, 3)


def test_bidirectional_weights_argument_and_reset_states():
    reference = Bidirectional(SimpleRNN(2))
    reference.build((None, 3, 2))
    layer = Bidirectional(SimpleRNN(2), weights=reference.get_weights())
    x = torch.ones(1, 3, 2)
    torch.testing.assert_close(layer(x), reference(x))
    stateful = Bidirectional(SimpleRNN(2, stateful=True))
    stateful(x)
    stateful.reset_states()
    assert stateful.forward_layer.states[0].abs().sum() == 0


def test_bidirectional_errors_use_keras_wording():
    with pytest.raises(ValueError, match="Invalid merge mode"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="`keras.layers.Layer` instance"):
        Bidirectional(torch.nn.LSTM(2, 2))
    with pytest.raises(ValueError, match="different `go_backwards` value"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match='same value for attribute "return_sequences"'):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_sequences=True))


# --------------------------------------------------------------------------- TimeDistributed
@pytest.mark.keras
def test_time_distributed_dense_matches_keras(keras):
    x = np.random.default_rng(0).normal(size=(2, 5, 4, 3)).astype("float32")
    keras_layer = keras.layers.TimeDistributed(keras.layers.Dense(6, name="d"), name="td")
    kseq_layer = TimeDistributed(Dense(6, name="d"), name="td")
    keras_layer.build((None, 5, 4, 3))
    kseq_layer.build((None, 5, 4, 3))
    kseq_layer.set_weights(randomize(keras_layer))
    assert_outputs_close(kseq_layer(torch.as_tensor(x)), keras_layer(x))
    assert kseq_layer.count_params() == keras_layer.count_params()
    assert kseq_layer.compute_output_shape((None, 5, 4, 3)) == tuple(
        keras_layer.compute_output_shape((None, 5, 4, 3))
    )
    config = kseq_layer.get_config()
    assert jsonable(config) == jsonable(keras_layer.get_config())
    assert jsonable(TimeDistributed.from_config(config).get_config()) == jsonable(config)


@pytest.mark.keras
def test_time_distributed_in_a_masked_model_matches_keras(keras):
    """The mask passes through TimeDistributed to the LSTM after it."""

    def build(lib):
        return lib.Sequential([
            lib.Input((6,), dtype="int32"), lib.layers.Embedding(10, 4, mask_zero=True),
            lib.layers.TimeDistributed(lib.layers.Dense(3)), lib.layers.LSTM(2),
        ])  # fmt: skip

    keras_model, kseq_model = build(keras), build(kseq)
    kseq_model.set_weights(randomize(keras_model))
    assert_outputs_close(kseq_model(torch.as_tensor(IDS["pre"])), keras_model(IDS["pre"]))


def test_time_distributed_is_one_call_on_the_folded_batch():
    dense = Dense(2)
    calls = []
    dense.register_forward_hook(lambda module, args, out: calls.append(tuple(args[0].shape)))
    out = TimeDistributed(dense)(torch.ones(3, 7, 4))
    assert out.shape == (3, 7, 2)
    assert calls == [(21, 4)]


def test_time_distributed_needs_a_time_axis():
    with pytest.raises(ValueError, match="at least 3 dimensions, received: \\(None, 4\\)"):
        TimeDistributed(Dense(2)).build((None, 4))
    with pytest.raises(ValueError, match="`keras.layers.Layer` instance"):
        TimeDistributed(torch.nn.Linear(2, 2))
