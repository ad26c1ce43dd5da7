"""Ops and Python operators on symbolic tensors in functional models, as Keras code writes them:
``x + residual``, ``inputs / 255.0``, ``ops.mean(x, axis=1)``, ``x[:, 0]``, a mask from
``ops.not_equal(tokens, 0)``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq
from kseq import ops

RNG = np.random.default_rng(0)


def _pooling_model(lib, ops_module):
    tokens = lib.Input((None,), dtype="int32")
    mask = ops_module.cast(ops_module.not_equal(tokens, 0), "float32")
    x = lib.layers.Embedding(50, 8)(tokens)
    x = x + lib.layers.Dense(8)(x)  # a residual, written with +
    summed = ops_module.sum(x * ops_module.expand_dims(mask, -1), axis=1)
    pooled = summed / (ops_module.sum(mask, axis=1, keepdims=True) + 1e-6)
    return lib.Model(tokens, lib.layers.Dense(1, activation="sigmoid")(pooled * 0.5))


def _tokens(n: int = 64) -> np.ndarray:
    x = RNG.integers(1, 50, (n, 10))
    x[:, 7:] = 0
    return x


def test_ops_between_layers_train_and_predict() -> None:
    model = _pooling_model(kseq, ops)
    x = _tokens(256)
    y = (x[:, :7] > 25).mean(axis=1) > 0.5
    model.compile(optimizer=kseq.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(x, y.astype("float32"), epochs=20, verbose=0)
    assert history.history["accuracy"][-1] > 0.8
    assert [op.name for op in model.operations][:5] == [
        "input_layer", "embedding", "not_equal", "dense", "cast",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("expression", "reference"),
    [
        (lambda x: x + 1.0, lambda t: t + 1.0),
        (lambda x: 1.0 - x, lambda t: 1.0 - t),
        (lambda x: 2.0 * x / 4.0, lambda t: 2.0 * t / 4.0),
        (lambda x: 10.0 / (x + 3.0), lambda t: 10.0 / (t + 3.0)),
        (lambda x: x**2 + abs(-x), lambda t: t**2 + t.abs()),
        (lambda x: x // 0.5 + x % 0.5, lambda t: t // 0.5 + t % 0.5),
        (lambda x: x @ ops.ones((3, 2)), lambda t: t @ torch.ones(3, 2)),
        (lambda x: x[:, 1:], lambda t: t[:, 1:]),
        (lambda x: x[..., 0], lambda t: t[..., 0]),
        (lambda x: ops.cast(x > 0.5, "float32"), lambda t: (t > 0.5).float()),
        (lambda x: ops.concatenate([x, -x], axis=-1), lambda t: torch.cat([t, -t], -1)),
        (lambda x: ops.mean(x, axis=-1, keepdims=True), lambda t: t.mean(-1, keepdim=True)),
    ],
)
def test_each_operator_computes_what_it_says(expression, reference) -> None:
    inputs = kseq.Input((3,))
    model = kseq.Model(inputs, expression(inputs))
    data = RNG.random((4, 3)).astype("float32")
    expected = reference(torch.from_numpy(data)).numpy()
    assert model.outputs[0].shape[1:] == expected.shape[1:]
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-6)


def test_ops_survive_save_load_and_clone(tmp_path) -> None:
    model = _pooling_model(kseq, ops)
    x = _tokens()
    path = tmp_path / "ops.keras"
    model.save(path)
    for copy in (kseq.models.load_model(path), kseq.Model.from_config(model.get_config())):
        if copy is not None:
            copy.set_weights(model.get_weights())
            np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0),
                                       atol=1e-6)  # fmt: skip
    clone = kseq.models.clone_model(model)
    assert [type(layer).__name__ for layer in clone.layers] == [
        type(layer).__name__ for layer in model.layers
    ]


def test_what_cannot_be_symbolic_says_so() -> None:
    x = kseq.Input((3,))
    with pytest.raises(NotImplementedError, match="Iterating over a symbolic tensor"):
        list(x)
    with pytest.raises(TypeError, match="cannot be used as a Python boolean"):
        bool(x > 0)
    with pytest.raises(ValueError, match="takes tensors and Python constants; received object"):
        ops.add(x, object())


def test_real_tensors_never_take_the_symbolic_path() -> None:
    assert torch.equal(ops.add(torch.ones(2), 1.0), torch.full((2,), 2.0))
    with pytest.raises(ValueError, match="Cannot convert object with dtype object"):
        ops.add(torch.ones(2), object())  # the op's own error, unchanged


@pytest.mark.keras
def test_same_graph_as_keras(keras) -> None:
    ours, theirs = _pooling_model(kseq, ops), _pooling_model(keras, keras.ops)
    theirs.set_weights(ours.get_weights())
    x = _tokens()
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=1e-5)  # fmt: skip
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [op.name for op in ours.operations] == [op.name for op in theirs.operations]
