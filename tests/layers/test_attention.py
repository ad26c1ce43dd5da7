"""Attention, AdditiveAttention and MultiHeadAttention: Keras's outputs, scores, masks, weights,
configs and files; keras.io's Transformer text classifier trained with ``fit``."""

from __future__ import annotations

import functools
from typing import Any
from unittest import mock

import numpy as np
import pytest
import torch

import kseq
from kseq import layers, ops
from tests.layers._layer_parity import assert_same_config, jsonable, to_numpy

RNG = np.random.default_rng(0)
Q = RNG.uniform(-1, 1, (2, 4, 6)).astype("float32")
V = RNG.uniform(-1, 1, (2, 5, 6)).astype("float32")
K = RNG.uniform(-1, 1, (2, 5, 6)).astype("float32")
Q_MASK = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
V_MASK = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], bool)


def _np(x: Any) -> np.ndarray:
    return to_numpy(x) if isinstance(x, torch.Tensor) else np.asarray(x)


def _same_weights(keras_layer: Any, kseq_layer: layers.Layer) -> None:
    assert [tuple(w.shape) for w in keras_layer.get_weights()] == [
        w.shape for w in kseq_layer.get_weights()
    ]
    rng = np.random.default_rng(1)
    weights = [rng.uniform(0.2, 0.8, w.shape).astype("float32") for w in keras_layer.get_weights()]
    keras_layer.set_weights(weights)
    kseq_layer.set_weights(weights)


def _close(got: Any, expected: Any, keras: Any, atol: float = 1e-5) -> None:
    np.testing.assert_allclose(_np(got), keras.ops.convert_to_numpy(expected), atol=atol)


# --------------------------------------------------------------- Attention / AdditiveAttention
LIST_CASES = [
    ("Attention", {}),
    ("Attention", {"use_scale": True}),
    ("Attention", {"score_mode": "concat"}),
    ("Attention", {"score_mode": "concat", "use_scale": True}),
    ("AdditiveAttention", {}),
    ("AdditiveAttention", {"use_scale": False}),
]


@pytest.mark.keras
@pytest.mark.parametrize(("name", "kwargs"), LIST_CASES)
@pytest.mark.parametrize("with_key", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_list_attention_equals_keras(
    keras: Any, name: str, kwargs: dict, with_key: bool, masked: bool, causal: bool
) -> None:
    keras_layer = getattr(keras.layers, name)(name="att", **kwargs)
    kseq_layer = getattr(layers, name)(name="att", **kwargs)
    inputs = [Q, V, K] if with_key else [Q, V]
    keras_layer.build([x.shape for x in inputs])
    kseq_layer.build([x.shape for x in inputs])
    _same_weights(keras_layer, kseq_layer)
    mask = [Q_MASK, V_MASK] if masked else None
    expected, expected_scores = keras_layer(
        inputs, mask=mask, return_attention_scores=True, use_causal_mask=causal
    )
    got, scores = kseq_layer(
        [torch.as_tensor(x) for x in inputs],
        mask=None if mask is None else [torch.as_tensor(m) for m in mask],
        return_attention_scores=True,
        use_causal_mask=causal,
    )
    _close(got, expected, keras)
    _close(scores, expected_scores, keras)
    assert kseq_layer.compute_output_shape([x.shape for x in inputs]) == tuple(
        keras_layer.compute_output_shape([x.shape for x in inputs])
    )
    if masked:
        assert torch.equal(got._keras_mask, torch.as_tensor(Q_MASK))  # the output's mask: query's
    assert_same_config(keras_layer, kseq_layer)


@pytest.mark.keras
def test_list_attention_weight_names_and_shapes_equal_keras(keras: Any) -> None:
    for name, kwargs in LIST_CASES:
        keras_layer = getattr(keras.layers, name)(name="att", **kwargs)
        kseq_layer = getattr(layers, name)(name="att", **kwargs)
        keras_layer.build([Q.shape, V.shape])
        kseq_layer.build([Q.shape, V.shape])
        assert [w.path for w in kseq_layer.weights] == [w.path for w in keras_layer.weights]
        assert [tuple(w.shape) for w in kseq_layer.weights] == [
            tuple(w.shape) for w in keras_layer.weights
        ]


def test_list_attention_errors_use_keras_wording() -> None:
    with pytest.raises(ValueError, match=r"Expected one of \{'dot', 'concat'\}"):
        layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match="Attention layer must be called on a list of inputs"):
        layers.Attention()(torch.ones(1, 2, 3))
    with pytest.raises(ValueError, match="accepts inputs list of length 2 or 3"):
        layers.AdditiveAttention()([torch.ones(1, 2, 3)])
    with pytest.raises(ValueError, match="mask must be a list, namely"):
        layers.Attention()([torch.ones(1, 2, 3), torch.ones(1, 2, 3)], mask=torch.ones(1, 2))


