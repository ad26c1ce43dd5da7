"""``kseq.random``: Keras's random ops and ``SeedGenerator``.

Seeded draws equal Keras's (same generator seeding on the same device), a ``SeedGenerator`` gives
the same stream as Keras's, and unseeded draws follow ``kseq.utils.set_random_seed``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import random

sys.path.insert(0, str(Path(__file__).parent / "training"))
from test_host_syncs import count_host_conversions

X = torch.arange(24.0).reshape(4, 6)
LOGITS = torch.tensor([[0.0, 1.0, 2.0], [2.0, 0.0, -1.0]])
CASES = [
    ("normal", ((3, 4),), {}),
    ("normal", ((2, 5),), {"mean": 1.0, "stddev": 0.5, "dtype": "float64"}),
    ("uniform", ((6,),), {"minval": -1.0, "maxval": 3.0}),
    ("uniform", ((),), {}),
    ("randint", ((3, 3), 0, 7), {}),
    ("randint", ((4,), -5, 5), {"dtype": "int64"}),
    ("truncated_normal", ((50,),), {"mean": 2.0, "stddev": 0.1}),
    ("dropout", (X, 0.5), {}),
    ("dropout", (X, 0.25), {"noise_shape": (1, None)}),
    ("shuffle", (X,), {}),
    ("shuffle", (X,), {"axis": 1}),
    ("categorical", (LOGITS, 6), {}),
    ("gamma", ((5,), 2.0), {}),
    ("binomial", ((5,), 10, 0.3), {}),
    ("beta", ((5,), 2.0, 3.0), {}),
]


def _id(case: tuple[str, tuple[Any, ...], dict[str, Any]]) -> str:
    return f"{case[0]}-{case[2]}"


@pytest.mark.keras
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_seeded_draws_equal_keras(
    keras: Any, case: tuple[str, tuple[Any, ...], dict[str, Any]]
) -> None:
    name, args, kwargs = case
    expected = getattr(keras.random, name)(*args, seed=1234, **kwargs)
    got = getattr(random, name)(*args, seed=1234, **kwargs)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-6)


@pytest.mark.keras
def test_seed_generator_stream_equals_keras(keras: Any) -> None:
    keras_gen, kseq_gen = keras.random.SeedGenerator(7), random.SeedGenerator(7)
    for name, shape in (("normal", (3,)), ("uniform", (2, 2)), ("normal", (4,))):
        expected = getattr(keras.random, name)(shape, seed=keras_gen)
        got = getattr(random, name)(shape, seed=kseq_gen)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-6)
    assert kseq_gen.state.tolist() == keras.ops.convert_to_numpy(keras_gen.state).tolist()


def test_an_integer_seed_gives_the_same_values_every_call() -> None:
    assert torch.equal(random.normal((5,), seed=3), random.normal((5,), seed=3))
    assert not torch.equal(random.normal((5,), seed=3), random.normal((5,), seed=4))


def test_a_seed_generator_advances_and_restarts_from_its_config() -> None:
    gen = random.SeedGenerator(11, name="gen")
    first, second = random.uniform((4,), seed=gen), random.uniform((4,), seed=gen)
    assert not torch.equal(first, second)
    fresh = random.SeedGenerator.from_config(gen.get_config())
    assert torch.equal(random.uniform((4,), seed=fresh), first)


def test_unseeded_draws_follow_set_random_seed() -> None:
    kseq.utils.set_random_seed(5)
    a = random.normal((4,))
    kseq.utils.set_random_seed(5)
    assert torch.equal(random.normal((4,)), a)


def test_seeded_draws_do_not_touch_the_global_generator() -> None:
    state = torch.random.get_rng_state()
    random.normal((3,), seed=1)
    random.gamma((3,), 1.0, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_drawing_with_a_seed_generator_never_reads_device_values() -> None:
    gen = random.SeedGenerator(3)
    with count_host_conversions() as counts:
        for _ in range(5):
            random.dropout(torch.ones(8), 0.5, seed=gen)
            random.normal((2,), seed=gen)
    assert sum(counts.values()) == 0


def test_dropout_semantics() -> None:
    x = torch.ones(4, 100)
    assert torch.equal(random.dropout(x, 0.0), x)
    assert torch.equal(random.dropout(x, 1.0), torch.zeros_like(x))
    shared = random.dropout(x, 0.5, noise_shape=(4, 1), seed=2)
    assert all(len(set(row.tolist())) == 1 for row in shared)  # one decision per row
    kept = random.dropout(torch.ones(20000), 0.3, seed=1)
    assert kept.mean().item() == pytest.approx(1.0, abs=0.03)  # inverted dropout keeps the mean


def test_shuffle_permutes_along_the_axis() -> None:
    shuffled = random.shuffle(X, axis=1, seed=0)
    assert torch.equal(shuffled.sort(dim=1).values, X)
    assert not torch.equal(shuffled, X)


def test_categorical_and_ranges() -> None:
    draws = random.categorical(torch.tensor([[0.0, -1e9, -1e9], [-1e9, -1e9, 0.0]]), 10, seed=0)
    assert (
        draws.dtype == torch.int32
        and draws[0].tolist() == [0] * 10
        and draws[1].tolist() == [2] * 10
    )
    ints = random.randint((1000,), 2, 5, seed=0)
    assert set(ints.tolist()) == {2, 3, 4}
    assert (random.truncated_normal((1000,), stddev=2.0, seed=0).abs() < 4).all()


def test_bad_seeds_are_rejected_with_the_allowed_kinds() -> None:
    with pytest.raises(
        ValueError, match="must be either an integer or an instance of `SeedGenerator`"
    ):
        random.normal((2,), seed=1.5)
    with pytest.raises(ValueError, match="Argument `seed` must be an integer"):
        random.SeedGenerator("7")


@pytest.mark.cuda
def test_seeded_draws_on_cuda_are_reproducible_and_sync_free() -> None:
    gen = random.SeedGenerator(1)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        a = random.normal((3,), seed=5)
        b = random.dropout(torch.ones(8, device="cuda"), 0.5, seed=gen)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert a.device.type == "cuda" and b.device.type == "cuda"
    assert torch.equal(a, random.normal((3,), seed=5))
