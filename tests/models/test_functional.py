"""The functional API as Keras users write it: Model(inputs, outputs), shared layers, merges,
feature extractors, nesting, errors, plain-torch execution."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq
from kseq.layers import Dense, Input, add, concatenate
from kseq.models import Model, Sequential


def _canonical(lib):
    input1 = lib.layers.Input(shape=(10,))
    input2 = lib.layers.Input(shape=(5,))
    merged = lib.layers.concatenate([input1, input2])
    output = lib.layers.Dense(1)(merged)
    return lib.models.Model(inputs=[input1, input2], outputs=output)


def test_canonical_example_builds_calls_and_fits():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(64, 10)), rng.normal(size=(64, 5))
    y = a[:, :1] + b[:, :1]
    model = _canonical(kseq)
    assert model.output_shape == (None, 1)
    assert model.input_shape == [(None, 10), (None, 5)]
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer",
        "InputLayer",
        "Concatenate",
        "Dense",
    ]
    assert model([torch.ones(3, 10), torch.ones(3, 5)]).shape == (3, 1)
    assert model.predict([a, b], verbose=0).shape == (64, 1)
    model.compile(optimizer="adam", loss="mse")
    model.fit([a, b], y, epochs=5, verbose=0)


@pytest.mark.keras
def test_canonical_example_predicts_like_keras(keras):
    ours, theirs = _canonical(kseq), _canonical(keras)
    ours.set_weights(theirs.get_weights())
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(8, 10)).astype("float32"), rng.normal(size=(8, 5)).astype("float32")
    np.testing.assert_allclose(
        ours.predict([a, b], verbose=0), theirs.predict([a, b], verbose=0), atol=1e-5
    )
    assert [type(x).__name__ for x in ours.layers] == [type(x).__name__ for x in theirs.layers]
    assert theirs.output_names == [theirs.layers[-1].name]
    assert ours.output_names == [ours.layers[-1].name]


def test_shared_layer_shares_weights_and_add_merges():
    x = Input(shape=(4,))
    shared = Dense(4, name="shared")
    out = add([shared(x), shared(shared(x))])
    model = Model(x, out)
    assert model.count_params() == 20
    assert [layer.name for layer in model.layers][1:] == ["shared", "add"]
    data = torch.randn(5, 4)
    expected = shared(data) + shared(shared(data))
    torch.testing.assert_close(model(data), expected)
    assert list(model.state_dict()) == ["shared.linear.weight", "shared.linear.bias"]


def test_feature_extractor_from_a_trained_sequential():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    base = Sequential(
        [
            Input(shape=(8,)),
            Dense(16, activation="relu", name="hidden"),
            Dense(2, activation="softmax"),
        ]
    )
    base.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    base.fit(x, y, epochs=2, verbose=0)
    features = base.get_layer("hidden")(torch.as_tensor(x)).detach().numpy()
    for extractor in (
        Model(inputs=base.inputs, outputs=base.layers[-2].output),
        Model(base.input, base.get_layer("hidden").output),
    ):
        assert extractor.output_shape == (None, 16)
        np.testing.assert_allclose(extractor.predict(x, verbose=0), features, atol=1e-6)


def test_nesting_both_ways_trains():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    inner = Sequential([Input(shape=(8,)), Dense(8, activation="relu")])
    inp = Input(shape=(8,))
    outer = Model(inp, Dense(1)(inner(inp)))
    outer.compile(optimizer="adam", loss="mse")
    history = outer.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]

    fx = Input(shape=(8,))
    functional = Model(fx, Dense(8, activation="relu")(fx))
    stacked = Sequential([Input(shape=(8,)), functional, Dense(1)])
    stacked.compile(optimizer="adam", loss="mse")
    history = stacked.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_inputs_as_dict_and_outputs_as_list():
    a, b = Input(shape=(2,), name="a"), Input(shape=(3,), name="b")
    model = Model({"a": a, "b": b}, [Dense(1, name="y1")(a), Dense(2, name="y2")(b)])
    assert model.output_names == ["y1", "y2"]
    out = model({"a": np.ones((4, 2)), "b": np.ones((4, 3))})
    assert [tuple(t.shape) for t in out] == [(4, 1), (4, 2)]


def test_shape_error_names_both_layers():
    x = Input(shape=(4,))
    h = Dense(3, name="dense_in")(x)
    with pytest.raises(
        ValueError,
        match=r'Layer "conv" \(Conv2D\) cannot follow "dense_in" \(Dense\), which outputs shape \(None, 3\)',
    ):
        kseq.layers.Conv2D(2, 3, name="conv")(h)


def test_graph_errors():
    a, b = Input(shape=(2,)), Input(shape=(2,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(a, Dense(1)(b))
    with pytest.raises(ValueError, match="is passed twice in `inputs`"):
        Model([a, a], Dense(1)(a))
    x = Dense(2, name="twin")(a)
    with pytest.raises(ValueError, match='The name "twin" is used 2 times in the model'):
        Model(a, Dense(2, name="twin")(x))


def test_torch_export_and_compile():
    a, b = Input(shape=(3,)), Input(shape=(2,))
    model = Model([a, b], Dense(1)(concatenate([a, b])))
    args = ([torch.randn(4, 3), torch.randn(4, 2)],)
    exported = torch.export.export(model, args)
    torch.testing.assert_close(exported.module()(*args), model(*args))


def test_masks_propagate_through_the_graph():
    tokens = Input(shape=(5,), dtype="int64")
    emb = kseq.layers.Embedding(10, 4, mask_zero=True)(tokens)
    out = kseq.layers.LSTM(3)(emb)
    model = Model(tokens, out)
    seq = Sequential(
        [
            Input(shape=(5,), dtype="int64"),
            kseq.layers.Embedding(10, 4, mask_zero=True),
            kseq.layers.LSTM(3),
        ]
    )
    seq.set_weights(model.get_weights())
    ids = torch.tensor([[1, 2, 0, 0, 0], [3, 4, 5, 6, 7]])
    torch.testing.assert_close(model(ids), seq(ids))


def _two_output_model(lib):
    a = lib.Input(shape=(10,), name="a")
    b = lib.Input(shape=(5,), name="b")
    shared = lib.layers.Dense(4, name="shared")
    merged = lib.layers.concatenate(
        [shared(lib.layers.Dense(4, name="pa")(a)), lib.layers.Dense(4, name="pb")(b)], name="cat"
    )
    out = lib.layers.Dense(1, name="out")(merged)
    total = lib.layers.add([out, lib.layers.Dense(1, name="o2")(merged)], name="sum")
    return lib.Model([a, b], [total, out], name="two")


def _chain_model(lib):
    x = lib.Input(shape=(10,), name="inp")
    y = lib.layers.Dense(2, name="d2")(lib.layers.Dense(3, name="d1")(x))
    return lib.Model(x, y, name="chain")


@pytest.mark.keras
@pytest.mark.parametrize("build", [_two_output_model, _chain_model])
def test_summary_text_equals_keras(keras, build):
    texts = []
    for lib in (keras, kseq):
        lines: list[str] = []
        build(lib).summary(print_fn=lines.append)
        texts.append("".join(lines))
    assert "Connected to" in texts[0] or build is _chain_model
    assert texts[1] == texts[0]


def test_config_round_trip_and_clone_predict_the_same():
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    shared = Dense(3, name="shared")
    out = Dense(1, name="out")(concatenate([shared(a), b], name="cat"))
    model = Model([a, b], [out, shared(shared(a))], name="m")
    config = model.get_config()
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["out", 0, 0], ["shared", 2, 0]]
    for twin in (Model.from_config(config), kseq.models.clone_model(model)):
        twin.set_weights(model.get_weights())
        data = [np.ones((2, 3), "float32"), np.ones((2, 2), "float32")]
        for mine, theirs in zip(
            model.predict(data, verbose=0), twin.predict(data, verbose=0), strict=True
        ):
            np.testing.assert_allclose(mine, theirs)


@pytest.mark.keras
def test_keras_functional_config_loads_in_kseq_and_back(keras):
    theirs = _two_output_model(keras)
    ours = kseq.Model.from_config(theirs.get_config())
    ours.set_weights(theirs.get_weights())
    data = [np.ones((2, 10), "float32"), np.ones((2, 5), "float32")]
    for mine, ref in zip(
        ours.predict(data, verbose=0), theirs.predict(data, verbose=0), strict=True
    ):
        np.testing.assert_allclose(mine, ref, atol=1e-5)
    back = keras.Model.from_config(ours.get_config())
    back.set_weights(ours.get_weights())
    for mine, ref in zip(
        back.predict(data, verbose=0), theirs.predict(data, verbose=0), strict=True
    ):
        np.testing.assert_allclose(mine, ref, atol=1e-5)
