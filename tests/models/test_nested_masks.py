"""A model nested as a layer passes its inner mask on, as Keras's nested models do: an
``Embedding(mask_zero=True)`` inside a sub-model masks the LSTM that follows it outside."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq
from kseq import layers

TOKENS = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 5, 6, 7]])


def _inner(kind: str, embedding: layers.Embedding) -> kseq.Model:
    if kind == "sequential":
        return kseq.Sequential([layers.Input((4,), dtype="int32"), embedding])
    tokens = layers.Input((4,), dtype="int32")
    return kseq.Model(tokens, embedding(tokens))


def _outer(kind: str, inner: kseq.Model, lstm: layers.LSTM) -> kseq.Model:
    if kind == "sequential":
        return kseq.Sequential([layers.Input((4,), dtype="int32"), inner, lstm])
    tokens = layers.Input((4,), dtype="int32")
    return kseq.Model(tokens, lstm(inner(tokens)))


@pytest.mark.parametrize("inner_kind", ["sequential", "functional"])
@pytest.mark.parametrize("outer_kind", ["sequential", "functional"])
def test_a_nested_models_mask_reaches_the_next_layer(inner_kind: str, outer_kind: str) -> None:
    embedding = layers.Embedding(10, 3, mask_zero=True)
    lstm = layers.LSTM(2)
    model = _outer(outer_kind, _inner(inner_kind, embedding), lstm)

    with torch.no_grad():
        vectors = embedding(torch.tensor(TOKENS))
        masked = lstm(vectors, mask=torch.tensor(TOKENS != 0)).numpy()
        unmasked = lstm(vectors).numpy()
    out = model.predict(TOKENS, verbose=0)

    np.testing.assert_allclose(out, masked, atol=1e-6)
    assert not np.allclose(out[:2], unmasked[:2], atol=1e-4)  # the padded rows really differ


@pytest.mark.keras
def test_nested_mask_matches_keras(keras) -> None:
    model = _outer(
        "functional", _inner("sequential", layers.Embedding(10, 3, mask_zero=True)), layers.LSTM(2)
    )
    k_tokens = keras.Input((4,), dtype="int32")
    k_inner = keras.Sequential(
        [keras.Input((4,), dtype="int32"), keras.layers.Embedding(10, 3, mask_zero=True)]
    )
    reference = keras.Model(k_tokens, keras.layers.LSTM(2)(k_inner(k_tokens)))
    reference.set_weights(model.get_weights())

    np.testing.assert_allclose(
        model.predict(TOKENS, verbose=0), reference.predict(TOKENS, verbose=0), atol=1e-5
    )
