"""``layer.weights`` in Keras layout: one set of torch tensors, two faces.

Keras code reads ``layer.weights`` / ``variables`` / ``trainable_weights`` /
``non_trainable_weights`` and expects Keras's shapes, names, paths and order (every Keras tutorial
prints ``[w.shape for w in model.layers[1].weights]``); torch code reads ``parameters()`` /
``state_dict()`` and expects torch's. These tests build each layer type in Keras 3 and in kseq on
the same input and compare the Keras face item by item, then check that values, ``assign`` and
the torch face agree.

What the path comparison covers: a layer's variable path is
``<wrappers>/<layer name>[/<cell>]/<weight name>`` in both libraries (``b/forward_r/lstm_cell/kernel``
for a ``Bidirectional``'s forward LSTM), compared in full for layers built on their own. Keras 3
also prefixes the name of the *model* whose ``build`` created the variable (``sequential/dense/kernel``
when a ``Sequential`` is built from an ``Input``, but ``dense/kernel`` in a functional model); kseq
builds layers lazily and leaves models out of the path, so inside models the tests compare the path
from the owning layer's name on. Keras's ``variables`` also list a ``seed_generator_state`` for each
layer with dropout (recurrent layers): its RNG state as a variable; kseq's layers draw from torch's
generator and have no such variable, so those entries are left out of the comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import kseq

ATTRS = ("weights", "variables", "trainable_weights", "non_trainable_weights")


def layer_cases(layers: Any) -> list[tuple[str, Callable[[], Any], tuple[int, ...]]]:
    """``(id, make the layer, input shape)`` for one library's ``layers`` namespace."""
    return [
        ("Dense", lambda: layers.Dense(5, name="d"), (2, 3)),
        ("Conv1D", lambda: layers.Conv1D(4, 3, name="c"), (2, 7, 3)),
        ("Conv2D", lambda: layers.Conv2D(4, 3, name="c"), (2, 7, 7, 3)),
        ("Conv2DTranspose", lambda: layers.Conv2DTranspose(4, 3, strides=2, name="c"), (2, 5, 5, 3)),
        ("DepthwiseConv2D", lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, name="c"), (2, 7, 7, 3)),
        ("SeparableConv2D", lambda: layers.SeparableConv2D(4, 3, depth_multiplier=2, name="c"), (2, 7, 7, 3)),
        ("Embedding", lambda: layers.Embedding(10, 4, name="e"), (2, 5)),
        ("LSTM", lambda: layers.LSTM(6, name="r"), (2, 5, 3)),
        ("GRU", lambda: layers.GRU(6, name="r"), (2, 5, 3)),
        ("GRU_reset_before", lambda: layers.GRU(6, reset_after=False, name="r"), (2, 5, 3)),
        ("SimpleRNN", lambda: layers.SimpleRNN(6, name="r"), (2, 5, 3)),
        ("Bidirectional_LSTM", lambda: layers.Bidirectional(layers.LSTM(6, name="r"), name="b"), (2, 5, 3)),
        ("TimeDistributed_Dense", lambda: layers.TimeDistributed(layers.Dense(2, name="d"), name="t"), (2, 3, 4)),
        ("BatchNormalization", lambda: layers.BatchNormalization(name="n"), (2, 4)),
        ("LayerNormalization", lambda: layers.LayerNormalization(name="n"), (2, 4)),
        ("ConvLSTM2D", lambda: layers.ConvLSTM2D(4, 3, name="r"), (2, 3, 6, 6, 2)),
        ("Conv3D", lambda: layers.Conv3D(2, 2, name="c"), (1, 4, 4, 4, 2)),
        ("Conv1DTranspose", lambda: layers.Conv1DTranspose(2, 3, name="c"), (1, 5, 2)),
        ("SeparableConv1D", lambda: layers.SeparableConv1D(3, 3, name="c"), (1, 6, 2)),
        ("Conv2D_groups", lambda: layers.Conv2D(4, 3, groups=2, name="c"), (1, 5, 5, 4)),
        ("Dense_no_bias", lambda: layers.Dense(3, use_bias=False, name="d"), (2, 4)),
        ("LSTM_no_bias", lambda: layers.LSTM(3, use_bias=False, name="r"), (1, 4, 2)),
        ("Bidirectional_GRU", lambda: layers.Bidirectional(layers.GRU(3), name="b"), (1, 4, 2)),
        ("TimeDistributed_Conv2D", lambda: layers.TimeDistributed(layers.Conv2D(2, 2, name="c"), name="t"), (1, 2, 4, 4, 1)),
        ("BatchNormalization_renorm", lambda: layers.BatchNormalization(renorm=True, name="n"), (2, 4)),
        ("GroupNormalization", lambda: layers.GroupNormalization(2, name="g"), (2, 4)),
        ("PReLU", lambda: layers.PReLU(name="p"), (2, 4)),
        ("Normalization", lambda: layers.Normalization(name="n"), (2, 3)),
    ]  # fmt: skip


