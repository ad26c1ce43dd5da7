"""``kseq.backend``: the ``keras.backend`` helpers, the same answers as Keras."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import backend as K

DTYPES = [
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "float16",
    "float32",
    "float64",
]


def test_defaults_and_setters_round_trip() -> None:
    assert (K.backend(), K.floatx(), K.epsilon(), K.image_data_format()) == (
        "torch", "float32", 1e-07, "channels_last",
    )  # fmt: skip
    K.set_floatx("float64")
    try:
        assert kseq.ops.zeros((2,)).dtype == torch.float64
        assert kseq.ops.convert_to_tensor(1.5).dtype == torch.float64
    finally:
        K.set_floatx("float32")
    K.set_epsilon(1e-5)
    try:
        assert kseq.config.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)


def test_keras_tensors_and_real_tensors() -> None:
    assert K.is_keras_tensor(kseq.Input(shape=(3,)))
    assert not K.is_keras_tensor(torch.zeros(3)) and K.is_tensor(torch.zeros(3))
    assert K.convert_to_numpy(K.convert_to_tensor([1, 2])).tolist() == [1, 2]
    assert K.cast(torch.ones(2), "int32").dtype == torch.int32


def test_clear_session_restarts_auto_names() -> None:
    kseq.layers.Dense(1)
    K.clear_session()
    assert kseq.layers.Dense(1).name == "dense"
    assert K.get_uid("x") == 1 and K.get_uid("x") == 2


@pytest.mark.keras
def test_result_type_equals_keras_for_every_pair(keras: Any) -> None:
    kinds = [*DTYPES, int, float]
    for a, b in itertools.product(kinds, kinds):
        assert K.result_type(a, b) == keras.backend.result_type(a, b), (a, b)


@pytest.mark.keras
@pytest.mark.parametrize(
    "dtype", [*DTYPES, np.float64, np.int32, torch.float16, int, float, bool, None]
)
def test_standardize_dtype_equals_keras(keras: Any, dtype: Any) -> None:
    assert K.standardize_dtype(dtype) == keras.backend.standardize_dtype(dtype)
    name = K.standardize_dtype(dtype)
    assert K.is_float_dtype(name) == keras.backend.is_float_dtype(name)
    assert K.is_int_dtype(name) == keras.backend.is_int_dtype(name)


def test_invalid_dtype_lists_the_allowed_names() -> None:
    with pytest.raises(ValueError, match="Invalid dtype: 'float128'.*'float32'"):
        K.standardize_dtype("float128")
