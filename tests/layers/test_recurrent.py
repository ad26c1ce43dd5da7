"""SimpleRNN / LSTM / GRU: Keras parity (outputs, masks, states, weights, configs), the fused kernel,
stateful layers, dropout, fallback options and error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _rnn_parity import (
    IDS,
    MASKS,
    assert_outputs_close,
    built_pair,
    jsonable,
    randomize,
    sequence_data,
)
from torch import nn

import kseq
from kseq.layers import GRU, LSTM, Dense, SimpleRNN

RNNS = ["SimpleRNN", "LSTM", "GRU"]
TORCH_MODULE = {"SimpleRNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
VF_KERNEL = {"SimpleRNN": "rnn_tanh", "LSTM": "lstm", "GRU": "gru"}


# ----------------------------------------------------------------------------------- parity
@pytest.mark.keras
@pytest.mark.parametrize("name", RNNS)
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_outputs_shapes_params_match_keras(keras, name, return_sequences, go_backwards):
    x = sequence_data()
    kwargs = dict(return_sequences=return_sequences, go_backwards=go_backwards)
    keras_layer, kseq_layer = built_pair(keras, name, (None, 6, 3), 5, **kwargs)
    assert kseq_layer.count_params() == keras_layer.count_params()
    assert [w.shape for w in kseq_layer.get_weights()] == [
        tuple(w.shape) for w in keras_layer.get_weights()
    ]
    got = kseq_layer(torch.as_tensor(x))
    assert_outputs_close(got, keras_layer(x))
    assert tuple(got.shape[1:]) == kseq_layer.compute_output_shape((None, 6, 3))[1:]
    assert kseq_layer.compute_output_shape((None, 6, 3)) == tuple(
        keras_layer.compute_output_shape((None, 6, 3))
    )


@pytest.mark.keras
@pytest.mark.parametrize("name", RNNS)
@pytest.mark.parametrize("mask", sorted(MASKS))
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_masked_outputs_and_states_match_keras(keras, name, mask, zero_output_for_mask):
    """Post-padded, pre-padded and holey masks, all outputs (sequence, last, states) and both
    directions, against Keras's per-step masked loop."""
    x = sequence_data()
    for go_backwards in (False, True):
        for return_sequences in (True, False):
            kwargs = dict(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards,
                          zero_output_for_mask=zero_output_for_mask)  # fmt: skip
            keras_layer, kseq_layer = built_pair(keras, name, (None, 6, 3), 4, **kwargs)
            expected = keras_layer(x, mask=MASKS[mask])
            got = kseq_layer(torch.as_tensor(x), mask=torch.as_tensor(MASKS[mask]))
            assert_outputs_close(got, expected)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("SimpleRNN", {"activation": "relu"}),  # fused: nn.RNN(nonlinearity="relu")
        ("SimpleRNN", {"activation": "softsign"}),  # loop
        ("LSTM", {"recurrent_activation": "hard_sigmoid"}),  # loop
        ("LSTM", {"use_bias": False, "unit_forget_bias": False}),
        ("GRU", {"reset_after": False}),  # loop
        ("GRU", {"use_bias": False}),
        ("GRU", {"activation": "relu"}),  # loop
    ],
)
def test_options_match_keras_with_and_without_mask(keras, name, kwargs):
    x = sequence_data()
    keras_layer, kseq_layer = built_pair(
        keras, name, (None, 6, 3), 4, return_sequences=True, **kwargs
    )
    assert kseq_layer.count_params() == keras_layer.count_params()
    assert_outputs_close(kseq_layer(torch.as_tensor(x)), keras_layer(x))
    assert_outputs_close(
        kseq_layer(torch.as_tensor(x), mask=torch.as_tensor(MASKS["pre"])),
        keras_layer(x, mask=MASKS["pre"]),
    )


