"""Pooling layers: Keras parity (outputs, input gradients, configs), "same" padding averaged over
valid cells only, shape inference with unknown sizes, masking in the 1D global poolings."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import layers
from kseq.core.conv_utils import same_padding

RNG = np.random.default_rng(0)
WINDOWED = [f"{kind}Pooling{rank}D" for kind in ("Max", "Average") for rank in (1, 2, 3)]
GLOBAL = [f"Global{kind}Pooling{rank}D" for kind in ("Max", "Average") for rank in (1, 2, 3)]


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _jsonable(config: dict[str, Any]) -> Any:
    return json.loads(json.dumps(config, default=str))


def _input(rank: int, data_format: str, lengths: tuple[int, ...] = (7, 6, 5)) -> np.ndarray:
    spatial = lengths[:rank]
    shape = (2, *spatial, 3) if data_format == "channels_last" else (2, 3, *spatial)
    return RNG.standard_normal(shape).astype("float32")


def _is_asymmetric_same(layer: Any, x: np.ndarray) -> bool:
    if layer.padding != "same":
        return False
    spatial = x.shape[1:-1] if layer.data_format == "channels_last" else x.shape[2:]
    pads = [
        same_padding(n, k, s)
        for n, k, s in zip(spatial, layer.pool_size, layer.strides, strict=True)
    ]
    return any(left != right for left, right in pads)


def _valid_cell_average(x: np.ndarray, pool: int, stride: int) -> np.ndarray:
    """NumPy reference for 1D channels_last average pooling with "same" padding (TF/JAX)."""
    length = x.shape[1]
    left, _ = same_padding(length, pool, stride)
    out_length = -(-length // stride)
    out = np.empty((x.shape[0], out_length, x.shape[2]), x.dtype)
    for i in range(out_length):
        start = i * stride - left
        window = x[:, max(start, 0) : min(start + pool, length)]
        out[:, i] = window.mean(axis=1)
    return out


@pytest.mark.keras
@pytest.mark.parametrize("name", WINDOWED)
def test_windowed_pooling_matches_keras(keras: Any, name: str) -> None:
    rank = int(name[-2])
    compared = 0
    for pool, strides, padding, data_format in itertools.product(
        (1, 2, 3), (None, 1, 2), ("valid", "same"), ("channels_last", "channels_first")
    ):
        x = _input(rank, data_format)
        kwargs = {
            "pool_size": pool,
            "strides": strides,
            "padding": padding,
            "data_format": data_format,
        }
        layer = getattr(layers, name)(**kwargs)
        got = _numpy(layer(torch.from_numpy(x)))
        assert layer.compute_output_shape(x.shape) == got.shape
        if "Average" in name and _is_asymmetric_same(layer, x):
            continue  # Keras 3.15's torch backend counts replicated edges there: see the next test.
        keras_layer = getattr(keras.layers, name)(**kwargs)
        np.testing.assert_allclose(got, _numpy(keras_layer(x)), atol=1e-5, err_msg=str(kwargs))
        compared += 1
    assert compared >= 24


@pytest.mark.parametrize(
    ("pool", "stride", "length"), [(4, 1, 6), (2, 1, 5), (3, 2, 6), (2, 2, 5), (4, 3, 7)]
)
def test_average_pooling_same_counts_only_valid_cells(pool: int, stride: int, length: int) -> None:
    x = RNG.standard_normal((2, length, 3)).astype("float32")
    layer = layers.AveragePooling1D(pool, strides=stride, padding="same")
    np.testing.assert_allclose(
        _numpy(layer(torch.from_numpy(x))), _valid_cell_average(x, pool, stride), atol=1e-6
    )
    # The 2D layer on a (length, 1) image agrees with the 1D one (the per-axis counts multiply).
    layer_2d = layers.AveragePooling2D((pool, 1), strides=(stride, 1), padding="same")
    out_2d = layer_2d(torch.from_numpy(x[:, :, None, :]))[:, :, 0]
    np.testing.assert_allclose(_numpy(out_2d), _valid_cell_average(x, pool, stride), atol=1e-6)


@pytest.mark.keras
@pytest.mark.parametrize(
    "name", ["MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling3D"]
)
def test_pooling_input_gradients_match_keras(keras: Any, name: str) -> None:
    rank = int(name[-2])
    x = _input(rank, "channels_last")
    kwargs = (
        {"pool_size": 3, "strides": 2, "padding": "same"}
        if name.startswith("Max")
        else {"pool_size": 3, "strides": 1, "padding": "same"}
    )
    grads = []
    for lib in (keras, kseq):
        xt = torch.tensor(x, requires_grad=True)
        (getattr(lib.layers, name)(**kwargs)(xt) ** 2).sum().backward()
        grads.append(_numpy(xt.grad))
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-5)


@pytest.mark.keras
@pytest.mark.parametrize("name", GLOBAL)
def test_global_pooling_matches_keras(keras: Any, name: str) -> None:
    rank = int(name[-2])
    for data_format, keepdims in itertools.product(
        ("channels_last", "channels_first"), (False, True)
    ):
        x = _input(rank, data_format)
        kwargs = {"data_format": data_format, "keepdims": keepdims}
        layer = getattr(layers, name)(**kwargs)
        expected = _numpy(getattr(keras.layers, name)(**kwargs)(x))
        got = _numpy(layer(torch.from_numpy(x)))
        assert got.shape == expected.shape == layer.compute_output_shape(x.shape)
        np.testing.assert_allclose(got, expected, atol=1e-5)
        first = 1 if data_format == "channels_last" else 2
        unknown = tuple(None if first <= i < first + rank else d for i, d in enumerate(x.shape))
        assert layer.compute_output_shape((None, *unknown[1:])) == (None, *expected.shape[1:])


@pytest.mark.keras
@pytest.mark.parametrize("name", WINDOWED + GLOBAL)
def test_config_matches_keras_and_round_trips(keras: Any, name: str) -> None:
    kwargs: dict[str, Any] = {"name": "pool", "data_format": "channels_first"}
    if "Global" in name:
        kwargs["keepdims"] = True
    else:
        kwargs.update(pool_size=3, strides=1, padding="same")
    layer = getattr(layers, name)(**kwargs)
    keras_config = getattr(keras.layers, name)(**kwargs).get_config()
    config = layer.get_config()
    assert list(config) == list(keras_config)
    assert _jsonable(config) == _jsonable(keras_config)
    assert _jsonable(type(layer).from_config(config).get_config()) == _jsonable(config)
    restored = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(restored) is type(layer)


@pytest.mark.keras
def test_default_pool_sizes_match_keras(keras: Any) -> None:
    for name in ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D"):
        assert (
            getattr(layers, name)().get_config()["pool_size"]
            == getattr(keras.layers, name)().get_config()["pool_size"]
        )
    with pytest.raises(TypeError):
        layers.AveragePooling2D()  # pool_size is required for average pooling, as in Keras


@pytest.mark.parametrize("name", WINDOWED)
def test_output_shape_with_unknown_sizes(name: str) -> None:
    rank = int(name[-2])
    layer = getattr(layers, name)(pool_size=2, strides=3, padding="valid")
    known = layer.compute_output_shape((None, *(8,) * rank, 4))
    assert known == (None, *(3,) * rank, 4)
    assert layer.compute_output_shape((None, *(None,) * rank, 4)) == (None, *(None,) * rank, 4)
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        getattr(layers, name)(pool_size=3).compute_output_shape((None, *(2,) * rank, 4))


@pytest.mark.keras
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_average_pooling1d_mask_matches_keras(keras: Any, data_format: str) -> None:
    x = RNG.standard_normal((2, 4, 3)).astype("float32")
    if data_format == "channels_first":
        x = x.transpose(0, 2, 1).copy()
    mask = np.array([[True, True, False, False], [False, True, True, True]])
    for keepdims in (False, True):
        layer = layers.GlobalAveragePooling1D(data_format=data_format, keepdims=keepdims)
        expected = _numpy(
            keras.layers.GlobalAveragePooling1D(data_format=data_format, keepdims=keepdims)(
                x, mask=mask
            )
        )
        got = _numpy(layer(torch.from_numpy(x), mask=torch.from_numpy(mask)))
        np.testing.assert_allclose(got, expected, atol=1e-6)
        assert layer.compute_mask(torch.from_numpy(x), torch.from_numpy(mask)) is None
    assert (
        layers.GlobalAveragePooling1D.supports_masking
        and not layers.GlobalMaxPooling1D.supports_masking
    )


def test_masked_steps_in_a_sequential_model() -> None:
    tokens = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    table = np.array([[9, 9], [1, 2], [3, 1], [0, 5], [0, 0]], dtype="float32")
    outputs = {}
    for pooling in (layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D):
        embedding = layers.Embedding(5, 2, mask_zero=True)
        model = kseq.Sequential([kseq.Input((4,), dtype="int64"), embedding, pooling()])
        embedding.set_weights([table])
        outputs[pooling.__name__] = _numpy(model(torch.from_numpy(tokens)))
    # Average: masked (padding) steps are excluded. Max: Keras 3 ignores the mask, so the
    # padding row [9, 9] wins; kseq matches that.
    np.testing.assert_allclose(outputs["GlobalAveragePooling1D"], [[2.0, 1.5], [0.0, 5.0]])
    np.testing.assert_allclose(outputs["GlobalMaxPooling1D"], [[9.0, 9.0], [9.0, 9.0]])


def test_channels_last_pooling_keeps_the_memory_format() -> None:
    x = torch.randn(2, 8, 8, 4)
    for layer in (layers.MaxPooling2D(), layers.AveragePooling2D(3, strides=1, padding="same")):
        out = layer(x)
        assert out.is_contiguous() and out.permute(0, 3, 1, 2).is_contiguous(
            memory_format=torch.channels_last
        )


def test_aliases_and_errors() -> None:
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool3D is layers.AveragePooling3D
    assert (
        layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
        and layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D
    )
    assert layers.MaxPooling2D().name == "max_pooling2d"
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        kseq.Sequential([kseq.Input((8, 8)), layers.MaxPooling2D()])
    with pytest.raises(ValueError, match="The `padding` argument must be"):
        layers.MaxPooling1D(padding="full")
    with pytest.raises(ValueError, match="The `pool_size` argument must be a tuple of 2 integers"):
        layers.AveragePooling2D((2, 2, 2))
