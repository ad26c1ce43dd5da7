"""Every kseq optimizer against Keras 3: 20 steps with identical gradients end with the same
weights (rtol 1e-4), for every variant and common argument; optimizer variables in Keras's order;
config keys; and whole ``fit`` runs of small identical models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import optimizers

pytestmark = pytest.mark.keras

# Weights in Keras layout: a Dense kernel (in, out), a bias, a Conv2D kernel (kh, kw, in, out).
KERAS_SHAPES = [(3, 4), (4,), (2, 2, 3, 5)]
# kseq holds them in torch layout: nn.Linear (out, in), nn.Conv2d (out, in, kh, kw).
TO_TORCH = {1: (0,), 2: (1, 0), 4: (3, 2, 0, 1)}
STEPS = 20


def _to_torch(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(TO_TORCH[a.ndim]))


def _to_keras(t: torch.Tensor, keras_shape: tuple[int, ...]) -> np.ndarray:
    """A kseq tensor (torch layout) in Keras layout; optimizer slots of a conv kernel too."""
    a = t.detach().cpu().numpy()
    for perm in [tuple(range(a.ndim)), (1, 0), (1, 2, 0), (2, 3, 1, 0)]:
        if len(perm) == a.ndim and tuple(a.shape[i] for i in perm) == tuple(keras_shape):
            return a.transpose(perm)
    raise AssertionError(f"no layout maps {a.shape} to {keras_shape}")


def _run(keras, name: str, kwargs: Callable[[Any], dict[str, Any]], steps: int = STEPS):
    """Apply the same gradient sequence with both libraries; return (keras_opt, kseq_opt,
    keras_vars, kseq_params)."""
    rng = np.random.default_rng(7)
    init = [rng.normal(size=s).astype(np.float32) for s in KERAS_SHAPES]
    grads = [[rng.normal(size=s).astype(np.float32) for s in KERAS_SHAPES] for _ in range(steps)]
    k_vars = [keras.Variable(w) for w in init]
    k_opt = getattr(keras.optimizers, name)(**kwargs(keras))
    params = [torch.nn.Parameter(torch.from_numpy(_to_torch(w))) for w in init]
    opt = getattr(optimizers, name)(**kwargs(kseq))
    opt.build(params)
    for step_grads in grads:
        k_opt.apply([torch.from_numpy(g) for g in step_grads], k_vars)
        for p, g in zip(params, step_grads, strict=True):
            p.grad = torch.from_numpy(_to_torch(g))
        opt.step()
    return k_opt, opt, k_vars, params


def _assert_weights_equal(k_vars, params, rtol: float = 1e-4) -> None:
    for v, p in zip(k_vars, params, strict=True):
        np.testing.assert_allclose(
            _to_keras(p, tuple(v.shape)), np.asarray(v.numpy()), rtol=rtol, atol=1e-6
        )


def _schedule(lib: Any) -> Any:
    return lib.optimizers.schedules.ExponentialDecay(0.05, decay_steps=5, decay_rate=0.7)


def _cosine(lib: Any) -> Any:
    return lib.optimizers.schedules.CosineDecay(
        0.0, decay_steps=15, warmup_target=0.1, warmup_steps=5
    )


def kw(**fixed: Any) -> Callable[[Any], dict[str, Any]]:
    return lambda lib: dict(fixed)


# (optimizer, arguments as a function of the library, for schedules), covering every variant.
CASES: list[tuple[str, Callable[[Any], dict[str, Any]]]] = [
    ("SGD", kw(learning_rate=0.1)),
    ("SGD", kw(learning_rate=0.05, momentum=0.9)),
    ("SGD", kw(learning_rate=0.05, momentum=0.9, nesterov=True)),
    ("SGD", kw(learning_rate=0.05, momentum=0.5, weight_decay=0.1, clipnorm=1.0)),
    ("SGD", lambda lib: {"learning_rate": _cosine(lib), "momentum": 0.8, "nesterov": True}),
    ("SGD", kw(learning_rate=0.1, momentum=0.9, use_ema=True, ema_momentum=0.9)),
    ("SGD", kw(learning_rate=0.1, momentum=0.9, gradient_accumulation_steps=3)),
    ("SGD", kw(learning_rate=0.1, loss_scale_factor=128.0, clipvalue=0.5)),
    ("Adam", kw(learning_rate=0.01)),
    ("Adam", kw(learning_rate=0.01, amsgrad=True)),
    ("Adam", kw(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-3, weight_decay=0.05)),
    ("Adam", kw(learning_rate=0.01, clipnorm=0.5)),
    ("Adam", kw(learning_rate=0.01, global_clipnorm=1.0)),
    ("Adam", kw(learning_rate=0.01, clipvalue=0.1)),
    ("Adam", kw(learning_rate=0.01, use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=4)),
    ("Adam", kw(learning_rate=0.01, gradient_accumulation_steps=2, use_ema=True)),
    ("Adam", lambda lib: {"learning_rate": _schedule(lib), "amsgrad": True}),
    ("AdamW", kw(learning_rate=0.01)),
    ("AdamW", kw(learning_rate=0.01, weight_decay=0.1, amsgrad=True, global_clipnorm=0.5)),
    ("RMSprop", kw(learning_rate=0.01)),
    ("RMSprop", kw(learning_rate=0.01, centered=True)),
    ("RMSprop", kw(learning_rate=0.01, momentum=0.7)),
    ("RMSprop", kw(learning_rate=0.01, centered=True, momentum=0.7, rho=0.8, weight_decay=0.01)),
    ("Adagrad", kw(learning_rate=0.1)),
    ("Adagrad", kw(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=1e-3, clipnorm=1.0)),
    ("Adadelta", kw(learning_rate=1.0)),
    ("Adadelta", kw(learning_rate=1.0, rho=0.9, epsilon=1e-4, gradient_accumulation_steps=2)),
    ("Adamax", kw(learning_rate=0.02)),
    ("Adamax", kw(learning_rate=0.02, beta_2=0.9, weight_decay=0.01)),
    ("Nadam", kw(learning_rate=0.01)),
    ("Nadam", kw(learning_rate=0.01, beta_1=0.8, gradient_accumulation_steps=2)),
    ("Nadam", lambda lib: {"learning_rate": _schedule(lib), "use_ema": True}),
    ("Ftrl", kw(learning_rate=0.1)),
    (
        "Ftrl",
        kw(
            learning_rate=0.1,
            learning_rate_power=-0.7,
            l1_regularization_strength=0.01,
            l2_regularization_strength=0.02,
            l2_shrinkage_regularization_strength=0.03,
            beta=0.5,
        ),
    ),
    ("Lion", kw(learning_rate=0.01)),
    ("Lion", kw(learning_rate=0.01, beta_1=0.95, beta_2=0.98, weight_decay=0.1)),
    ("Adafactor", kw(learning_rate=0.1)),
    ("Adafactor", kw(learning_rate=0.01, beta_2_decay=-0.5, clip_threshold=0.5, epsilon_2=1e-2)),
    ("Adafactor", lambda lib: {"learning_rate": _schedule(lib), "relative_step": False}),
    ("Lamb", kw(learning_rate=0.01)),
    ("Lamb", kw(learning_rate=0.01, weight_decay=0.05, clipnorm=2.0)),
]


def _case_id(case: tuple[str, Callable[[Any], dict[str, Any]]]) -> str:
    name, args = case
    text = ",".join(
        f"{k}={type(v).__name__ if hasattr(v, 'get_config') else v}" for k, v in args(kseq).items()
    )
    return f"{name}-{text}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_twenty_steps_with_identical_gradients_end_with_keras_weights(keras, case) -> None:
    name, args = case
    k_opt, opt, k_vars, params = _run(keras, name, args)
    _assert_weights_equal(k_vars, params)
    assert opt.iterations == int(k_opt.iterations.numpy())
    assert opt.learning_rate == pytest.approx(
        float(np.asarray(k_opt.learning_rate)), rel=1e-6, abs=1e-9
    )
    if opt.use_ema:  # what fit does at the end of training
        k_opt.finalize_variable_values(k_vars)
        opt.finalize_variable_values()
        _assert_weights_equal(k_vars, params)


@pytest.mark.parametrize("case", CASES[::3], ids=[_case_id(c) for c in CASES[::3]])
def test_optimizer_variables_come_in_keras_order_with_keras_values(keras, case) -> None:
    name, args = case
    k_opt, opt, _, _ = _run(keras, name, args, steps=3)
    k_variables, variables = k_opt.variables, opt.variables
    assert len(variables) == len(k_variables)
    for k_var, var in zip(k_variables, variables, strict=True):
        expected = np.asarray(k_var.numpy(), dtype=np.float64)
        got = _to_keras(var, tuple(k_var.shape)) if var.ndim else var.detach().numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6, err_msg=k_var.path)


NAMES = sorted({name for name, _ in CASES})


@pytest.mark.parametrize("name", NAMES)
def test_config_keys_and_defaults_equal_keras(keras, name) -> None:
    theirs = getattr(keras.optimizers, name)().get_config()
    ours = getattr(optimizers, name)().get_config()
    assert set(ours) == set(theirs)
    # Keras stores the float learning rate in a float32 variable (0.001 -> 0.0010000000474974513).
    assert ours.pop("learning_rate") == pytest.approx(theirs.pop("learning_rate"), rel=1e-7)
    assert ours == theirs
    restored = optimizers.deserialize(optimizers.serialize(getattr(optimizers, name)(clipnorm=2.0)))
    assert type(restored).__name__ == name and restored.clipnorm == 2.0
    # A Keras config loads in kseq.
    keras_config = keras.optimizers.serialize(getattr(keras.optimizers, name)(weight_decay=0.01))
    assert optimizers.deserialize(keras_config).weight_decay == 0.01


def test_optimizer_with_a_schedule_serializes_it_like_keras(keras) -> None:
    ours = optimizers.Adam(learning_rate=_schedule(kseq)).get_config()["learning_rate"]
    theirs = keras.optimizers.Adam(learning_rate=_schedule(keras)).get_config()["learning_rate"]
    assert ours == theirs
    restored = optimizers.Adam.from_config(
        optimizers.Adam(learning_rate=_schedule(kseq)).get_config()
    )
    assert isinstance(restored._learning_rate, optimizers.schedules.ExponentialDecay)


def test_every_keras_optimizer_name_resolves_case_insensitively(keras) -> None:
    from keras.src.optimizers import ALL_OBJECTS_DICT

    ours = set(optimizers.names())
    missing = set(ALL_OBJECTS_DICT) - ours
    # Not ported: the wrappers and the 2025-26 additions.
    assert missing == {"optimizer", "lossscaleoptimizer", "multioptimizer", "optimizermap", "muon",
                       "schedulefreeadamw"}  # fmt: skip
    for name in ALL_OBJECTS_DICT.keys() & ours:
        assert type(optimizers.get(name)).__name__.lower() == name
        assert type(optimizers.get(name.upper())).__name__.lower() == name


FIT_CASES: list[tuple[str, Callable[[Any], dict[str, Any]]]] = [
    ("Adam", kw(learning_rate=0.01)),
    ("SGD", kw(learning_rate=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("RMSprop", kw(learning_rate=0.005, centered=True, momentum=0.5)),
    ("Adam", kw(learning_rate=0.01, use_ema=True, ema_momentum=0.9)),
    ("Nadam", kw(learning_rate=0.01, gradient_accumulation_steps=2)),
    ("Lamb", lambda lib: {"learning_rate": _cosine(lib), "global_clipnorm": 1.0}),
]


@pytest.mark.parametrize("case", FIT_CASES, ids=[_case_id(c) for c in FIT_CASES])
def test_fit_with_the_same_model_and_data_ends_with_keras_weights(keras, case) -> None:
    name, args = case
    rng = np.random.default_rng(3)
    x = rng.normal(size=(160, 5)).astype(np.float32)
    y = (x @ rng.normal(size=(5, 2))).astype(np.float32)
    theirs = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2)]
    )
    ours = kseq.Sequential(
        [kseq.Input((5,)), kseq.layers.Dense(8, activation="tanh"), kseq.layers.Dense(2)]
    )
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer=getattr(keras.optimizers, name)(**args(keras)), loss="mse")
    ours.compile(optimizer=getattr(optimizers, name)(**args(kseq)), loss="mse")
    k_hist = theirs.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)  # 20 steps
    hist = ours.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert ours.optimizer.iterations == int(theirs.optimizer.iterations.numpy())
    np.testing.assert_allclose(hist.history["loss"], k_hist.history["loss"], rtol=1e-4)
    for got, expected in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