@pytest.mark.keras
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_embedding_mask_zero_model_matches_keras(keras, name, padding, return_sequences):
    """Embedding(mask_zero=True) -> RNN -> Dense in a Sequential: the mask reaches the RNN."""

    def build(lib):
        return lib.Sequential([
            lib.Input((6,), dtype="int32"),
            lib.layers.Embedding(10, 4, mask_zero=True),
            getattr(lib.layers, name)(5, return_sequences=return_sequences),
            lib.layers.Dense(2),
        ])  # fmt: skip

    keras_model, kseq_model = build(keras), build(kseq)
    kseq_model.set_weights(randomize(keras_model))
    ids = IDS[padding]
    assert_outputs_close(kseq_model.predict(ids, verbose=0), keras_model.predict(ids, verbose=0))
    assert kseq_model.count_params() == keras_model.count_params()


@pytest.mark.keras
@pytest.mark.parametrize("name", RNNS)
def test_stacked_masked_rnns_match_keras(keras, name):
    """A return_sequences RNN forwards the mask to the next RNN, as in Keras."""

    def build(lib):
        rnn = getattr(lib.layers, name)
        return lib.Sequential([
            lib.Input((6,), dtype="int32"), lib.layers.Embedding(10, 3, mask_zero=True),
            rnn(4, return_sequences=True), rnn(3, go_backwards=True),
        ])  # fmt: skip

    keras_model, kseq_model = build(keras), build(kseq)
    kseq_model.set_weights(randomize(keras_model))
    assert_outputs_close(kseq_model(torch.as_tensor(IDS["pre"])), keras_model(IDS["pre"]))


@pytest.mark.keras
@pytest.mark.parametrize("name", RNNS)
def test_weights_round_trip_both_ways(keras, name):
    x = sequence_data()
    keras_layer, kseq_layer = built_pair(keras, name, (None, 6, 3), 4)
    for got, expected in zip(kseq_layer.get_weights(), keras_layer.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)
    # kseq -> Keras: train kseq's weights away from Keras's, copy them back, same outputs.
    with torch.no_grad():
        for p in kseq_layer.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    keras_layer.set_weights(kseq_layer.get_weights())
    assert_outputs_close(kseq_layer(torch.as_tensor(x)), keras_layer(x))


@pytest.mark.keras
@pytest.mark.parametrize("name", RNNS)
def test_initial_state_matches_keras(keras, name):
    x = sequence_data()
    n_states = 2 if name == "LSTM" else 1
    states = [
        np.random.default_rng(i).normal(size=(4, 4)).astype("float32") for i in range(n_states)
    ]
    keras_layer, kseq_layer = built_pair(keras, name, (None, 6, 3), 4, return_state=True)
    for mask in (None, MASKS["holes"]):
        expected = keras_layer(x, initial_state=states, mask=mask)
        got = kseq_layer(
            torch.as_tensor(x),
            initial_state=[torch.as_tensor(s) for s in states],
            mask=None if mask is None else torch.as_tensor(mask),
        )
        assert_outputs_close(got, expected)