def test_attention_dropout_is_seeded_and_only_in_training() -> None:
    q, v = torch.as_tensor(Q), torch.as_tensor(V)
    first = layers.Attention(dropout=0.5, seed=3)
    second = layers.Attention(dropout=0.5, seed=3)
    a = first([q, v], training=True, return_attention_scores=True)[1]
    b = second([q, v], training=True, return_attention_scores=True)[1]
    assert torch.equal(a, b)
    assert (a == 0).any()
    inference = first([q, v], training=False, return_attention_scores=True)[1]
    torch.testing.assert_close(inference.sum(-1), torch.ones(2, 4))


@pytest.mark.keras
def test_functional_model_with_attention_equals_keras(keras: Any) -> None:
    def build(lib: Any) -> Any:
        q_in, v_in = lib.Input((4, 6)), lib.Input((5, 6))
        x = lib.layers.Attention(use_scale=True)([q_in, v_in])
        x = lib.layers.GlobalAveragePooling1D()(x)
        return lib.Model([q_in, v_in], lib.layers.Dense(3)(x))

    keras_model, kseq_model = build(keras), build(kseq)
    kseq_model.set_weights(keras_model.get_weights())
    assert kseq_model.output_shape == (None, 3)
    np.testing.assert_allclose(
        kseq_model.predict([Q, V], verbose=0), keras_model.predict([Q, V], verbose=0), atol=1e-5
    )


# ------------------------------------------------------------------------ MultiHeadAttention
def _mha_pair(keras: Any, *args: Any, shapes: tuple, **kwargs: Any) -> tuple[Any, Any]:
    keras_layer = keras.layers.MultiHeadAttention(*args, name="mha", **kwargs)
    kseq_layer = layers.MultiHeadAttention(*args, name="mha", **kwargs)
    keras_layer.build(*shapes)
    kseq_layer.build(*shapes)
    _same_weights(keras_layer, kseq_layer)
    return keras_layer, kseq_layer


