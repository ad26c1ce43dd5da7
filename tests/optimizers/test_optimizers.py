"""Optimizers as a user meets them: arguments and their errors, learning rate and iterations,
state saving, a raw torch optimizer in ``compile``, and no host syncs in ``step``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import optimizers

ALL = [
    optimizers.SGD, optimizers.Adam, optimizers.AdamW, optimizers.RMSprop, optimizers.Adagrad,
    optimizers.Adadelta, optimizers.Adamax, optimizers.Nadam, optimizers.Ftrl, optimizers.Lion,
    optimizers.Adafactor, optimizers.Lamb,
]  # fmt: skip


def _params() -> list[torch.nn.Parameter]:
    gen = torch.Generator().manual_seed(0)
    return [
        torch.nn.Parameter(torch.randn(*shape, generator=gen))
        for shape in ((4, 3), (4,), (5, 3, 2, 2))
    ]


def _steps(opt: optimizers.Optimizer, params: list[torch.nn.Parameter], n: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(n):
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen)
        opt.step()


def test_keras2_lr_argument_raises_and_names_learning_rate() -> None:
    with pytest.raises(
        ValueError, match=r"Argument\(s\) not recognized: \{'lr': 0.1\}.*learning_rate"
    ):
        optimizers.Adam(lr=0.1)


def test_keras2_decay_argument_warns_and_is_ignored() -> None:
    with pytest.warns(
        UserWarning, match="Argument `decay` is no longer supported and will be ignored"
    ):
        opt = optimizers.SGD(learning_rate=0.1, decay=1e-4)
    assert "decay" not in opt.get_config()


def test_argument_errors_use_keras_wording() -> None:
    with pytest.raises(
        ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"
    ):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="`gradient_accumulation_steps` must be an integer >= 2"):
        optimizers.SGD(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match=r"`ema_momentum` must be in the range \[0, 1\]"):
        optimizers.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="`ema_overwrite_frequency` must be an integer >= 1"):
        optimizers.SGD(use_ema=True, ema_overwrite_frequency=0.5)
    with pytest.raises(ValueError, match="Argument `weight_decay` must be a float"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="degenerates to SignSGD"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="`learning_rate_power` needs to be negative or zero"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(
        ValueError, match="`l1_regularization_strength` needs to be positive or zero"
    ):
        optimizers.Ftrl(l1_regularization_strength=-1.0)
    with pytest.raises(ValueError, match="Argument `learning_rate` should be float"):
        optimizers.Adam(learning_rate="fast")


def test_unknown_name_suggests_the_closest_and_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as info:
        optimizers.get("rmsporp")
    assert "Unknown optimizer: 'rmsporp'. Did you mean 'rmsprop'?" in str(info.value)
    assert "adafactor" in str(info.value) and "lamb" in str(info.value)


def test_learning_rate_is_readable_and_assignable_and_iterations_counts_updates() -> None:
    params = _params()
    opt = optimizers.SGD(learning_rate=0.1, gradient_accumulation_steps=2)
    opt.build(params)
    assert opt.learning_rate == 0.1
    opt.learning_rate = 0.05
    assert opt.learning_rate == 0.05 and opt.get_config()["learning_rate"] == 0.05
    _steps(opt, params, 5, seed=0)
    assert opt.iterations == 2  # 5 calls, one update every 2
    opt.learning_rate = lambda: 0.2  # a zero-argument callable, as in Keras
    assert opt.learning_rate == 0.2


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_saved_state_resumes_training_exactly(cls) -> None:
    kwargs: dict[str, Any] = {"learning_rate": 0.01}
    first_params, second_params = _params(), _params()
    first, second = cls(**kwargs), cls(**kwargs)
    first.build(first_params)
    second.build(second_params)
    _steps(first, first_params, 4, seed=1)
    _steps(second, second_params, 4, seed=1)
    # Save the state and load it into a fresh optimizer (as BackupAndRestore does).
    state = first.state_dict()
    resumed = cls(**kwargs)
    resumed.build(first_params)
    resumed.load_state_dict(state)
    _steps(resumed, first_params, 4, seed=2)
    _steps(second, second_params, 4, seed=2)
    for a, b in zip(first_params, second_params, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert resumed.iterations == second.iterations == 8


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_step_makes_no_host_conversions(cls, monkeypatch) -> None:
    params = _params()
    opt = cls(learning_rate=0.01, weight_decay=0.01, global_clipnorm=1.0, use_ema=True)
    opt.build(params)
    _steps(opt, params, 1, seed=0)
    calls: list[str] = []
    for method in ("item", "__float__", "__bool__", "tolist", "cpu", "numpy"):
        original = getattr(torch.Tensor, method)

        def spy(self: torch.Tensor, *args: Any, _name: str = method, _orig: Any = original) -> Any:
            calls.append(_name)
            return _orig(self, *args)

        monkeypatch.setattr(torch.Tensor, method, spy)
    _steps(opt, params, 3, seed=1)
    monkeypatch.undo()
    assert calls == []


def test_missing_gradients_warn_like_keras_and_the_rest_still_update() -> None:
    params = _params()
    opt = optimizers.Adam(learning_rate=0.1)
    opt.build(params)
    before = params[1].detach().clone()
    params[0].grad, params[1].grad, params[2].grad = torch.ones(4, 3), None, torch.ones(5, 3, 2, 2)
    with pytest.warns(UserWarning, match="Gradients do not exist for variables"):
        opt.step()
    assert torch.equal(params[1].detach(), before) and opt.iterations == 1


def test_exclude_from_weight_decay_by_name_in_fit() -> None:
    model = kseq.Sequential(
        [
            kseq.Input((3,)),
            kseq.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones"),
        ]
    )
    opt = optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    model.compile(optimizer=opt, loss="mse")
    model.fit(
        np.zeros((4, 3), "float32"), np.ones((4, 2), "float32"), epochs=1, batch_size=4, verbose=0
    )
    kernel, bias = model.get_weights()  # both get zero gradients
    np.testing.assert_allclose(kernel, 1.0 - 0.1 * 0.5)  # decayed
    np.testing.assert_allclose(bias, 1.0)  # excluded from the decay
    with pytest.raises(ValueError, match="can only be configured before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["kernel"])


def test_a_raw_torch_optimizer_in_compile_trains_like_the_kseq_one() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-1.0], [2.0]])).astype("float32")
    weights = None
    results = []
    for use_torch in (True, False):
        model = kseq.Sequential(
            [kseq.Input((3,)), kseq.layers.Dense(4, activation="tanh"), kseq.layers.Dense(1)]
        )
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        opt = torch.optim.SGD(model.parameters(), lr=0.05) if use_torch else optimizers.SGD(0.05)
        model.compile(optimizer=opt, loss="mse")
        history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        results.append((history.history["loss"], model.get_weights()))
        if use_torch:
            assert isinstance(model.optimizer, optimizers.TorchOptimizer)
            assert model.optimizer.iterations == 12
            model.optimizer.learning_rate = 0.01  # what ReduceLROnPlateau does
            assert opt.param_groups[0]["lr"] == 0.01
    (torch_loss, torch_weights), (kseq_loss, kseq_weights) = results
    np.testing.assert_allclose(torch_loss, kseq_loss, rtol=1e-6)
    for a, b in zip(torch_weights, kseq_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_torch_optimizer_class_instead_of_instance_is_explained() -> None:
    with pytest.raises(TypeError, match="pass an instance"):
        optimizers.get(torch.optim.Adam)


@pytest.mark.parametrize(
    "name", ["adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion", "adafactor", "lamb"]
)
def test_every_optimizer_trains_a_model_by_name(name) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype("float32")
    y = (x[:, :1] - x[:, 1:2] > 0).astype("float32")
    model = kseq.Sequential(
        [
            kseq.Input((4,)),
            kseq.layers.Dense(8, activation="relu"),
            kseq.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=name, loss="binary_crossentropy")
    model.optimizer.learning_rate = 1.0 if name == "adadelta" else 0.05
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.cuda
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_cuda_step_never_synchronizes_with_the_host(cls) -> None:
    params = [torch.nn.Parameter(p.detach().cuda()) for p in _params()]
    opt = cls(learning_rate=0.01, weight_decay=0.01, global_clipnorm=1.0, use_ema=True)
    opt.build(params)
    grads = [[torch.randn_like(p) for p in params] for _ in range(3)]
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step_grads in grads:
            for p, g in zip(params, step_grads, strict=True):
                p.grad = g
            opt.step()
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert all(torch.isfinite(p).all() for p in params)
