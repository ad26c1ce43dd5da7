"""Helpers for the recurrent / embedding / masking / wrapper parity tests against Keras 3.

Keras's default initial weights give outputs too close to zero to tell bugs apart, so the pairs
built here get random weights of a useful scale (drawn once, copied Keras -> kseq).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

import kseq

ATOL = 1e-5

# (batch=4, steps=6) masks: right-padded, left-padded, holes (and one fully masked row).
MASKS: dict[str, np.ndarray] = {
    "post": np.array(
        [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]], bool
    ),
    "pre": np.array(
        [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 1]], bool
    ),
    "holes": np.array(
        [[1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 1], [1, 1, 0, 1, 1, 0]], bool
    ),
}

# Token ids (0 = padding) for Embedding(mask_zero=True) models: post- and pre-padded batches.
IDS: dict[str, np.ndarray] = {
    "post": np.array(
        [[3, 4, 5, 6, 0, 0], [1, 2, 3, 4, 5, 6], [7, 0, 0, 0, 0, 0], [9, 8, 0, 0, 0, 0]]
    ),
    "pre": np.array(
        [[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 7], [0, 0, 0, 0, 9, 8]]
    ),
}


def jsonable(config: Any) -> Any:
    """A config as JSON sees it (tuples become lists)."""
    return json.loads(json.dumps(config, default=str))


def to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    import keras  # only reached from keras-marked tests

    return keras.ops.convert_to_numpy(x)


def flat(outputs: Any) -> list[np.ndarray]:
    """Output(s) of a layer as a list of arrays (``return_state`` / ``merge_mode=None`` give several)."""
    if isinstance(outputs, (list, tuple)):
        return [a for o in outputs for a in flat(o)]
    return [to_numpy(outputs)]


def assert_outputs_close(got: Any, expected: Any, atol: float = ATOL) -> None:
    got, expected = flat(got), flat(expected)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, atol=atol, rtol=1e-5)


def randomize(layer: Any, seed: int = 0, scale: float = 0.5) -> list[np.ndarray]:
    """Give a (built) Keras layer/model random normal weights; returns them."""
    rng = np.random.default_rng(seed)
    weights = [(rng.normal(size=w.shape) * scale).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def built_pair(
    keras: Any, name: str, input_shape: tuple[int | None, ...], *args: Any, **kwargs: Any
) -> tuple[Any, Any]:
    """The same layer class from both libraries, built, random Keras weights copied into kseq."""
    keras_layer = getattr(keras.layers, name)(*args, **kwargs)
    kseq_layer = getattr(kseq.layers, name)(*args, **kwargs)
    keras_layer.build(input_shape)
    kseq_layer.build(input_shape)
    randomize(keras_layer)
    kseq_layer.set_weights(keras_layer.get_weights())
    return keras_layer, kseq_layer


def sequence_data(batch: int = 4, steps: int = 6, features: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, steps, features)).astype("float32")
