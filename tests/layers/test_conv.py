"""Convolution layers: Keras parity (outputs, weights both ways, configs, input gradients), shape
inference, the channels_last no-copy path, weight layout for initializers / regularizers /
constraints, and Keras-worded errors."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import kseq
from kseq import layers

RNG = np.random.default_rng(0)

# (class name, constructor kwargs, input shape): a few argument combinations per class, covering
# strides, "same"/"valid"/"causal", dilation, channels_first, groups and output_padding.
PARITY_CASES: list[tuple[str, dict[str, Any], tuple[int, ...]]] = [
    ("Conv1D", {"filters": 4, "kernel_size": 3}, (2, 9, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 4, "strides": 2, "padding": "same"}, (2, 9, 3)),
    ("Conv1D", {"filters": 6, "kernel_size": 3, "padding": "causal", "dilation_rate": 2, "groups": 3}, (2, 9, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 2, "padding": "same", "data_format": "channels_first"}, (2, 3, 9)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}, (2, 7, 8, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": (2, 3), "strides": 2, "padding": "same"}, (2, 7, 8, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": 4, "padding": "same", "dilation_rate": 2}, (2, 7, 8, 4)),
    ("Conv2D", {"filters": 6, "kernel_size": 3, "groups": 2, "strides": (1, 2), "padding": "same"}, (2, 7, 8, 4)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"}, (2, 3, 8, 7)),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "padding": "same"}, (2, 4, 5, 3, 2)),
    ("Conv3D", {"filters": 4, "kernel_size": 3, "strides": 2, "groups": 2}, (2, 5, 5, 5, 2)),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "data_format": "channels_first"}, (2, 2, 4, 4, 3)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 5, 4)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 5, 4)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 4, "strides": 3, "output_padding": 1}, (2, 5, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same", "output_padding": 1}, (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 4, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "strides": 3, "data_format": "channels_first"}, (2, 2, 4, 5)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 2, "strides": 2}, (2, 3, 3, 2, 2)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 3, "strides": (1, 2, 2), "padding": "same"}, (2, 3, 3, 2, 2)),
    ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2}, (2, 9, 3)),
    ("DepthwiseConv1D", {"kernel_size": 4, "strides": 2, "padding": "same"}, (2, 9, 3)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"}, (2, 7, 6, 3)),
    ("DepthwiseConv2D", {"kernel_size": 2, "strides": 2, "dilation_rate": 1, "data_format": "channels_first"}, (2, 3, 7, 6)),
    ("DepthwiseConv2D", {"kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (2, 7, 6, 3)),
    ("SeparableConv1D", {"filters": 5, "kernel_size": 3, "depth_multiplier": 2}, (2, 9, 3)),
    ("SeparableConv1D", {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 9, 3)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3, "padding": "same", "activation": "tanh"}, (2, 7, 6, 3)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 2, "strides": 2, "depth_multiplier": 3}, (2, 7, 6, 3)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3, "dilation_rate": 2, "data_format": "channels_first"}, (2, 3, 7, 6)),
]  # fmt: skip

CLASSES = sorted({name for name, _, _ in PARITY_CASES})


def _case_id(case: tuple[str, dict[str, Any], tuple[int, ...]]) -> str:
    name, kwargs, _ = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _jsonable(config: dict[str, Any]) -> Any:
    return json.loads(json.dumps(config, default=str))


def _random_weights(layer: Any) -> list[np.ndarray]:
    return [RNG.standard_normal(w.shape).astype("float32") for w in layer.get_weights()]


@pytest.mark.keras
@pytest.mark.parametrize("case", PARITY_CASES, ids=_case_id)
def test_outputs_and_weights_match_keras(keras: Any, case: tuple) -> None:
    name, kwargs, shape = case
    x = RNG.standard_normal(shape).astype("float32")
    keras_layer = getattr(keras.layers, name)(**kwargs)
    expected = _numpy(keras_layer(x))
    layer = getattr(layers, name)(**kwargs)
    layer.build(shape)
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in keras_layer.get_weights()]
    assert layer.count_params() == keras_layer.count_params()
    assert layer.compute_output_shape((None, *shape[1:])) == (None, *expected.shape[1:])

    # Keras -> kseq (random biases too, so the bias layout is checked).
    keras_layer.set_weights(_random_weights(keras_layer))
    expected = _numpy(keras_layer(x))
    layer.set_weights(keras_layer.get_weights())
    got = _numpy(layer(torch.from_numpy(x)))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)

    # kseq -> Keras.
    layer.set_weights(_random_weights(layer))
    keras_layer.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        _numpy(layer(torch.from_numpy(x))), _numpy(keras_layer(x)), atol=1e-5
    )


@pytest.mark.keras
@pytest.mark.parametrize("case", PARITY_CASES[::3], ids=_case_id)
def test_input_gradients_match_keras(keras: Any, case: tuple) -> None:
    name, kwargs, shape = case
    x = RNG.standard_normal(shape).astype("float32")
    keras_layer = getattr(keras.layers, name)(**kwargs)
    keras_layer.build(shape)
    layer = getattr(layers, name)(**kwargs)
    layer.build(shape)
    layer.set_weights(keras_layer.get_weights())
    grads = []
    for fn in (keras_layer, layer):
        xt = torch.tensor(x, requires_grad=True)
        (fn(xt) ** 2).sum().backward()
        grads.append(_numpy(xt.grad))
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-5, rtol=1e-5)


@pytest.mark.keras
@pytest.mark.parametrize("name", CLASSES)
def test_config_matches_keras_and_round_trips(keras: Any, name: str) -> None:
    kwargs = next(kw for n, kw, _ in PARITY_CASES if n == name and len(kw) > 2)
    prefix = "depthwise" if name.startswith(("Depthwise", "Separable")) else "kernel"

    def make(lib: Any) -> Any:
        return getattr(lib.layers, name)(
            **kwargs, use_bias=False, name="my_conv", activity_regularizer=lib.regularizers.L2(0.5),
            **{
                f"{prefix}_initializer": "he_normal",
                f"{prefix}_regularizer": lib.regularizers.L1(0.25),
                f"{prefix}_constraint": "non_neg",
            },
        )  # fmt: skip

    kseq_layer = make(kseq)
    keras_config = make(keras).get_config()
    config = kseq_layer.get_config()
    assert list(config) == list(keras_config)
    assert _jsonable(config) == _jsonable(keras_config)
    clone = type(kseq_layer).from_config(config)
    assert _jsonable(clone.get_config()) == _jsonable(config)
    restored = layers.deserialize(json.loads(json.dumps(layers.serialize(kseq_layer))))
    assert type(restored) is type(kseq_layer) and _jsonable(restored.get_config()) == _jsonable(
        config
    )


@pytest.mark.keras
def test_summary_rows_match_keras(keras: Any) -> None:
    def summary(lib: Any) -> str:
        model = lib.Sequential(
            [
                lib.Input((8, 8, 1)),
                lib.layers.Conv2D(4, 3, activation="relu"),
                lib.layers.MaxPooling2D(),
                lib.layers.Flatten(),
                lib.layers.Dense(10, activation="softmax"),
            ]
        )
        lines: list[str] = []
        model.summary(print_fn=lambda line, **kwargs: lines.append(line))
        return "\n".join(lines)

    text = summary(kseq)
    assert "│ conv2d (Conv2D)                 │ (None, 6, 6, 4)        │            40 │" in text
    assert text == summary(keras)


@pytest.mark.parametrize("name", CLASSES)
def test_compute_output_shape_matches_forward(name: str) -> None:
    rank = int(re.search(r"(\d)D", name).group(1))
    args = {"filters": 4} if not name.startswith("Depthwise") else {}
    checked = 0
    for kernel, stride, padding, dilation, data_format in itertools.product(
        (1, 2, 3), (1, 2), ("valid", "same"), (1, 2), ("channels_last", "channels_first")
    ):
        if stride > 1 and dilation > 1 and not name.startswith("Depthwise"):
            continue
        layer = getattr(layers, name)(
            kernel_size=kernel, strides=stride, padding=padding, dilation_rate=dilation,
            data_format=data_format, **args,
        )  # fmt: skip
        spatial = (7, 6, 5)[:rank]
        shape = (2, *spatial, 3) if data_format == "channels_last" else (2, 3, *spatial)
        out = layer(torch.zeros(shape))
        assert layer.compute_output_shape(shape) == tuple(out.shape), (kernel, stride, padding)
        first = 1 if data_format == "channels_last" else 2
        spatial_axes = range(first, first + rank)
        unknown = tuple(None if i in spatial_axes else d for i, d in enumerate(shape))
        expected = tuple(None if i in spatial_axes else d for i, d in enumerate(out.shape))
        assert layer.compute_output_shape((None, *unknown[1:])) == (None, *expected[1:])
        checked += 1
    assert checked >= 24


def test_conv2d_stack_runs_channels_last_without_copies() -> None:
    model = kseq.Sequential(
        [
            kseq.Input((12, 12, 3)),
            layers.Conv2D(8, 3, padding="same", activation="relu"),
            layers.Conv2D(16, 3),
        ]
    )
    conv = model.layers[0].conv
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(4, 12, 12, 3)

    class RecordOps(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.ops: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.append(func.__name__.split(".")[0])
            return func(*args, **(kwargs or {}))

    with RecordOps() as recorded:
        y = model(x)
        hidden = model.layers[0](x)
    copies = [op for op in recorded.ops if op in ("clone", "copy_", "_to_copy", "contiguous")]
    assert copies == [] and recorded.ops.count("convolution") == 3
    # Each output is an NHWC view of an NCHW tensor in channels_last memory format, i.e. plainly
    # contiguous NHWC memory, which the next conv takes as-is.
    for out in (hidden, y):
        assert out.is_contiguous()
        assert out.permute(0, 3, 1, 2).is_contiguous(memory_format=torch.channels_last)
    # The weights keep that format through set_weights (which writes through the Keras view).
    model.set_weights(model.get_weights())
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_causal_conv1d_does_not_see_the_future() -> None:
    layer = layers.Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = torch.randn(1, 10, 3)
    y = layer(x)
    x_changed = x.clone()
    x_changed[:, 6:] += 1.0
    y_changed = layer(x_changed)
    torch.testing.assert_close(y_changed[:, :6], y[:, :6])
    assert not torch.allclose(y_changed[:, 6:], y[:, 6:])


def test_kernel_views_follow_keras_layout() -> None:
    conv = layers.Conv2D(8, (3, 2), groups=2)
    conv.build((None, 9, 9, 4))
    assert tuple(conv.kernel.shape) == (3, 2, 2, 8) and tuple(conv.conv.weight.shape) == (
        8,
        2,
        3,
        2,
    )
    assert conv.kernel[2, 1, 0, 5] == conv.conv.weight[5, 0, 2, 1]
    transposed = layers.Conv2DTranspose(8, 3)
    transposed.build((None, 4, 4, 5))
    assert tuple(transposed.kernel.shape) == (3, 3, 8, 5)
    depthwise = layers.DepthwiseConv2D(3, depth_multiplier=2)
    depthwise.build((None, 5, 5, 4))
    # Keras's depthwise output channel c * depth_multiplier + m is torch's grouped-conv output.
    assert depthwise.kernel[1, 2, 3, 1] == depthwise.conv.weight[3 * 2 + 1, 0, 1, 2]
    separable = layers.SeparableConv1D(6, 3, depth_multiplier=2)
    separable.build((None, 8, 3))
    assert [tuple(w.shape) for w in (separable.depthwise_kernel, separable.pointwise_kernel)] == [
        (3, 3, 2), (1, 6, 6),
    ]  # fmt: skip
    assert list(dict(separable.named_parameters())) == [
        "depthwise.weight", "pointwise.weight", "pointwise.bias",
    ]  # fmt: skip


def test_initializers_draw_with_keras_fans() -> None:
    # Keras's fan_in for a depthwise kernel (3, 3, 16, 1) is 3*3*16 = 144 (torch's would be 9).
    init = kseq.initializers.VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform")
    layer = layers.DepthwiseConv2D(3, depthwise_initializer=init, bias_initializer="ones")
    layer.build((None, 6, 6, 16))
    limit = (3 / 144) ** 0.5
    kernel = layer.kernel.detach()
    assert kernel.abs().max() <= limit and kernel.abs().max() > 0.8 * limit
    assert torch.equal(layer.bias.detach(), torch.ones(16))


def test_regularizer_and_constraint_see_the_keras_layout() -> None:
    layer = layers.Conv2D(3, 2, kernel_regularizer=kseq.regularizers.L1(0.5))
    layer.build((None, 5, 5, 2))
    assert layer.losses[0].item() == pytest.approx(0.5 * layer.kernel.abs().sum().item(), rel=1e-6)

    # MaxNorm over Keras axes (0, 1, 2) bounds each *output filter*; in torch layout those axes
    # would mix filters, so this fails unless the constraint sees Keras's view.
    model = kseq.Sequential(
        [
            kseq.Input((6, 6, 2)),
            layers.Conv2D(4, 3, kernel_constraint=kseq.constraints.MaxNorm(0.1, axis=[0, 1, 2])),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 6, 6, 2), "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0)
    norms = model.layers[0].kernel.detach().pow(2).sum(dim=(0, 1, 2)).sqrt()
    assert torch.all(norms <= 0.1 + 1e-6), norms


def test_conv_model_trains_and_aliases_are_the_same_class() -> None:
    assert (
        layers.Convolution2D is layers.Conv2D
        and layers.Convolution3DTranspose is layers.Conv3DTranspose
    )
    assert layers.SeparableConvolution1D is layers.SeparableConv1D
    x = np.random.default_rng(1).standard_normal((64, 6, 6, 1)).astype("float32")
    y = (x[:, :3].mean(axis=(1, 2, 3)) > 0).astype("float32")
    model = kseq.Sequential(
        [
            kseq.Input((6, 6, 1)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.Conv2DTranspose(2, 2, strides=2),
            layers.SeparableConv2D(4, 3, strides=2, padding="same"),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=kseq.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert list(model.state_dict())[:2] == ["0.conv.weight", "0.conv.bias"]


def test_float64_policy() -> None:
    layer = layers.Conv1D(2, 3, dtype="float64")
    out = layer(torch.ones(1, 5, 2, dtype=torch.float64))
    assert out.dtype == torch.float64 and layer.conv.weight.dtype == torch.float64


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: layers.Conv2D(0, 3), "Expected a strictly positive value. Received filters=0"),
        (lambda: layers.Conv2D(5, 3, groups=2), "filters must be evenly divisible by the number of groups"),
        (lambda: layers.Conv2D(4, (3, 3, 3)), "The `kernel_size` argument must be a tuple of 2 integers"),
        (lambda: layers.Conv2D(4, 0), "that do not satisfy `value > 0`"),
        (lambda: layers.Conv2D(4, 3, padding="causal"), "The `padding` argument must be"),
        (lambda: layers.Conv1D(4, 3, strides=2, dilation_rate=2), "`strides > 1` not supported in conjunction"),
        (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2), "`output_padding` must be strictly less than `strides`"),
        (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "Received depth_multiplier=0"),
        (lambda: layers.Conv2D(4, 3, data_format="nhwc"), "The `data_format` argument must be one of"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_keras_errors(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_bad_input_shapes_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="expected min_ndim=4, found ndim=2"):
        kseq.Sequential([kseq.Input((64,)), layers.Conv2D(4, 3)])
    with pytest.raises(ValueError, match="input has 3 channels"):
        layers.Conv2D(4, 3, groups=2).build((None, 8, 8, 3))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        layers.Conv2D(4, 5).build((None, 3, 3, 1))
    with pytest.raises(ValueError, match="channel dimension of the inputs"):
        layers.Conv1D(4, 3).build((None, 10, None))
    built = layers.Conv2D(4, 3)
    built.build((None, 8, 8, 3))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        built.build_from_shape((None, 8, 8, 5))