@pytest.mark.keras
def test_one_sgd_step_matches_keras(keras):
    """Training parity: Keras's single LSTM bias is one parameter in kseq too (torch's second bias
    is a constant zero buffer), so the same SGD step gives the same weights."""
    x = sequence_data(batch=8)
    y = np.random.default_rng(1).normal(size=(8, 1)).astype("float32")

    def build(lib):
        return lib.Sequential([lib.Input((6, 3)), lib.layers.LSTM(4), lib.layers.Dense(1)])

    keras_model, kseq_model = build(keras), build(kseq)
    kseq_model.set_weights(randomize(keras_model))
    for model, lib in ((keras_model, keras), (kseq_model, kseq)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for got, expected in zip(kseq_model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.keras
@pytest.mark.parametrize("name", RNNS)
def test_config_equals_keras(keras, name):
    kwargs = dict(return_sequences=True, go_backwards=True, dropout=0.25, recurrent_dropout=0.5, seed=3,
                  kernel_regularizer="l2", activation="relu")  # fmt: skip
    if name == "GRU":
        kwargs["reset_after"] = False
    if name == "LSTM":
        kwargs["unit_forget_bias"] = False
    for layer_kwargs in ({}, kwargs):
        keras_layer = getattr(keras.layers, name)(7, name="rnn", **layer_kwargs)
        kseq_layer = getattr(kseq.layers, name)(7, name="rnn", **layer_kwargs)
        config = kseq_layer.get_config()
        assert jsonable(config) == jsonable(keras_layer.get_config())
        assert jsonable(type(kseq_layer).from_config(config).get_config()) == jsonable(config)


# ------------------------------------------------------------------------------ fused kernel
@pytest.mark.parametrize("name", RNNS)
@pytest.mark.parametrize("mask", [None, "pre"])
def test_forward_is_one_fused_kernel_call(monkeypatch, name, mask):
    layer = getattr(kseq.layers, name)(4, return_sequences=True)
    layer.build((None, 6, 3))
    assert type(layer.module) is TORCH_MODULE[name]
    kernel = VF_KERNEL[name]
    real, calls = getattr(torch._VF, kernel), []

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch._VF, kernel, spy)
    mask_arg = None if mask is None else torch.as_tensor(MASKS[mask])
    out = layer(torch.as_tensor(sequence_data()), mask=mask_arg)
    out.sum().backward()
    assert len(calls) == 1  # the whole (batch, time, features) sequence in one call
    assert layer.module.weight_ih_l0.grad is not None


def test_masked_lstm_cell_state_and_its_gradients_are_exact():
    """With a mask and return_state, LSTM's final cell state (recomputed in closed form from the
    fused outputs) and its gradients equal running each sequence alone on its valid steps."""
    layer = LSTM(3, return_state=True)
    layer.build((None, 6, 2))
    x = torch.as_tensor(sequence_data(batch=4, steps=6, features=2))
    mask = torch.as_tensor(MASKS["holes"])
    _, h, c = layer(x, mask=mask)
    (h.sum() + 2 * c.sum()).backward()
    grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    total = 0
    for row in range(4):
        if mask[row].any():
            _, h_row, c_row = layer(x[row : row + 1, mask[row]])
            torch.testing.assert_close(c_row[0], c[row].detach())
            total = total + h_row.sum() + 2 * c_row.sum()
        else:
            assert torch.equal(c[row], torch.zeros(3))  # no valid step: the initial state
    total.backward()
    for got, expected in zip(grads, [p.grad for p in layer.parameters()], strict=True):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", RNNS)
def test_masked_forward_and_backward_have_no_host_sync(monkeypatch, name):
    layer = getattr(kseq.layers, name)(3, return_sequences=True, return_state=True)
    layer.build((None, 6, 3))
    x, mask = torch.as_tensor(sequence_data()), torch.as_tensor(MASKS["pre"])

    def forbidden(*args, **kwargs):
        raise AssertionError("host sync in the masked recurrent path")

    for method in ("item", "cpu", "tolist", "numpy"):
        monkeypatch.setattr(torch.Tensor, method, forbidden)
    outputs = layer(x, mask=mask)
    sum(o.sum() for o in outputs).backward()
    # The sequence, then one final state per state tensor (h; LSTM: h and c), and gradients.
    assert [tuple(o.shape) for o in outputs] == [(4, 6, 3)] + [(4, 3)] * len(layer.state_size)
    assert layer.module.weight_hh_l0.grad.shape == layer.module.weight_hh_l0.shape


def test_options_without_a_kernel_take_the_loop(monkeypatch):
    calls = []
    monkeypatch.setattr(torch._VF, "gru", lambda *a, **k: calls.append(1))
    layer = GRU(3, reset_after=False)
    assert layer(torch.ones(2, 5, 4)).shape == (2, 3)
    assert calls == []


def test_recurrent_dropout_uses_the_loop_only_while_training(monkeypatch):
    layer = LSTM(3, recurrent_dropout=0.5, seed=1)
    x = torch.ones(2, 5, 4)
    real, calls = torch._VF.lstm, []
    monkeypatch.setattr(torch._VF, "lstm", lambda *a, **k: calls.append(1) or real(*a, **k))
    inference = layer(x, training=False)
    assert len(calls) == 1
    trained = layer(x, training=True)
    assert len(calls) == 1  # the training call ran the per-step loop
    assert not torch.allclose(inference, trained)


def test_bias_layout_and_trainable_parameters():
    lstm = LSTM(3)
    lstm.build((None, 2, 4))
    names = [n for n, _ in lstm.named_parameters()]
    assert names == ["lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0"]
    assert torch.equal(lstm.lstm.bias_hh_l0, torch.zeros(12))
    kernel, recurrent, bias = lstm.get_weights()
    assert (kernel.shape, recurrent.shape, bias.shape) == ((4, 12), (3, 12), (12,))
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])  # unit_forget_bias
    # recurrent kernel is orthogonal in Keras layout (rows of (units, 4*units))
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(3), atol=1e-5)
    gru = GRU(3)
    gru.build((None, 2, 4))
    assert [tuple(p.shape) for p in gru.parameters()] == [(9, 4), (9, 3), (9,), (9,)]
    assert gru.count_params() == 4 * 9 + 3 * 9 + 2 * 9