CASE_IDS = [case[0] for case in layer_cases(kseq.layers)]


def describe(variables: list[Any], *, model: str | None = None) -> list[tuple[Any, ...]]:
    """``(name, path, shape, trainable)`` per variable, without Keras's RNG-state variables;
    ``model``: the Keras model name to drop from the front of paths (see the module docstring)."""
    out = []
    for v in variables:
        if v.name == "seed_generator_state":
            continue
        path = v.path
        if model is not None:
            path = path.removeprefix(f"{model}/")
        out.append((v.name, path, tuple(v.shape), bool(v.trainable)))
    return out


def sample(shape: tuple[int, ...], case: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if case == "Embedding":
        return rng.integers(0, 10, size=shape).astype("int32")
    return rng.standard_normal(shape).astype("float32")


def both(keras: Any, case: str) -> tuple[Any, Any, np.ndarray]:
    """The same layer built in Keras and kseq on the same input, kseq holding Keras's values."""
    make_k = dict((c[0], c) for c in layer_cases(keras.layers))[case]
    make_q = dict((c[0], c) for c in layer_cases(kseq.layers))[case]
    x = sample(make_k[2], case)
    k_layer, q_layer = make_k[1](), make_q[1]()
    k_layer(x)
    q_layer(x)
    q_layer.set_weights(k_layer.get_weights())
    return k_layer, q_layer, x


def out(layer: Any, x: np.ndarray) -> np.ndarray:
    y = layer(x)
    y = y[0] if isinstance(y, (list, tuple)) else y
    return np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)


@pytest.mark.keras
@pytest.mark.parametrize("case", CASE_IDS)
def test_weights_lists_equal_keras(keras: Any, case: str) -> None:
    k_layer, q_layer, _ = both(keras, case)
    for attr in ATTRS:
        assert describe(getattr(q_layer, attr)) == describe(getattr(k_layer, attr)), attr
        assert all(isinstance(v, kseq.Variable) for v in getattr(q_layer, attr))


@pytest.mark.keras
@pytest.mark.parametrize("case", CASE_IDS)
def test_weights_values_equal_keras_and_get_weights(keras: Any, case: str) -> None:
    k_layer, q_layer, _ = both(keras, case)
    k_values = [v.numpy() for v in k_layer.weights if v.name != "seed_generator_state"]
    q_values = [v.numpy() for v in q_layer.weights]
    assert len(q_values) == len(k_values) == len(q_layer.get_weights())
    for mine, theirs, listed in zip(q_values, k_values, q_layer.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
        np.testing.assert_array_equal(mine, listed)


@pytest.mark.keras
@pytest.mark.parametrize("case", CASE_IDS)
def test_frozen_layer_lists_equal_keras(keras: Any, case: str) -> None:
    k_layer, q_layer, _ = both(keras, case)
    for trainable in (False, True):  # freezing, then unfreezing (statistics stay non-trainable)
        k_layer.trainable = q_layer.trainable = trainable
        for attr in ATTRS:
            assert describe(getattr(q_layer, attr)) == describe(getattr(k_layer, attr)), attr


@pytest.mark.keras
@pytest.mark.parametrize("case", CASE_IDS)
def test_assign_through_weights_changes_the_output_as_in_keras(keras: Any, case: str) -> None:
    k_layer, q_layer, x = both(keras, case)
    params_before = [id(p) for p in q_layer.parameters()]
    torch_shapes = {k: tuple(v.shape) for k, v in q_layer.state_dict().items()}
    before = out(q_layer, x)
    rng = np.random.default_rng(1)
    new = [rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) for w in q_layer.get_weights()]
    for variable, value in zip(q_layer.weights, new, strict=True):
        variable.assign(value)
    k_layer.set_weights(new)  # the reference: Keras's layer holding the same Keras-layout values
    after = out(q_layer, x)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, out(k_layer, x), rtol=1e-5, atol=1e-5)
    for mine, value in zip(q_layer.get_weights(), new, strict=True):
        np.testing.assert_array_equal(mine, value)
    # The torch face is untouched as objects and layout: same parameters, same state_dict shapes.
    assert [id(p) for p in q_layer.parameters()] == params_before
    assert {k: tuple(v.shape) for k, v in q_layer.state_dict().items()} == torch_shapes


