"""kseq.initializers: Keras names, defaults, statistics, seeds and configs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kseq import initializers, layers

NAMES = [
    "Constant", "Zeros", "Ones", "Identity", "RandomNormal", "TruncatedNormal", "RandomUniform",
    "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
    "LecunUniform", "Orthogonal", "STFT",
]  # fmt: skip


def test_names_and_snake_case_aliases() -> None:
    for name in NAMES:
        assert type(initializers.get(name)).__name__ == name
    for alias, cls in [
        ("glorot_uniform", "GlorotUniform"),
        ("he_normal", "HeNormal"),
        ("zeros", "Zeros"),
        ("normal", "RandomNormal"),
        ("uniform", "RandomUniform"),
        ("orthogonal", "Orthogonal"),
    ]:
        assert type(initializers.get(alias)).__name__ == cls


@pytest.mark.parametrize(
    ("name", "expected_std"),
    [
        ("glorot_uniform", (2 / (300 + 200)) ** 0.5),
        ("glorot_normal", (2 / (300 + 200)) ** 0.5),
        ("he_normal", (2 / 300) ** 0.5),
        ("he_uniform", (2 / 300) ** 0.5),
        ("lecun_normal", (1 / 300) ** 0.5),
        ("lecun_uniform", (1 / 300) ** 0.5),
    ],
)
def test_variance_scaling_statistics(name: str, expected_std: float) -> None:
    w = initializers.get(name)((300, 200))
    assert w.shape == (300, 200) and w.dtype == torch.float32
    assert float(w.std()) == pytest.approx(expected_std, rel=0.03)
    assert abs(float(w.mean())) < 0.01


def test_conv_kernel_fans_use_the_receptive_field() -> None:
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    w = initializers.HeNormal(seed=1)((3, 3, 16, 32))
    assert float(w.std()) == pytest.approx((2 / 144) ** 0.5, rel=0.05)


def test_seeded_initializers_repeat_and_unseeded_follow_the_global_rng() -> None:
    a, b = initializers.GlorotUniform(seed=7), initializers.GlorotUniform(seed=7)
    assert torch.equal(a((4, 4)), b((4, 4))) and torch.equal(a((4, 4)), a((4, 4)))
    torch.manual_seed(0)
    first = initializers.RandomNormal()((5,))
    torch.manual_seed(0)
    assert torch.equal(first, initializers.RandomNormal()((5,)))


def test_truncated_normal_bounds_and_orthogonal() -> None:
    w = initializers.TruncatedNormal(stddev=1.0, seed=0)((10000,))
    assert float(w.abs().max()) <= 2.0
    q = initializers.Orthogonal(gain=2.0, seed=0)((6, 4))
    torch.testing.assert_close(q.T @ q, 4.0 * torch.eye(4), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((3,))


def test_dense_uses_keras_defaults() -> None:
    layer = layers.Dense(64)
    layer.build((None, 128))
    kernel = layer.get_weights()[0]
    limit = (6 / (128 + 64)) ** 0.5
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert not layer.get_weights()[1].any()
    assert type(layer.kernel_initializer).__name__ == "GlorotUniform"


def test_custom_initializer_callable() -> None:
    layer = layers.Dense(2, kernel_initializer=lambda shape, dtype=None: torch.full(shape, 0.5))
    layer.build((None, 3))
    assert (layer.get_weights()[0] == 0.5).all()


@pytest.mark.keras
@pytest.mark.parametrize("name", NAMES)
def test_config_equals_keras(keras, name: str) -> None:
    args = {"Constant": {"value": 2.0}}.get(name, {})
    ours = getattr(initializers, name)(**args)
    theirs = getattr(keras.initializers, name)(**args)
    if name == "Identity":
        # Keras's Identity forgets `gain` in its config; kseq keeps it (Keras still loads it).
        assert ours.get_config() == {"gain": 1.0} and theirs.get_config() == {}
        assert keras.initializers.Identity(**ours.get_config()).gain == 1.0
    else:
        assert ours.get_config() == theirs.get_config()
    assert initializers.serialize(ours)["class_name"] == name


@pytest.mark.keras
def test_stft_equals_keras(keras) -> None:
    pytest.importorskip("scipy")
    for side in ("real", "imag"):
        for scaling in ("density", "spectrum", None):
            ours = initializers.STFT(side, "hann", scaling, periodic=True)((16, 1, 9)).numpy()
            theirs = keras.ops.convert_to_numpy(
                keras.initializers.STFT(side, "hann", scaling, periodic=True)((16, 1, 9))
            )
            np.testing.assert_allclose(ours, theirs, atol=1e-5)  # Keras computes in float32


@pytest.mark.keras
def test_deterministic_initializers_equal_keras(keras) -> None:
    for name, args, shape in [
        ("Constant", {"value": 3.0}, (2, 3)),
        ("Zeros", {}, (4,)),
        ("Ones", {}, (2, 2)),
        ("Identity", {"gain": 2.0}, (3, 3)),
    ]:
        ours = getattr(initializers, name)(**args)(shape).numpy()
        theirs = keras.ops.convert_to_numpy(getattr(keras.initializers, name)(**args)(shape))
        np.testing.assert_array_equal(ours, theirs)
