"""Every layer in ``kseq.layers`` survives ``model.save("m.keras")`` -> ``load_model``: same
predictions, same weights, same ``get_config()``, with and without compile state.

The table below lists constructor arguments and an input shape per class. A layer class added to
``kseq.layers`` later fails ``test_every_layer_is_in_the_table`` until it is added here (or to
``SKIPPED`` with a reason).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import layers as L

# name -> (constructor kwargs, or a function returning them; input shape without batch; input dtype)
Spec = tuple[dict[str, Any] | Callable[[], dict[str, Any]], tuple[int, ...], str]
TABLE: dict[str, Spec] = {
    "Activation": ({"activation": "relu"}, (4,), "float32"),
    "ActivityRegularization": ({"l1": 0.01, "l2": 0.02}, (4,), "float32"),
    "AlphaDropout": ({"rate": 0.2}, (4,), "float32"),
    "AveragePooling1D": ({"pool_size": 2}, (6, 3), "float32"),
    "AveragePooling2D": ({"pool_size": 2, "padding": "same"}, (5, 5, 2), "float32"),
    "AveragePooling3D": ({"pool_size": 2}, (4, 4, 4, 2), "float32"),
    "BatchNormalization": ({"momentum": 0.9}, (4,), "float32"),
    "Bidirectional": (lambda: {"layer": L.LSTM(3, return_sequences=True)}, (5, 4), "float32"),
    "CenterCrop": ({"height": 2, "width": 3}, (4, 4, 3), "float32"),
    "Conv1D": ({"filters": 3, "kernel_size": 2, "activation": "relu"}, (6, 2), "float32"),
    "Conv1DTranspose": ({"filters": 3, "kernel_size": 2, "strides": 2}, (4, 2), "float32"),
    "Conv2D": ({"filters": 3, "kernel_size": 2, "padding": "same"}, (5, 5, 2), "float32"),
    "Conv2DTranspose": ({"filters": 3, "kernel_size": 2}, (4, 4, 2), "float32"),
    "Conv3D": ({"filters": 2, "kernel_size": 2}, (4, 4, 4, 2), "float32"),
    "Conv3DTranspose": ({"filters": 2, "kernel_size": 2}, (3, 3, 3, 2), "float32"),
    "ConvLSTM1D": (
        {"filters": 2, "kernel_size": 2, "return_sequences": True},
        (3, 5, 2),
        "float32",
    ),
    "ConvLSTM2D": ({"filters": 2, "kernel_size": 2, "padding": "same"}, (3, 4, 4, 2), "float32"),
    "ConvLSTM3D": ({"filters": 2, "kernel_size": 2}, (2, 3, 3, 3, 1), "float32"),
    "Cropping1D": ({"cropping": 1}, (6, 2), "float32"),
    "Cropping2D": ({"cropping": ((1, 0), (0, 1))}, (5, 5, 2), "float32"),
    "Cropping3D": ({"cropping": 1}, (4, 4, 4, 2), "float32"),
    "Dense": ({"units": 3, "activation": "tanh", "kernel_regularizer": "l2"}, (4,), "float32"),
    "EinsumDense": (
        {"equation": "...b,bc->...c", "output_shape": (3,), "bias_axes": "c"},
        (5, 4),
        "float32",
    ),
    "DepthwiseConv1D": ({"kernel_size": 2, "depth_multiplier": 2}, (6, 2), "float32"),
    "DepthwiseConv2D": ({"kernel_size": 2}, (5, 5, 2), "float32"),
    "Dropout": ({"rate": 0.3}, (4,), "float32"),
    "ELU": ({"alpha": 0.5}, (4,), "float32"),
    "Embedding": ({"input_dim": 10, "output_dim": 3}, (5,), "int64"),
    "Flatten": ({}, (3, 2), "float32"),
    "GRU": ({"units": 3}, (5, 4), "float32"),
    "GaussianDropout": ({"rate": 0.2}, (4,), "float32"),
    "GaussianNoise": ({"stddev": 0.1}, (4,), "float32"),
    "GlobalAveragePooling1D": ({}, (5, 3), "float32"),
    "GlobalAveragePooling2D": ({"keepdims": True}, (4, 4, 3), "float32"),
    "GlobalAveragePooling3D": ({}, (3, 3, 3, 2), "float32"),
    "GlobalMaxPooling1D": ({}, (5, 3), "float32"),
    "GlobalMaxPooling2D": ({}, (4, 4, 3), "float32"),
    "GlobalMaxPooling3D": ({}, (3, 3, 3, 2), "float32"),
    "GroupNormalization": ({"groups": 2}, (4,), "float32"),
    "Identity": ({}, (4,), "float32"),
    "LSTM": ({"units": 3, "return_sequences": True}, (5, 4), "float32"),
    "LayerNormalization": ({}, (4,), "float32"),
    "LeakyReLU": ({"negative_slope": 0.1}, (4,), "float32"),
    "Masking": ({"mask_value": 0.0}, (5, 4), "float32"),
    "MaxPooling1D": ({"pool_size": 2}, (6, 3), "float32"),
    "MaxPooling2D": ({"pool_size": 2}, (4, 4, 3), "float32"),
    "MaxPooling3D": ({"pool_size": 2}, (4, 4, 4, 2), "float32"),
    "Normalization": (
        {"mean": [1.0, 2.0, 3.0, 4.0], "variance": [1.0, 1.0, 2.0, 2.0]},
        (4,),
        "float32",
    ),
    "PReLU": ({}, (4,), "float32"),
    "Permute": ({"dims": (2, 1)}, (3, 4), "float32"),
    "RMSNormalization": ({}, (4,), "float32"),
    "RandomBrightness": ({"factor": 0.1}, (4, 4, 3), "float32"),
    "RandomContrast": ({"factor": 0.1}, (4, 4, 3), "float32"),
    "RandomCrop": ({"height": 2, "width": 2}, (4, 4, 3), "float32"),
    "RandomFlip": ({}, (4, 4, 3), "float32"),
    "RandomRotation": ({"factor": 0.1}, (4, 4, 3), "float32"),
    "RandomTranslation": ({"height_factor": 0.1, "width_factor": 0.1}, (4, 4, 3), "float32"),
    "RandomZoom": ({"height_factor": 0.1}, (4, 4, 3), "float32"),
    "ReLU": ({"max_value": 6.0}, (4,), "float32"),
    "RepeatVector": ({"n": 3}, (4,), "float32"),
    "Rescaling": ({"scale": 1 / 255, "offset": 0.5}, (4,), "float32"),
    "Reshape": ({"target_shape": (2, 2)}, (4,), "float32"),
    "Resizing": ({"height": 3, "width": 3}, (4, 4, 3), "float32"),
    "SeparableConv1D": ({"filters": 3, "kernel_size": 2}, (6, 2), "float32"),
    "SeparableConv2D": ({"filters": 3, "kernel_size": 2}, (5, 5, 2), "float32"),
    "SimpleRNN": ({"units": 3}, (5, 4), "float32"),
    "Softmax": ({}, (4,), "float32"),
    "SpatialDropout1D": ({"rate": 0.2}, (5, 4), "float32"),
    "SpatialDropout2D": ({"rate": 0.2}, (4, 4, 3), "float32"),
    "SpatialDropout3D": ({"rate": 0.2}, (3, 3, 3, 2), "float32"),
    "TimeDistributed": (lambda: {"layer": L.Dense(3)}, (5, 4), "float32"),
    "UnitNormalization": ({}, (4,), "float32"),
    "UpSampling1D": ({"size": 2}, (3, 2), "float32"),
    "UpSampling2D": ({"size": 2}, (3, 3, 2), "float32"),
    "UpSampling3D": ({"size": 2}, (2, 2, 2, 2), "float32"),
    "ZeroPadding1D": ({"padding": 1}, (3, 2), "float32"),
    "ZeroPadding2D": ({"padding": 1}, (3, 3, 2), "float32"),
    "ZeroPadding3D": ({"padding": 1}, (2, 2, 2, 2), "float32"),
}
MERGE = "a merge layer takes a list of inputs, which no Sequential feeds: config and build_config round trips in tests/layers/test_merging.py"
ATTENTION = (
    "takes [query, value] or (query, value): file round trips in tests/layers/test_attention.py"
)
SKIPPED = {
    "Layer": "the abstract base class: nothing to save beyond what every layer saves",
    "InputLayer": "part of every model in this file",
    "TorchModuleWrapper": "loads only with a module factory: round trips in tests/layers/test_torch_module_wrapper.py",
    "Lambda": "code-bearing: tested in test_model_files.py (safe_mode rules)",
    "Add": MERGE,
    "Average": MERGE,
    "Concatenate": MERGE,
    "Dot": MERGE,
    "Maximum": MERGE,
    "Minimum": MERGE,
    "Multiply": MERGE,
    "Subtract": MERGE,
    "Attention": ATTENTION,
    "AdditiveAttention": ATTENTION,
    "MultiHeadAttention": ATTENTION,
}


def _canonical() -> list[str]:
    """Public layer class names, aliases (MaxPool2D...) folded into their class."""
    return sorted({cls.__name__ for cls in L._ALL.values()})


def test_every_layer_is_in_the_table() -> None:
    missing = [n for n in _canonical() if n not in TABLE and n not in SKIPPED]
    assert not missing, f"add these layers to TABLE in {__file__}: {missing}"


def _build(name: str, compiled: bool) -> tuple[kseq.Sequential, np.ndarray]:
    kwargs, shape, dtype = TABLE[name]
    kwargs = kwargs() if callable(kwargs) else dict(kwargs)
    layer = getattr(L, name)(**kwargs)
    model = kseq.Sequential([kseq.Input(shape, dtype=dtype), layer])
    if compiled:
        if len(model.output_shape) > 2:
            model.add(L.Flatten())
        model.add(L.Dense(2))
    rng = np.random.default_rng(0)
    # Non-trivial, positive weights (valid for variances too) so that a load that forgets a
    # weight cannot pass by chance.
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in model.get_weights()])
    if dtype == "int64":
        x = rng.integers(0, 10, (3, *shape))
    else:
        x = rng.uniform(0.1, 1.0, (3, *shape)).astype("float32")
    if compiled:
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        model.fit(x, np.ones((3, 2), "float32"), epochs=1, batch_size=3, verbose=0)
    return model, x


def _configs(model: kseq.Sequential) -> list[str]:
    return [json.dumps(layer.get_config(), sort_keys=True) for layer in model.layers]


@pytest.mark.parametrize("compiled", [False, True], ids=["plain", "compiled"])
@pytest.mark.parametrize("name", sorted(TABLE))
def test_keras_archive_round_trip(name: str, compiled: bool, tmp_path: Any) -> None:
    model, x = _build(name, compiled)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = kseq.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert _configs(loaded) == _configs(model)
    assert loaded.compiled == compiled
    if compiled:
        assert loaded.optimizer.iterations == model.optimizer.iterations == 1
        for a, b in zip(
            loaded.optimizer.state_dict()["state"],
            model.optimizer.state_dict()["state"],
            strict=True,
        ):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
