"""Masking: Keras parity of the output and mask, and masked timesteps skipped by recurrent layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _rnn_parity import assert_outputs_close, jsonable, randomize, sequence_data

import kseq
from kseq.layers import LSTM, Masking


def _padded(mask_value: float) -> np.ndarray:
    x = sequence_data(batch=4, steps=6, features=3)
    x[0, 4:] = mask_value  # post-padded
    x[2, :3] = mask_value  # pre-padded
    x[3, 1] = mask_value  # a hole
    x[3, 2, 0] = mask_value  # partly equal: not masked
    return x


@pytest.mark.keras
@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_output_and_mask_match_keras(keras, mask_value):
    x = _padded(mask_value)
    keras_layer = keras.layers.Masking(mask_value=mask_value, name="m")
    kseq_layer = Masking(mask_value=mask_value, name="m")
    expected = keras_layer(x)
    got = kseq_layer(torch.as_tensor(x))
    assert_outputs_close(got, expected)
    mask = kseq_layer.compute_mask(torch.as_tensor(x))
    np.testing.assert_array_equal(
        mask.numpy(), keras.ops.convert_to_numpy(keras_layer.compute_mask(x))
    )
    assert mask[3].tolist() == [True, False, True, True, True, True]
    assert jsonable(kseq_layer.get_config()) == jsonable(keras_layer.get_config())


@pytest.mark.keras
@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_masking_then_rnn_matches_keras(keras, name):
    x = _padded(0.0)

    def build(lib):
        return lib.Sequential([
            lib.Input((6, 3)), lib.layers.Masking(), getattr(lib.layers, name)(4, return_sequences=True),
        ])  # fmt: skip

    keras_model, kseq_model = build(keras), build(kseq)
    kseq_model.set_weights(randomize(keras_model))
    assert_outputs_close(kseq_model(torch.as_tensor(x)), keras_model(x))


def test_masked_timesteps_do_not_change_the_result():
    """An LSTM after Masking gives the same final output with or without the padding."""
    model = kseq.Sequential([kseq.Input((None, 3)), Masking(), LSTM(4)])
    x = torch.as_tensor(sequence_data(batch=1, steps=4))
    padded = torch.cat([torch.zeros(1, 2, 3), x, torch.zeros(1, 3, 3)], dim=1)
    torch.testing.assert_close(model(padded), model(x))


def test_masking_makes_the_model_mask_aware():
    model = kseq.Sequential([kseq.Input((5, 2)), Masking(), LSTM(2)])
    assert model._mask_aware
    assert Masking().built and Masking().count_params() == 0