def test_gru_gate_order_swaps_update_and_reset_blocks():
    gru = GRU(2)
    gru.build((None, 1, 1))
    kernel = np.arange(6, dtype="float32").reshape(1, 6)  # Keras columns: z z r r h h
    gru.set_weights([kernel, np.zeros((2, 6), "float32"), np.zeros((2, 6), "float32")])
    assert gru.gru.weight_ih_l0.detach().flatten().tolist() == [
        2,
        3,
        0,
        1,
        4,
        5,
    ]  # torch: r r z z n n
    np.testing.assert_array_equal(gru.get_weights()[0], kernel)


# ----------------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("name", RNNS)
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("return_state", [True, False])
def test_compute_output_shape_equals_forward_shapes(name, return_sequences, return_state):
    layer = getattr(kseq.layers, name)(
        3, return_sequences=return_sequences, return_state=return_state
    )
    out = layer(torch.ones(2, 5, 4))
    shapes = layer.compute_output_shape((2, 5, 4))
    if return_state:
        assert [tuple(o.shape) for o in out] == shapes
        assert len(shapes) == (3 if name == "LSTM" else 2)
    else:
        assert tuple(out.shape) == shapes


def test_mask_passes_through_only_with_return_sequences():
    mask = torch.tensor([[True, False]])
    assert torch.equal(LSTM(2, return_sequences=True).compute_mask(torch.ones(1, 2, 3), mask), mask)
    assert LSTM(2).compute_mask(torch.ones(1, 2, 3), mask) is None
    assert LSTM(2, return_state=True).compute_mask(None, mask) == [None, None, None]


# --------------------------------------------------------------------------------- stateful
@pytest.mark.parametrize("name", RNNS)
def test_stateful_carries_states_between_batches(name):
    kwargs = dict(return_sequences=True)
    stateful = getattr(kseq.layers, name)(3, stateful=True, **kwargs)
    plain = getattr(kseq.layers, name)(3, **kwargs)
    x = torch.as_tensor(sequence_data(batch=2, steps=6))
    whole = plain(x)
    stateful.build((2, 6, 3))
    stateful.set_weights(plain.get_weights())
    first, second = stateful(x[:, :3]), stateful(x[:, 3:])
    torch.testing.assert_close(torch.cat([first, second], 1), whole)
    stateful.reset_states()
    torch.testing.assert_close(stateful(x[:, :3]), whole[:, :3])
    with pytest.raises(ValueError, match="Expected batch size: 2\n- Received batch size: 3"):
        stateful(torch.ones(3, 2, 3))


