"""EinsumDense: Keras's kernel/bias shapes, fans, outputs and configs, and training with it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import layers
from tests.layers._layer_parity import assert_same_config, assert_same_layer, to_numpy

RNG = np.random.default_rng(0)

# Equations whose full output shape Keras's `compute_output_shape` gives as is (no output axis is
# shared with the input other than the batch and the elided ones).
ELLIPSIS_CASES = [
    ("ab,bc->ac", 4, "c", (2, 3)),
    ("ab,bc->ac", (4,), None, (2, 3)),
    ("...b,bc->...c", (4,), "c", (2, 5, 3)),
    ("...b,bc->...c", (4,), "c", (2, 6, 5, 3)),
    ("ab...,bc->ac...", (4,), "c", (2, 3, 5)),
    ("abc,cde->ade", (2, 4), "de", (2, 5, 3)),
    ("abc,cde->ade", (2, 4), "e", (2, 5, 3)),
]


@pytest.mark.keras
@pytest.mark.parametrize(("equation", "output_shape", "bias_axes", "shape"), ELLIPSIS_CASES)
def test_outputs_weights_and_config_equal_keras(
    keras: Any, equation: str, output_shape: Any, bias_axes: str | None, shape: tuple[int, ...]
) -> None:
    x = RNG.uniform(-1, 1, shape).astype("float32")
    assert_same_layer(
        keras, "EinsumDense", x, equation, output_shape, bias_axes=bias_axes, activation="relu"
    )


@pytest.mark.keras
@pytest.mark.parametrize(
    ("equation", "output_shape", "bias_axes", "shape"),
    [
        ("abc,cd->abd", (None, 6), "d", (2, 5, 3)),
        ("abc,cde->abde", (None, 2, 4), "de", (2, 5, 3)),
        ("abcd,cde->abe", (None, 6), "e", (2, 5, 2, 4)),
    ],
)
def test_shared_axes_outputs_and_shapes_equal_keras(
    keras: Any, equation: str, output_shape: Any, bias_axes: str, shape: tuple[int, ...]
) -> None:
    k_in = keras.Input(shape[1:])
    k_layer = keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, name="e")
    expected_shape = k_layer(k_in).shape  # (None, None, ...): Keras leaves a shared axis unknown
    s_layer = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, name="e")
    assert layers.Input(shape[1:]).shape == (None, *shape[1:])
    assert s_layer(layers.Input(shape[1:])).shape == tuple(expected_shape)
    assert [w.shape for w in s_layer.get_weights()] == [
        tuple(w.shape) for w in k_layer.get_weights()
    ]
    s_layer.set_weights(k_layer.get_weights())
    x = RNG.uniform(-1, 1, shape).astype("float32")
    np.testing.assert_allclose(
        to_numpy(s_layer(torch.as_tensor(x))),
        keras.ops.convert_to_numpy(k_layer(x)),
        atol=1e-6,
    )
    assert_same_config(k_layer, s_layer)


def test_weights_are_named_kernel_and_bias_in_keras_layout() -> None:
    layer = layers.EinsumDense("abc,cde->abde", (None, 2, 4), bias_axes="de", name="proj")
    layer.build((None, 5, 3))
    assert [n for n, _ in layer.named_parameters()] == ["kernel", "bias"]
    assert [w.path for w in layer.weights] == ["proj/kernel", "proj/bias"]
    assert [a.shape for a in layer.get_weights()] == [(3, 2, 4), (2, 4)]
    assert layer.count_params() == 3 * 2 * 4 + 2 * 4


def test_glorot_fans_count_the_kernel_input_and_output_axes() -> None:
    # Keras: fan_in = 256 (axis c), fan_out = 8 * 64 (axes d, e), so limit = sqrt(6 / 768).
    # Without the axes, a 3-D kernel would get conv-style fans (receptive field 256).
    kseq.utils.set_random_seed(0)
    layer = layers.EinsumDense("abc,cde->abde", (None, 8, 64), bias_axes="de")
    layer.build((None, 4, 256))
    kernel = layer.kernel.detach()
    limit = math.sqrt(6.0 / (256 + 8 * 64))
    assert kernel.abs().max() <= limit
    assert kernel.abs().max() > 0.99 * limit
    assert kernel.std().item() == pytest.approx(limit / math.sqrt(3.0), rel=0.02)
    # The configured initializer is unchanged (as in Keras's config).
    assert layer.get_config()["kernel_initializer"]["config"]["input_axes"] is None


def test_he_normal_fan_in_is_the_contracted_axes() -> None:
    kseq.utils.set_random_seed(1)
    layer = layers.EinsumDense("abc,cd->abd", (None, 512), kernel_initializer="he_normal")
    layer.build((None, 3, 128))
    assert layer.kernel.detach().std().item() == pytest.approx(math.sqrt(2.0 / 128), rel=0.05)


def test_errors_use_keras_wording() -> None:
    with pytest.raises(ValueError, match=r"Invalid einsum equation 'ab->b'. Equations must be"):
        layers.EinsumDense("ab->b", 3).build((None, 3))
    with pytest.raises(ValueError, match="Bias dimension 'x' was requested, but is not part"):
        layers.EinsumDense("ab,bc->ac", 3, bias_axes="x").build((None, 3))
    with pytest.raises(
        ValueError, match="Input shape and output shape do not match at shared dimension 'b'"
    ):
        layers.EinsumDense("abc,cd->abd", (4, 6)).build((None, 5, 3))
    with pytest.raises(NotImplementedError, match="lora_rank"):
        layers.EinsumDense("ab,bc->ac", 3, lora_rank=2)


def test_trains_in_a_sequential_model() -> None:
    kseq.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 6, 4)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("int64")
    model = kseq.Sequential(
        [
            kseq.Input((6, 4)),
            layers.EinsumDense("...b,bc->...c", (8,), bias_axes="c"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    assert model.output_shape == (None, 2)
    model.compile(
        optimizer=kseq.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
