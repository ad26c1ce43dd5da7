"""Normalization layers against Keras 3: BatchNormalization (training output, moving statistics,
frozen behaviour in ``fit``, masks, renorm, weight layout), LayerNormalization, GroupNormalization,
UnitNormalization and RMSNormalization."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
from _layer_parity import ATOL, assert_same_layer, built_pair, keras_call, kseq_call, to_numpy
from _sync_bn_worker import run_rank

import kseq
from kseq.layers import (
    BatchNormalization,
    Dense,
    GroupNormalization,
    Input,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)


def _data(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(1.0, 2.0, size=shape).astype("float32")


# ------------------------------------------------------------------ BatchNormalization
BN_CASES = {
    "dense": ((8, 5), {}),
    "image_channels_last": ((4, 3, 3, 5), {}),
    "sequence_axis_1": ((4, 5, 3), {"axis": 1}),
    "no_center_no_scale": ((8, 5), {"center": False, "scale": False}),
    "momentum_eps": ((6, 4), {"momentum": 0.5, "epsilon": 1e-5}),
}


@pytest.mark.keras
@pytest.mark.parametrize("case", BN_CASES)
def test_batch_normalization_matches_keras_in_both_modes(keras, case: str) -> None:
    shape, kwargs = BN_CASES[case]
    x = _data(*shape)
    keras_bn, bn = built_pair(
        keras, "BatchNormalization", (None, *shape[1:]), random_weights=True, **kwargs
    )
    np.testing.assert_allclose(
        kseq_call(bn, x, training=False), keras_call(keras, keras_bn, x, training=False), atol=ATOL
    )
    for step in range(2):  # the training output, then the moving statistics it left behind
        x = _data(*shape, seed=step + 1)
        np.testing.assert_allclose(
            kseq_call(bn, x, training=True),
            keras_call(keras, keras_bn, x, training=True),
            atol=ATOL,
        )
        for got, expected in zip(bn.get_weights(), keras_bn.get_weights(), strict=True):
            np.testing.assert_allclose(got, expected, atol=ATOL, rtol=1e-6)


def test_batch_normalization_moving_statistics_use_the_biased_variance() -> None:
    bn = BatchNormalization(momentum=0.9)
    x = torch.tensor([[1.0], [2.0], [3.0], [6.0]])
    bn(x, training=True)
    batch_var = x.var(unbiased=False).item()  # 3.5 (torch's running_var would use 4.667)
    assert bn.moving_mean.item() == pytest.approx(0.9 * 0 + 0.1 * 3.0)
    assert bn.moving_variance.item() == pytest.approx(0.9 * 1 + 0.1 * batch_var)
    bn.eval()
    before = [w.copy() for w in bn.get_weights()]
    bn(x)  # inference never updates the statistics
    assert all(np.array_equal(a, b) for a, b in zip(before, bn.get_weights(), strict=True))


def test_batch_normalization_weights_layout_and_counts() -> None:
    model = kseq.Sequential([Input((5,)), Dense(4), BatchNormalization()])
    bn = model.layers[-1]
    assert [tuple(w.shape) for w in bn.get_weights()] == [(4,)] * 4
    assert [k for k in bn.state_dict()] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    assert model.count_params() == 24 + 16
    gamma, beta, mean, var = (np.arange(4, dtype="float32") + i for i in range(4))
    bn.set_weights([gamma, beta, mean, var])
    np.testing.assert_array_equal(bn.gamma.detach().numpy(), gamma)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), var)
    no_beta = BatchNormalization(center=False)
    no_beta.build((None, 3))
    assert [k for k in no_beta.state_dict()] == ["gamma", "moving_mean", "moving_variance"]


@pytest.mark.keras
def test_batch_normalization_with_mask_matches_keras(keras) -> None:
    x = _data(3, 4, 2)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 0]], dtype=bool)
    keras_bn, bn = built_pair(keras, "BatchNormalization", (None, 4, 2), random_weights=True)
    expected = keras_call(keras, keras_bn, x, training=True, mask=mask)
    got = kseq_call(bn, x, training=True, mask=torch.as_tensor(mask))
    np.testing.assert_allclose(got, expected, atol=ATOL)
    for a, b in zip(bn.get_weights(), keras_bn.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=ATOL)
    with pytest.raises(ValueError, match="one dimension less than the inputs"):
        bn(torch.as_tensor(x), training=True, mask=torch.ones(3, 4, 2, dtype=torch.bool))


@pytest.mark.keras
def test_batch_renormalization_matches_keras(keras) -> None:
    kwargs = {
        "renorm": True,
        "renorm_clipping": {"rmax": 1.5, "rmin": 0.7, "dmax": 0.5},
        "renorm_momentum": 0.6,
    }
    keras_bn, bn = built_pair(keras, "BatchNormalization", (None, 3), **kwargs)
    assert len(bn.get_weights()) == 7
    for step in range(3):
        x = _data(6, 3, seed=step) * (step + 1)
        np.testing.assert_allclose(
            kseq_call(bn, x, training=True),
            keras_call(keras, keras_bn, x, training=True),
            atol=ATOL,
        )
    for a, b in zip(bn.get_weights(), keras_bn.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=ATOL)
    np.testing.assert_allclose(
        kseq_call(bn, x, training=False), keras_call(keras, keras_bn, x, training=False), atol=ATOL
    )


@pytest.mark.keras
@pytest.mark.parametrize("renorm", [False, True])
def test_batch_normalization_config_matches_keras(keras, renorm: bool) -> None:
    assert_same_layer(
        keras,
        "BatchNormalization",
        _data(4, 3),
        renorm=renorm,
        momentum=0.9,
        gamma_regularizer="l2",
    )


def test_batch_normalization_argument_errors() -> None:
    with pytest.raises(ValueError, match="invalid keys for `renorm_clipping`"):
        BatchNormalization(renorm=True, renorm_clipping={"rmaxx": 1.0})
    with pytest.raises(ValueError, match="rmax should be greater than rmin"):
        BatchNormalization(renorm=True, renorm_clipping={"rmax": 1.0, "rmin": 2.0})
    with pytest.raises(ValueError, match="Axis 3 is out of bounds"):
        BatchNormalization(axis=3).build((None, 4))
    with pytest.raises(ValueError, match="should have a defined dimension"):
        BatchNormalization().build((None, None))
    built = BatchNormalization()
    built.build((None, 4))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        built.build_from_shape((None, 3))
    with pytest.raises(ValueError, match="cannot follow"):
        kseq.Sequential([Input((4, 2)), BatchNormalization(axis=3)])


def test_batch_normalization_single_sample_in_training_does_not_crash() -> None:
    bn = BatchNormalization(beta_initializer="ones")
    out = bn(
        torch.tensor([[5.0, -1.0]]), training=True
    )  # torch's kernel refuses 1 value per channel
    np.testing.assert_allclose(out.detach().numpy(), [[1.0, 1.0]])
    np.testing.assert_allclose(bn.moving_mean.numpy(), [0.05, -0.01], rtol=1e-5)


def test_batch_normalization_half_precision_inputs_compute_in_float32() -> None:
    bn = BatchNormalization()
    x = torch.randn(16, 3) * 100
    reference = bn(x, training=True)
    bn2 = BatchNormalization()
    out = bn2(x.to(torch.bfloat16), training=True)
    assert out.dtype == torch.bfloat16 and bn2.moving_mean.dtype == torch.float32
    torch.testing.assert_close(out.float(), reference, atol=0.05, rtol=0.02)


def _fit_model(trainable_bn: bool) -> tuple[kseq.Sequential, BatchNormalization]:
    model = kseq.Sequential([Input((3,)), Dense(4), BatchNormalization(), Dense(1)])
    bn = model.layers[1]
    bn.trainable = trainable_bn
    model.compile(optimizer="sgd", loss="mse")
    return model, bn


def test_frozen_batch_normalization_is_inference_mode_in_fit() -> None:
    x, y = _data(32, 3), _data(32, 1)
    model, bn = _fit_model(trainable_bn=False)
    bn.set_weights([np.full(4, 2.0), np.full(4, 0.5), np.full(4, 0.1), np.full(4, 3.0)])
    before = bn.get_weights()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    for a, b in zip(before, bn.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # neither gamma/beta nor the moving statistics moved
    h = torch.randn(5, 4)
    torch.testing.assert_close(bn(h, training=True), bn(h, training=False))
    # A trainable one does update its statistics in fit.
    model, bn = _fit_model(trainable_bn=True)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert not np.allclose(bn.moving_mean.numpy(), 0.0)


@pytest.mark.keras
def test_batch_normalization_model_fit_matches_keras(keras) -> None:
    x, y = _data(16, 3), _data(16, 1, seed=1)

    def build(lib):
        return lib.Sequential(
            [
                lib.Input((3,)),
                lib.layers.Dense(4),
                lib.layers.BatchNormalization(momentum=0.8),
                lib.layers.Dense(1),
            ]
        )

    keras_model, model = build(keras), build(kseq)
    model.set_weights(keras_model.get_weights())
    for m, lib in ((keras_model, keras), (model, kseq)):
        m.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
        m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), keras_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), keras_model.predict(x, verbose=0), atol=1e-5
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("KSEQ_RUN_SLOW"),
    reason="spawns two gloo ranks (~15 s on 2 cores); run with KSEQ_RUN_SLOW=1",
)
def test_synchronized_batch_normalization_equals_one_big_batch() -> None:
    import socket

    import torch.multiprocessing as mp

    x = _data(8, 3)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=run_rank, args=(r, 2, port, x, queue)) for r in range(2)]
    for p in procs:
        p.start()
    results = dict((r, rest) for r, *rest in (queue.get(timeout=60) for _ in procs))
    for p in procs:
        p.join(timeout=60)
    full = torch.tensor(x, requires_grad=True)
    bn = BatchNormalization(momentum=0.5)
    out = bn(full, training=True)
    (out * torch.arange(1.0, 4.0)).sum().backward()
    np.testing.assert_allclose(
        np.concatenate([results[r][0] for r in (0, 1)]), to_numpy(out), atol=1e-5
    )
    np.testing.assert_allclose(
        np.concatenate([results[r][1] for r in (0, 1)]), full.grad.numpy(), atol=1e-5
    )
    for got, expected in zip(results[0][2], bn.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_synchronized_statistics_path_in_a_one_rank_group(tmp_path, monkeypatch) -> None:
    # A real gloo group of one rank, reported as two: the all-reduce path runs (sums, differentiable
    # all_reduce, E[x^2] - E[x]^2) and must reproduce the local statistics, gradients and updates.
    import torch.distributed as dist

    from kseq.layers import batch_normalization

    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    try:
        monkeypatch.setattr(batch_normalization.dist, "get_world_size", lambda *a, **k: 2)
        x = torch.tensor(_data(6, 3))
        results = []
        for synchronized in (True, False):
            bn = BatchNormalization(synchronized=synchronized, momentum=0.5)
            assert bn._synchronizing() is synchronized
            xi = x.clone().requires_grad_(True)
            out = bn(xi, training=True)
            (out * torch.arange(1.0, 4.0)).sum().backward()
            results.append((out.detach(), xi.grad, *(torch.as_tensor(w) for w in bn.get_weights())))
        for got, expected in zip(*results, strict=True):
            torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    finally:
        dist.destroy_process_group()


def test_synchronized_without_a_process_group_uses_local_statistics() -> None:
    x = torch.randn(6, 2)
    torch.testing.assert_close(
        BatchNormalization(synchronized=True)(x, training=True),
        BatchNormalization()(x, training=True),
    )


# ------------------------------------------------------------------ LayerNormalization
@pytest.mark.keras
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((4, 6), {}),
        ((2, 3, 4), {"axis": (1, 2)}),
        ((2, 3, 4), {"center": False, "epsilon": 1e-5}),
        ((2, 3, 4), {"scale": False, "beta_initializer": "ones"}),
    ],
)
def test_layer_normalization_matches_keras(keras, shape: tuple[int, ...], kwargs: dict) -> None:
    assert_same_layer(keras, "LayerNormalization", _data(*shape), **kwargs)


@pytest.mark.keras
def test_layer_normalization_rms_scaling_matches_keras_and_warns(keras) -> None:
    with pytest.warns(UserWarning, match="rms_scaling=True"):
        keras_ln = keras.layers.LayerNormalization(rms_scaling=True, name="layer")
    with pytest.warns(UserWarning, match="rms_scaling=True"):
        ln = LayerNormalization(rms_scaling=True, name="layer")
    x = _data(3, 5)
    keras_ln.build((None, 5))
    ln.build((None, 5))
    keras_ln.set_weights([np.linspace(0.5, 1.5, 5, dtype="float32")])
    ln.set_weights(keras_ln.get_weights())
    with warnings.catch_warnings(record=True) as caught:  # Keras warns again at each call
        warnings.simplefilter("always")
        expected = keras_call(keras, keras_ln, x)
    assert any("rms_scaling=True" in str(w.message) for w in caught)
    np.testing.assert_allclose(kseq_call(ln, x), expected, atol=ATOL)


def test_layer_normalization_normalizes_the_requested_non_trailing_axis() -> None:
    # Keras on torch normalizes the last axis here (F.layer_norm ignores where `axis` is); kseq
    # normalizes axis 1, as the Keras docs (and Keras on TF/JAX) say.
    x = _data(2, 4, 3)
    ln = LayerNormalization(axis=1, gamma_initializer="ones")
    got = kseq_call(ln, x)
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    np.testing.assert_allclose(got, (x - mean) / np.sqrt(var + 1e-3), atol=1e-5)
    assert tuple(ln.gamma.shape) == (4,) and ln.get_config()["axis"] == [1]


# ------------------------------------------------------------------ GroupNormalization
@pytest.mark.keras
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 5, 6), {"groups": 3}),
        ((2, 3, 3, 4), {"groups": -1}),
        ((2, 4, 3, 3), {"groups": 2, "axis": 1}),
        ((3, 8), {"groups": 4, "center": False}),
    ],
)
def test_group_normalization_matches_keras(keras, shape: tuple[int, ...], kwargs: dict) -> None:
    assert_same_layer(keras, "GroupNormalization", _data(*shape), **kwargs)


def test_group_normalization_argument_errors() -> None:
    with pytest.raises(ValueError, match="invalid value for argument `groups`"):
        GroupNormalization(groups=0)
    with pytest.raises(
        ValueError,
        match=r"number of channels \(6\) must be a multiple of the number of groups \(4\)",
    ):
        GroupNormalization(groups=4).build((None, 6))
    with pytest.raises(
        ValueError, match=r"Number of groups \(8\) cannot be more than the number of channels \(6\)"
    ):
        GroupNormalization(groups=8).build((None, 6))


# ------------------------------------------------------------------ Unit / RMS normalization
@pytest.mark.keras
@pytest.mark.parametrize("axis", [-1, 1, [1, 2]])
def test_unit_normalization_matches_keras(keras, axis) -> None:
    x = _data(2, 3, 4)
    x[0, 0] = 0.0  # an all-zero vector stays zero (no division by zero)
    assert_same_layer(keras, "UnitNormalization", x, axis=axis)


@pytest.mark.keras
@pytest.mark.parametrize("kwargs", [{}, {"axis": [1, 2], "epsilon": 1e-3}])
def test_rms_normalization_matches_keras(keras, kwargs: dict) -> None:
    assert_same_layer(keras, "RMSNormalization", _data(2, 3, 4), **kwargs)


@pytest.mark.parametrize(
    "layer",
    [
        LayerNormalization(),
        GroupNormalization(2),
        UnitNormalization(),
        RMSNormalization(),
        BatchNormalization(),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_normalization_layers_output_shape_and_axis_errors(layer) -> None:
    x = torch.randn(3, 5, 4)
    assert layer.compute_output_shape((3, 5, 4)) == tuple(layer(x).shape) == (3, 5, 4)
    bad = (
        type(layer)(axis=4)
        if not isinstance(layer, GroupNormalization)
        else GroupNormalization(2, axis=4)
    )
    with pytest.raises(ValueError, match="out of bounds"):
        bad.compute_output_shape((None, 5, 4))


def test_normalization_layers_train_in_a_model() -> None:
    x, y = _data(64, 6), (_data(64, 1) > 1).astype("float32")
    model = kseq.Sequential(
        [
            Input((6,)),
            Dense(8),
            LayerNormalization(),
            Dense(8),
            BatchNormalization(),
            Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