@pytest.mark.keras
def test_lstm_and_conv_weights_in_a_model_equal_keras(keras: Any) -> None:
    def model(lib: Any) -> Any:
        layers = lib.layers
        return lib.Sequential([
            lib.Input((None,)), layers.Embedding(1000, 128, name="emb"),
            layers.LSTM(128, name="lstm"), layers.Dense(1, name="out"),
        ])  # fmt: skip

    k_model, q_model = model(keras), model(kseq)
    shapes = [tuple(w.shape) for w in q_model.layers[1].weights]
    assert shapes == [(128, 512), (128, 512), (512,)]  # the LSTM(128) on 128 features
    assert shapes == [tuple(w.shape) for w in k_model.layers[1].weights]
    for lib_model in (k_model, q_model):
        assert [w.name for w in lib_model.layers[1].weights] == [
            "kernel",
            "recurrent_kernel",
            "bias",
        ]
    assert describe(q_model.weights) == describe(k_model.weights, model=k_model.name)
    assert [w.path for w in q_model.weights][:2] == ["emb/embeddings", "lstm/lstm_cell/kernel"]

    def cnn(lib: Any) -> Any:
        layers = lib.layers
        return lib.Sequential([
            lib.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu", name="conv"),
            layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, name="head"),
        ])  # fmt: skip

    k_cnn, q_cnn = cnn(keras), cnn(kseq)
    assert [tuple(w.shape) for w in q_cnn.weights] == [(3, 3, 1, 32), (32,), (5408, 10), (10,)]
    assert describe(q_cnn.weights) == describe(k_cnn.weights, model=k_cnn.name)


def test_batchnorm_variables_have_keras_names_and_trainable_flags() -> None:
    bn = kseq.layers.BatchNormalization()
    bn(np.zeros((4, 3), "float32"))
    assert [(v.name, v.trainable) for v in bn.variables] == [
        ("gamma", True), ("beta", True), ("moving_mean", False), ("moving_variance", False),
    ]  # fmt: skip
    assert bn.moving_mean is bn.variables[2] and bn.gamma is bn.variables[0]
    bn.moving_mean.assign(np.full(3, 2.0, "float32"))  # a buffer, written through
    np.testing.assert_array_equal(bn.get_buffer("moving_mean").numpy(), np.full(3, 2.0))
    assert [n for n, _ in bn.named_parameters()] == ["gamma", "beta"]


def test_kernel_views_write_through_to_the_torch_parameter() -> None:
    dense = kseq.layers.Dense(2)
    dense.build((None, 3))
    weight = dense.linear.weight
    kernel = dense.weights[0]
    assert (
        kernel is dense.kernel and tuple(kernel.shape) == (3, 2) and tuple(weight.shape) == (2, 3)
    )
    kernel.assign(np.arange(6, dtype="float32").reshape(3, 2))
    np.testing.assert_array_equal(weight.detach().numpy(), np.arange(6).reshape(3, 2).T)
    kernel.assign_add(np.ones((3, 2), "float32"))
    kernel.assign_sub(np.full((3, 2), 0.5, "float32"))
    np.testing.assert_array_equal(kernel.numpy(), np.arange(6).reshape(3, 2) + 0.5)
    assert next(dense.parameters()) is weight
    assert list(dense.state_dict()) == ["linear.weight", "linear.bias"]
    y = dense(np.ones((1, 3), "float32"))
    np.testing.assert_allclose(y.detach().numpy(), [[0 + 2 + 4 + 1.5, 1 + 3 + 5 + 1.5]], rtol=1e-6)


def test_gru_kernel_assign_writes_torch_gate_order() -> None:
    gru = kseq.layers.GRU(2)
    gru(np.zeros((1, 3, 4), "float32"))
    kernel = gru.kernel  # Keras gate order (z, r, h); torch keeps (r, z, n): a mapped copy
    value = np.arange(24, dtype="float32").reshape(4, 6)
    kernel.assign(value)
    torch_weight = gru.gru.weight_ih_l0.detach().numpy()  # (3 * units, features), gates r, z, n
    np.testing.assert_array_equal(torch_weight[0:2], value[:, 2:4].T)  # r
    np.testing.assert_array_equal(torch_weight[2:4], value[:, 0:2].T)  # z
    np.testing.assert_array_equal(torch_weight[4:6], value[:, 4:6].T)  # n (Keras's h)
    np.testing.assert_array_equal(gru.weights[0].numpy(), value)