def test_stateful_lstm_with_mask_keeps_the_cell_state():
    lstm = LSTM(2, stateful=True)
    x = torch.as_tensor(sequence_data(batch=2, steps=4))
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    lstm(x, mask=mask)
    h1, c1 = [s.clone() for s in lstm.states]
    lstm.reset_states()
    lstm(x[:, :2])
    h2, c2 = lstm.states
    torch.testing.assert_close(h1[0], h2[0])  # the masked tail did not move sample 0's states
    torch.testing.assert_close(c1[0], c2[0])


# ---------------------------------------------------------------------------------- dropout
def test_input_dropout_mask_is_one_per_sequence():
    """Keras's fused path drops the same input features at every timestep."""
    rnn = SimpleRNN(
        4, activation="relu", dropout=0.5, use_bias=False, seed=0, return_sequences=True
    )
    rnn.build((None, 5, 4))
    rnn.set_weights([np.eye(4, dtype="float32"), np.zeros((4, 4), "float32")])
    out = rnn(torch.ones(8, 5, 4), training=True).detach()
    assert set(out.unique().tolist()) <= {0.0, 2.0}
    assert 0 < (out == 0).float().mean() < 1
    assert torch.equal(out, out[:, :1].expand_as(out))
    assert torch.equal(rnn(torch.ones(8, 5, 4), training=False), torch.ones(8, 5, 4))


def test_seeded_dropout_is_reproducible():
    x = torch.ones(4, 5, 3)
    a = LSTM(2, dropout=0.3, recurrent_dropout=0.3, seed=7)
    b = LSTM(2, dropout=0.3, recurrent_dropout=0.3, seed=7)
    a.build((None, 5, 3))
    b.build((None, 5, 3))
    b.set_weights(a.get_weights())
    torch.testing.assert_close(a(x, training=True), b(x, training=True))


# ------------------------------------------------------------------------------ in a model
def test_return_state_in_sequential_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r'Layer "dense" \(Dense\) expects 1 input, but "lstm" \(LSTM\) outputs 3'
    ):
        kseq.Sequential([kseq.Input((6, 3)), LSTM(2, return_state=True), Dense(1)])


def test_rnn_alone_keeps_sequential_on_the_plain_path():
    model = kseq.Sequential([kseq.Input((6, 3)), GRU(2), Dense(1, activation="sigmoid")])
    assert not model._mask_aware
    assert model._final_activation_split() is not None  # logits fusion stays available


def test_lstm_model_learns_a_sequence_task():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8, 2)).astype("float32")
    y = (x[:, :, 0].sum(1) > 0).astype("float32")
    model = kseq.Sequential([kseq.Input((8, 2)), LSTM(8), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.85


def test_torch_face_state_dict_round_trip():
    a, b = LSTM(3), LSTM(3)
    a.build((None, 4, 2))
    b.build((None, 4, 2))
    b.load_state_dict(a.state_dict())
    assert sorted(a.state_dict()) == ["lstm.bias_ih_l0", "lstm.weight_hh_l0", "lstm.weight_ih_l0"]
    x = torch.ones(1, 4, 2)
    torch.testing.assert_close(a(x), b(x))


# ----------------------------------------------------------------------------------- errors
def test_errors_use_keras_wording():
    with pytest.raises(ValueError, match="expected a positive integer, got 0"):
        LSTM(0)
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        GRU(2)(torch.ones(4, 3))
    with pytest.raises(ValueError, match="Expected one of {'auto', True, False}"):
        LSTM(2, use_cudnn="yes")
    with pytest.raises(ValueError, match="Pass use_cudnn='auto'"):
        GRU(2, reset_after=False, use_cudnn=True)(torch.ones(1, 2, 3))
    with pytest.raises(ValueError, match="expects 2 initial state tensor"):
        LSTM(2)(torch.ones(1, 2, 3), initial_state=[torch.zeros(1, 2)])
