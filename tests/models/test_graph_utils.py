"""``keras.utils.get_source_inputs`` / ``is_keras_tensor`` and ``keras.KerasTensor`` on kseq graphs."""

from __future__ import annotations

import torch

import kseq as keras
from kseq import layers


def test_source_inputs_of_a_merged_branch() -> None:
    a, b, unused = keras.Input((2,), name="a"), keras.Input((3,), name="b"), keras.Input((1,))
    merged = layers.concatenate([layers.Dense(4)(b), a])
    out = layers.Dense(1)(layers.add([merged, merged]))

    assert keras.utils.get_source_inputs(out) == [b, a]
    assert keras.utils.get_source_inputs(a) == [a]
    model = keras.Model(keras.utils.get_source_inputs(out), out)  # the idiom it serves
    assert [t.name for t in model.inputs] == ["b", "a"]
    assert unused not in keras.utils.get_source_inputs(out)


def test_is_keras_tensor() -> None:
    x = keras.Input((2,))
    assert isinstance(x, keras.KerasTensor)
    assert keras.utils.is_keras_tensor(layers.Dense(1)(x))
    assert not keras.utils.is_keras_tensor(torch.zeros(2))
