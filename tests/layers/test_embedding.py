"""Embedding: Keras parity (lookup, mask, config, weights), initializer, arguments and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _rnn_parity import IDS, jsonable, randomize

import kseq
from kseq.layers import Embedding


@pytest.mark.keras
@pytest.mark.parametrize("mask_zero", [False, True])
def test_lookup_mask_and_config_match_keras(keras, mask_zero):
    keras_layer = keras.layers.Embedding(10, 4, mask_zero=mask_zero, name="emb")
    kseq_layer = Embedding(10, 4, mask_zero=mask_zero, name="emb")
    keras_layer.build((None, 6))
    kseq_layer.build((None, 6))
    kseq_layer.set_weights(randomize(keras_layer))
    ids = IDS["pre"]
    expected = keras.ops.convert_to_numpy(keras_layer(ids))
    got = kseq_layer(torch.as_tensor(ids))
    np.testing.assert_array_equal(got.detach().numpy(), expected)
    assert kseq_layer.count_params() == keras_layer.count_params() == 40
    assert kseq_layer.compute_output_shape((None, 6)) == tuple(
        keras_layer.compute_output_shape((None, 6))
    )
    keras_mask = keras_layer.compute_mask(ids)
    kseq_mask = kseq_layer.compute_mask(torch.as_tensor(ids))
    if mask_zero:
        np.testing.assert_array_equal(kseq_mask.numpy(), keras.ops.convert_to_numpy(keras_mask))
    else:
        assert kseq_mask is None and keras_mask is None
    config = kseq_layer.get_config()
    assert jsonable(config) == jsonable(keras_layer.get_config())
    assert jsonable(Embedding.from_config(config).get_config()) == jsonable(config)
    keras_layer.set_weights(kseq_layer.get_weights())  # round trip the other way


@pytest.mark.keras
def test_model_with_embedding_matches_keras(keras):
    def build(lib):
        return lib.Sequential([
            lib.Input((6,), dtype="int32"), lib.layers.Embedding(10, 3), lib.layers.Flatten(), lib.layers.Dense(2),
        ])  # fmt: skip

    keras_model, kseq_model = build(keras), build(kseq)
    kseq_model.set_weights(randomize(keras_model))
    np.testing.assert_allclose(
        kseq_model.predict(IDS["post"], verbose=0),
        keras_model.predict(IDS["post"], verbose=0),
        atol=1e-5,
    )


def test_torch_face_is_nn_embedding_in_keras_layout():
    layer = Embedding(7, 3)
    layer.build((None, 2))
    assert isinstance(layer.embedding, torch.nn.Embedding)
    assert layer.embeddings is layer.embedding.weight
    (table,) = layer.get_weights()
    assert table.shape == (7, 3)
    assert (
        np.abs(table).max() <= 0.05
    )  # "uniform" = RandomUniform(-0.05, 0.05), not torch's N(0, 1)


def test_float_and_int32_ids_are_accepted():
    layer = Embedding(5, 2)
    ids = torch.tensor([[1, 4]])
    expected = layer(ids)
    torch.testing.assert_close(layer(ids.float()), expected)
    torch.testing.assert_close(layer(ids.int()), expected)


def test_mask_reaches_the_next_layer_in_a_model():
    seen = {}

    class Spy(kseq.layers.Layer):
        def call(self, inputs, mask=None):
            seen["mask"] = mask
            return inputs

    model = kseq.Sequential(
        [kseq.Input((4,), dtype="int32"), Embedding(5, 2, mask_zero=True), Spy()]
    )
    model(torch.tensor([[0, 1, 2, 0]]))
    assert seen["mask"].tolist() == [[False, True, True, False]]


def test_embedding_without_mask_keeps_the_plain_path():
    model = kseq.Sequential(
        [kseq.Input((4,), dtype="int32"), Embedding(5, 2), kseq.layers.Flatten()]
    )
    assert not model._mask_aware
    masked = kseq.Sequential([kseq.Input((4,), dtype="int32"), Embedding(5, 2, mask_zero=True)])
    assert masked._mask_aware


def test_weights_argument_and_legacy_input_length():
    table = np.arange(6, dtype="float32").reshape(3, 2)
    layer = Embedding(3, 2, weights=[table])
    assert layer.built
    np.testing.assert_array_equal(layer(torch.tensor([2])).detach().numpy(), [[4.0, 5.0]])
    with pytest.warns(UserWarning, match="`input_length` is deprecated"):
        Embedding(3, 2, input_length=10)


def test_regularizer_and_constraint_act_on_the_table():
    layer = Embedding(
        4, 2, embeddings_regularizer=kseq.regularizers.L2(0.5), embeddings_initializer="ones"
    )
    layer.build((None, 1))
    (penalty,) = layer.losses
    assert penalty.item() == pytest.approx(0.5 * 8)


def test_invalid_arguments_use_keras_wording():
    with pytest.raises(
        ValueError, match=r"`input_dim` must be a positive integer. Received: input_dim=0"
    ):
        Embedding(0, 2)
    with pytest.raises(
        ValueError, match=r"`output_dim` must be a positive integer. Received: output_dim=2.5"
    ):
        Embedding(3, 2.5)
