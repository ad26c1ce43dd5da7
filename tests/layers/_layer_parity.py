"""Helpers for the layer parity tests: build the same layer in Keras 3 and kseq, copy Keras's
weights into kseq, and compare shapes, parameter counts, configs and outputs."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

import kseq

ATOL = 1e-5


def jsonable(config: Any) -> Any:
    """A config as JSON sees it (tuples become lists), so Keras's and kseq's compare equal."""
    return json.loads(json.dumps(config, default=str))


def to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def keras_call(keras: Any, layer: Any, x: np.ndarray, **kwargs: Any) -> np.ndarray:
    return keras.ops.convert_to_numpy(layer(x, **kwargs))


def kseq_call(layer: kseq.layers.Layer, x: np.ndarray, **kwargs: Any) -> np.ndarray:
    return to_numpy(layer(torch.as_tensor(x), **kwargs))


def randomize_weights(keras_layer: Any, seed: int = 0) -> None:
    """Give a Keras layer's weights random positive values (valid scales and variances too)."""
    rng = np.random.default_rng(seed)
    keras_layer.set_weights(
        [rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) for w in keras_layer.get_weights()]
    )


def built_pair(
    keras: Any,
    name: str,
    input_shape: tuple[int | None, ...],
    *args: Any,
    random_weights: bool = False,
    **kwargs: Any,
) -> tuple[Any, kseq.layers.Layer]:
    """The same layer class from both libraries, built for ``input_shape``, Keras's weights in kseq."""
    keras_layer = getattr(keras.layers, name)(*args, name="layer", **kwargs)
    kseq_layer = getattr(kseq.layers, name)(*args, name="layer", **kwargs)
    keras_layer.build(input_shape)
    kseq_layer.build(input_shape)
    if random_weights:
        randomize_weights(keras_layer)
    kseq_layer.set_weights(keras_layer.get_weights())
    return keras_layer, kseq_layer


def assert_same_layer(
    keras: Any,
    name: str,
    x: np.ndarray,
    *args: Any,
    training: tuple[bool, ...] = (False,),
    atol: float = ATOL,
    random_weights: bool = True,
    **kwargs: Any,
) -> tuple[Any, kseq.layers.Layer]:
    """Parity of one layer on ``x``: output shape and values (each ``training`` mode), parameter
    count, weight shapes, ``compute_output_shape`` and the config (equal to Keras's, round-trips)."""
    input_shape = (None, *x.shape[1:])
    keras_layer, kseq_layer = built_pair(
        keras, name, input_shape, *args, random_weights=random_weights, **kwargs
    )
    assert kseq_layer.count_params() == keras_layer.count_params()
    assert [w.shape for w in kseq_layer.get_weights()] == [
        tuple(w.shape) for w in keras_layer.get_weights()
    ]
    for mode in training:
        expected = keras_call(keras, keras_layer, x, training=mode)
        got = kseq_call(kseq_layer, x, training=mode)
        assert got.shape == expected.shape, (mode, got.shape, expected.shape)
        np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-5, err_msg=f"training={mode}")
    expected_shape = tuple(keras_layer.compute_output_shape(input_shape))
    assert kseq_layer.compute_output_shape(input_shape) == expected_shape
    assert_same_config(keras_layer, kseq_layer)
    return keras_layer, kseq_layer


def assert_same_config(keras_layer: Any, kseq_layer: kseq.layers.Layer) -> None:
    """kseq's config equals Keras's, and ``from_config(get_config())`` gives the same config."""
    config, expected = jsonable(kseq_layer.get_config()), jsonable(keras_layer.get_config())
    assert config == expected, {
        k: (config.get(k), expected.get(k))
        for k in {*config, *expected}
        if config.get(k) != expected.get(k)
    }
    clone = type(kseq_layer).from_config(kseq_layer.get_config())
    assert jsonable(clone.get_config()) == config
    # Keras's own config loads into kseq too.
    from_keras = type(kseq_layer).from_config(keras_layer.get_config())
    assert jsonable(from_keras.get_config()) == config