def _both(keras_layer: Any, kseq_layer: Any, *tensors: np.ndarray, **kwargs: Any) -> tuple:
    expected = keras_layer(*tensors, **kwargs)
    converted = {
        k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    got = kseq_layer(*[torch.as_tensor(t) for t in tensors], **converted)
    return got, expected


MHA_CASES = [
    ({"num_heads": 2, "key_dim": 3}, "self"),
    ({"num_heads": 2, "key_dim": 3}, "cross"),
    ({"num_heads": 3, "key_dim": 4, "value_dim": 2}, "cross_key"),
    ({"num_heads": 2, "key_dim": 3, "output_shape": (4, 2)}, "cross"),
    ({"num_heads": 2, "key_dim": 3, "output_shape": 7, "use_bias": False}, "self"),
    ({"num_heads": 2, "key_dim": 3, "use_gate": True}, "cross"),
    ({"num_heads": 2, "key_dim": 3, "sliding_window": 2}, "self"),
]


@pytest.mark.keras
@pytest.mark.parametrize(("kwargs", "kind"), MHA_CASES)
@pytest.mark.parametrize(
    "call", [{}, {"return_attention_scores": True}, {"use_causal_mask": True}, {"mask": True}]
)
def test_mha_equals_keras(keras: Any, kwargs: dict, kind: str, call: dict) -> None:
    tensors = {"self": (Q, Q), "cross": (Q, V), "cross_key": (Q, V, K[..., :4])}[kind]
    keras_layer, kseq_layer = _mha_pair(keras, shapes=tuple(t.shape for t in tensors), **kwargs)
    call = dict(call)
    if call.pop("mask", False):
        t, s = tensors[0].shape[1], tensors[1].shape[1]
        call["attention_mask"] = RNG.uniform(size=(2, t, s)) > 0.3
    got, expected = _both(keras_layer, kseq_layer, *tensors, **call)
    if call.get("return_attention_scores"):
        _close(got[1], expected[1], keras)
        assert tuple(got[1].shape) == (2, kwargs["num_heads"], 4, tensors[1].shape[1])
        got, expected = got[0], expected[0]
    _close(got, expected, keras)
    shapes = [t.shape for t in tensors]
    assert kseq_layer.compute_output_shape(*shapes) == tuple(
        keras_layer.compute_output_shape(*shapes)
    )
    assert_same_config(keras_layer, kseq_layer)


@pytest.mark.keras
def test_mha_causal_mask_combines_with_attention_mask(keras: Any) -> None:
    keras_layer, kseq_layer = _mha_pair(keras, 2, 3, shapes=(Q.shape, Q.shape))
    mask = RNG.uniform(size=(2, 4, 4)) > 0.4
    for scores in (False, True):
        got, expected = _both(
            keras_layer,
            kseq_layer,
            Q,
            Q,
            attention_mask=mask,
            use_causal_mask=True,
            return_attention_scores=scores,
        )
        _close(got[0] if scores else got, expected[0] if scores else expected, keras)


@pytest.mark.keras
@pytest.mark.parametrize("scores", [False, True])
def test_mha_2d_attention_over_height_and_width(keras: Any, scores: bool) -> None:
    x = RNG.uniform(-1, 1, (2, 3, 4, 6)).astype("float32")
    keras_layer, kseq_layer = _mha_pair(keras, 2, 3, attention_axes=(1, 2), shapes=(x.shape,) * 2)
    got, expected = _both(keras_layer, kseq_layer, x, x, return_attention_scores=scores)
    if scores:
        assert tuple(got[1].shape) == tuple(expected[1].shape) == (2, 2, 3, 4, 3, 4)
        _close(got[1], expected[1], keras)
        got, expected = got[0], expected[0]
    _close(got, expected, keras)
    mask = RNG.uniform(size=(2, 3, 4, 3, 4)) > 0.3
    got, expected = _both(keras_layer, kseq_layer, x, x, attention_mask=mask)
    _close(got, expected, keras)


@pytest.mark.keras
def test_mha_weight_names_order_and_shapes_equal_keras(keras: Any) -> None:
    keras_layer, kseq_layer = _mha_pair(
        keras, 2, 3, value_dim=5, use_gate=True, shapes=(Q.shape, V.shape)
    )
    keras_names = [w.path.split("/", 1)[1] for w in keras_layer.weights]
    kseq_names = [
        f"{sub.name}/{n}" for sub in kseq_layer._sublayers() for n, _ in sub.named_parameters()
    ]
    assert kseq_names == keras_names  # query, key, gate, value, attention_output: kernel, bias
    assert [a.shape for a in kseq_layer.get_weights()] == [
        tuple(w.shape) for w in keras_layer.weights
    ]
    assert kseq_layer.count_params() == keras_layer.count_params()
    assert kseq_layer.query_dense.kernel.shape == (6, 2, 3)


@pytest.mark.keras
def test_mha_config_before_build_equals_keras_and_round_trips(keras: Any) -> None:
    kwargs = {"num_heads": 4, "key_dim": 8, "dropout": 0.1, "seed": 2, "kernel_regularizer": "l2"}
    keras_layer = keras.layers.MultiHeadAttention(name="m", **kwargs)
    kseq_layer = layers.MultiHeadAttention(name="m", **kwargs)
    assert_same_config(keras_layer, kseq_layer)
    keras_layer.build(Q.shape, V.shape)
    kseq_layer.build(Q.shape, V.shape)
    assert jsonable(kseq_layer.get_config()) == jsonable(keras_layer.get_config())
    assert jsonable(kseq_layer.get_build_config()) == jsonable(keras_layer.get_build_config())
    clone = layers.MultiHeadAttention.from_config(kseq_layer.get_config())
    clone.build_from_config(kseq_layer.get_build_config())
    assert [a.shape for a in clone.get_weights()] == [a.shape for a in kseq_layer.get_weights()]


def test_mha_builds_from_query_and_value_on_the_first_call() -> None:
    layer = layers.MultiHeadAttention(2, 8)
    out = layer(torch.ones(3, 4, 6), torch.ones(3, 5, 10))
    assert out.shape == (3, 4, 6)
    assert layer.built
    assert layer.key_dense.kernel.shape == (10, 2, 8)
    assert layer.get_build_config() == {
        "shapes_dict": {"query_shape": [3, 4, 6], "value_shape": [3, 5, 10]}
    }
    out = layer(np.ones((1, 4, 6), "float32"), np.ones((1, 2, 10), "float32"))
    assert out.shape == (1, 4, 6)


def test_mha_errors_use_keras_wording() -> None:
    with pytest.raises(ValueError, match="invalid value for argument `num_heads`"):
        layers.MultiHeadAttention(0, 2)
    with pytest.raises(ValueError, match="invalid value for argument `key_dim`"):
        layers.MultiHeadAttention(2, None)
    with pytest.raises(ValueError, match="Dropout is not supported when flash attention"):
        layers.MultiHeadAttention(2, 2, dropout=0.1, flash_attention=True)
    with pytest.raises(ValueError, match="All dimensions of `value` and `key`, except the last"):
        layers.MultiHeadAttention(2, 2)(
            torch.ones(1, 3, 4), torch.ones(1, 5, 4), torch.ones(1, 6, 4)
        )
    with pytest.raises(ValueError, match="`sliding_window` must be `None` or a positive integer"):
        layers.MultiHeadAttention(2, 2, sliding_window=0)


def test_mha_default_path_runs_scaled_dot_product_attention() -> None:
    layer = layers.MultiHeadAttention(2, 4)
    x = torch.randn(2, 5, 8)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    with mock.patch("torch.nn.functional.scaled_dot_product_attention", wraps=sdpa) as fast:
        layer(x, x)
        layer(x, x, use_causal_mask=True)
        assert fast.call_count == 2
        assert fast.call_args.kwargs["is_causal"] is True
        assert fast.call_args.kwargs["attn_mask"] is None
        layer(x, x, return_attention_scores=True)
        layers.MultiHeadAttention(2, 4, dropout=0.2)(x, x)
        assert fast.call_count == 2  # the scores and dropout paths are the einsum path


def test_mha_dropout_is_seeded_and_off_in_inference() -> None:
    x = torch.randn(2, 5, 8)
    a, b = (layers.MultiHeadAttention(2, 4, dropout=0.5, seed=1) for _ in range(2))
    a(x, x), b(x, x)
    b.set_weights(a.get_weights())
    out_a, scores_a = a(x, x, training=True, return_attention_scores=True)
    out_b, _ = b(x, x, training=True, return_attention_scores=True)
    torch.testing.assert_close(out_a, out_b)
    assert not torch.allclose(out_a, a(x, x))  # dropout was active in training
    torch.testing.assert_close(a(x, x), a(x, x))  # and is off in inference
    torch.testing.assert_close(scores_a.sum(-1), torch.ones(2, 2, 5))  # scores before dropout


# ---------------------------------------------------------------- masks through a model
def _self_attention_class(lib: Any) -> type:
    class SelfAttention(lib.layers.Layer):
        """Masked self-attention, written as Keras users write it."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.att = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4)
            self.supports_masking = True

        def build(self, input_shape: Any) -> None:
            self.att.build(input_shape, input_shape)

        def call(self, x: Any, mask: Any = None) -> Any:
            return self.att(x, x, query_mask=mask, value_mask=mask)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

    return SelfAttention


@pytest.mark.keras
def test_embedding_padding_mask_reaches_the_attention(keras: Any) -> None:
    def build(lib: Any) -> Any:
        ids = lib.Input((6,), dtype="int32")
        x = lib.layers.Embedding(20, 8, mask_zero=True)(ids)
        x = _self_attention_class(lib)()(x)
        return lib.Model(ids, lib.layers.GlobalAveragePooling1D()(x))

    keras_model, kseq_model = build(keras), build(kseq)
    kseq_model.set_weights(keras_model.get_weights())
    ids = np.array([[3, 5, 7, 0, 0, 0], [1, 2, 3, 4, 5, 6], [9, 0, 0, 0, 0, 0]], "int32")
    expected = keras_model.predict(ids, verbose=0)
    np.testing.assert_allclose(kseq_model.predict(ids, verbose=0), expected, atol=1e-5)
    # Padding takes no part: other embeddings for id 0 leave every prediction unchanged.
    embedding = kseq_model.layers[1]
    weights = embedding.get_weights()[0]
    weights[0] = 10.0
    embedding.set_weights([weights])
    np.testing.assert_allclose(kseq_model.predict(ids, verbose=0), expected, atol=1e-5)


def test_mha_reads_the_masks_the_tensors_carry() -> None:
    layer = layers.MultiHeadAttention(2, 4)
    x = torch.randn(1, 4, 8)
    mask = torch.tensor([[True, True, False, False]])
    explicit = layer(x, x, query_mask=mask, value_mask=mask)
    carried = x.clone()
    carried._keras_mask = mask
    torch.testing.assert_close(layer(carried, carried), explicit)
    assert torch.equal(explicit._keras_mask, mask)
    # Masked keys do not contribute: changing them leaves the unmasked rows unchanged.
    changed = x.clone()
    changed[:, 2:] = 5.0
    torch.testing.assert_close(
        layer(changed, changed, query_mask=mask, value_mask=mask)[:, :2], explicit[:, :2]
    )


# ------------------------------------------------------------------ functional graphs
@pytest.mark.xfail(
    strict=False, reason="needs symbolic calls with several tensor arguments (branch fsave)"
)
def test_mha_called_directly_on_keras_tensors() -> None:
    inputs = layers.Input((5, 8))
    x = layers.MultiHeadAttention(2, 8)(inputs, inputs)
    model = kseq.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling1D()(x)))
    assert x.shape == (None, 5, 8)
    assert model.predict(np.ones((2, 5, 8), "float32"), verbose=0).shape == (2, 1)


class TokenAndPositionEmbedding(layers.Layer):
    """keras.io "Text classification with Transformer", verbatim but for the import."""

    def __init__(self, maxlen: int, vocab_size: int, embed_dim: int) -> None:
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x: Any) -> Any:
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int, rate: float = 0.1) -> None:
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = kseq.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs: Any) -> Any:
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


def test_keras_io_transformer_text_classifier_trains() -> None:
    kseq.utils.set_random_seed(0)
    vocab_size, maxlen, embed_dim, num_heads, ff_dim = 40, 16, 16, 2, 16
    rng = np.random.default_rng(0)
    x = rng.integers(1, vocab_size, (768, maxlen))
    # The label is whether token 7 appears before token 9 (order matters; absent = position 99).
    first = lambda t: np.where((x == t).any(1), (x == t).argmax(1), 99)  # noqa: E731
    x[:256, rng.integers(0, maxlen, 256)] = 7
    y = (first(7) < first(9)).astype("int64")
    inputs = layers.Input(shape=(maxlen,))
    x_emb = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)(inputs)
    h = TransformerBlock(embed_dim, num_heads, ff_dim)(x_emb)
    h = layers.GlobalAveragePooling1D()(h)
    h = layers.Dropout(0.1)(h)
    h = layers.Dense(20, activation="relu")(h)
    h = layers.Dropout(0.1)(h)
    outputs = layers.Dense(2, activation="softmax")(h)
    model = kseq.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x[:640], y[:640], batch_size=32, epochs=12, validation_data=(x[640:], y[640:]), verbose=0
    )
    chance = max(y.mean(), 1 - y.mean())
    assert history.history["val_accuracy"][-1] > chance + 0.1, (chance, history.history)


# ------------------------------------------------------------------ files, both ways
@functools.cache
def _registered(lib_name: str) -> type:
    lib = kseq if lib_name == "kseq" else pytest.importorskip("keras")

    @lib.saving.register_keras_serializable(package="kseq_attention_test")
    class GatedSelfAttention(lib.layers.Layer):
        def __init__(self, heads: int = 2, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.heads = heads
            self.att = lib.layers.MultiHeadAttention(heads, 4, use_gate=True)

        def build(self, input_shape: Any) -> None:
            self.att.build(input_shape, input_shape)

        def call(self, x: Any) -> Any:
            return self.att(x, x)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

        def get_config(self) -> dict:
            return {**super().get_config(), "heads": self.heads}

    return GatedSelfAttention


def _file_model(lib: Any) -> Any:
    cls = _registered("kseq" if lib is kseq else "keras")
    return lib.Sequential([lib.Input((3, 6)), cls(), lib.layers.Dense(2)])


@pytest.mark.keras
@pytest.mark.parametrize("kind", ["weights", "model"])
def test_mha_files_load_in_keras_and_back(keras: Any, tmp_path: Any, kind: str) -> None:
    x = RNG.uniform(-1, 1, (4, 3, 6)).astype("float32")
    ours, theirs = _file_model(kseq), _file_model(keras)
    suffix = ".weights.h5" if kind == "weights" else ".keras"
    ours.save_weights(tmp_path / f"a{suffix}") if kind == "weights" else ours.save(
        tmp_path / f"a{suffix}"
    )
    if kind == "weights":
        theirs.load_weights(tmp_path / f"a{suffix}")
    else:
        theirs = keras.models.load_model(tmp_path / f"a{suffix}")
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0), atol=1e-5)
    theirs = _file_model(keras)  # fresh Keras weights, back into kseq
    if kind == "weights":
        theirs.save_weights(tmp_path / f"b{suffix}")
        back = _file_model(kseq)
        back.load_weights(tmp_path / f"b{suffix}")
    else:
        theirs.save(tmp_path / f"b{suffix}")
        back = kseq.models.load_model(tmp_path / f"b{suffix}")
    np.testing.assert_allclose(back.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-5)
