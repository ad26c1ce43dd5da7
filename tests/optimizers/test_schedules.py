"""Learning-rate schedules: Keras's values at steps 0..1000, configs, use inside an optimizer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq.optimizers import schedules

CASES: list[tuple[str, dict[str, Any]]] = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.96}),
    (
        "ExponentialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 37, "decay_rate": 0.5, "staircase": True},
    ),
    ("PiecewiseConstantDecay", {"boundaries": [100, 500], "values": [1.0, 0.5, 0.1]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 700}),
    (
        "PolynomialDecay",
        {
            "initial_learning_rate": 0.1,
            "decay_steps": 300,
            "end_learning_rate": 0.01,
            "power": 2.0,
            "cycle": True,
        },
    ),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 50, "decay_rate": 0.5}),
    (
        "InverseTimeDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 50, "decay_rate": 0.5, "staircase": True},
    ),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 1000}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 600, "alpha": 0.1}),
    (
        "CosineDecay",
        {
            "initial_learning_rate": 0.0,
            "decay_steps": 800,
            "warmup_target": 0.1,
            "warmup_steps": 100,
        },
    ),
    (
        "CosineDecay",
        {
            "initial_learning_rate": 0.01,
            "decay_steps": 300,
            "warmup_target": 0.2,
            "warmup_steps": 50,
            "alpha": 0.2,
        },
    ),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 100}),
    (
        "CosineDecayRestarts",
        {
            "initial_learning_rate": 0.1,
            "first_decay_steps": 10,
            "t_mul": 3.0,
            "m_mul": 0.8,
            "alpha": 0.05,
        },
    ),
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 50, "t_mul": 1.0, "m_mul": 0.9},
    ),
]
STEPS = range(1001)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_schedule_gives_keras_learning_rate_at_every_step(keras, name, kwargs) -> None:
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    ours = getattr(schedules, name)(**kwargs)
    expected = np.array([float(theirs(step)) for step in STEPS])
    got = np.array([ours(step) for step in STEPS])
    assert all(isinstance(ours(step), float) for step in (0, 10))
    # rtol 1e-6, plus Keras's own float32 rounding error (a few units of the peak rate's last
    # place) where its float32 formula cancels near zero (see the schedules module docstring).
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=4e-7 * np.abs(expected).max())


@pytest.mark.keras
@pytest.mark.parametrize(("name", "kwargs"), CASES[::2], ids=[n for n, _ in CASES[::2]])
def test_schedule_config_equals_keras_and_round_trips(keras, name, kwargs) -> None:
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    config = schedules.serialize(ours)
    assert config == {"module": "keras.optimizers.schedules", "class_name": name,
                      "config": theirs.get_config(), "registered_name": None}  # fmt: skip
    restored = schedules.deserialize(config)
    assert type(restored) is type(ours) and restored.get_config() == ours.get_config()
    # A schedule saved by Keras loads in kseq.
    loaded = schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    assert [loaded(s) for s in (0, 77, 999)] == [ours(s) for s in (0, 77, 999)]


def test_bad_arguments_raise_keras_errors() -> None:
    with pytest.raises(
        ValueError, match="Argument `decay_steps` must be > 0. Received: decay_steps=0"
    ):
        schedules.CosineDecay(0.1, decay_steps=0)
    with pytest.raises(
        ValueError, match="The length of boundaries should be 1 less than the length of values"
    ):
        schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5])


def test_an_optimizer_follows_its_schedule_on_the_host_from_iterations() -> None:
    schedule = schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5, 0.25])
    w = torch.nn.Parameter(torch.zeros(1))
    opt = kseq.optimizers.SGD(learning_rate=schedule)
    opt.build([w])
    seen = []
    for _ in range(4):
        seen.append(opt.learning_rate)
        w.grad = torch.ones(1)
        opt.step()
    assert seen == [1.0, 1.0, 0.5, 0.25]
    assert w.item() == pytest.approx(-2.75)
    with pytest.raises(TypeError, match="its learning rate is not settable"):
        opt.learning_rate = 0.1


def test_custom_schedule_subclass_serializes_when_registered() -> None:
    @kseq.saving.register_keras_serializable(package="tests")
    class Halving(schedules.LearningRateSchedule):
        def __init__(self, initial: float, every: int) -> None:
            self.initial, self.every = initial, every

        def __call__(self, step: int) -> float:
            return self.initial / 2 ** (step // self.every)

        def get_config(self) -> dict[str, Any]:
            return {"initial": self.initial, "every": self.every}

    opt = kseq.optimizers.Adam(learning_rate=Halving(0.1, 10))
    restored = kseq.optimizers.deserialize(kseq.optimizers.serialize(opt))
    assert isinstance(restored._learning_rate, Halving)
    restored.iterations = 25
    assert restored.learning_rate == 0.025


def test_schedules_train_a_model_in_fit() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(1)])
    lr = schedules.CosineDecay(0.0, decay_steps=20, warmup_target=0.1, warmup_steps=4)
    model.compile(optimizer=kseq.optimizers.SGD(learning_rate=lr), loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert model.optimizer.iterations == 24
    assert model.optimizer.learning_rate == pytest.approx(0.0)
    assert history.history["loss"][-1] < history.history["loss"][0]
