"""EarlyStopping and ReduceLROnPlateau take the same decision as Keras's at every epoch.

Both libraries' callbacks are driven with the same epoch logs through a stub model (stop flag,
optimizer, weights = the epoch index), for a grid of settings; the per-epoch decisions
(stop flag, patience counter, learning rate), the restored weights and the printed messages must
be identical. A literal-expectation test per callback keeps the logic pinned without Keras.
"""

from __future__ import annotations

import numpy as np
import pytest

import kseq
from kseq.callbacks import EarlyStopping, ReduceLROnPlateau


def _history(kind: str, n: int = 14) -> list[dict[str, float]]:
    rng = np.random.default_rng(len(kind))
    if kind == "plateau":  # improves, then flat within 1e-3, with exact ties
        loss = np.maximum(np.round(1.0 / (1 + np.arange(n)), 3), 0.2)
    elif kind == "noisy":  # a noisy, slowly decreasing curve, rounded to create ties
        loss = np.round(1.0 - 0.02 * np.arange(n) + rng.normal(0, 0.03, n), 2)
    elif kind == "rebound":  # improves then gets worse
        loss = np.abs(np.arange(n) - 4) * 0.1 + 0.3
    else:  # "float32": improvements smaller than float32 resolution
        loss = 0.3 - np.arange(n) * 1e-9
    acc = 1.0 - loss / 2
    return [
        {"loss": float(v), "val_loss": float(v) + 0.05, "val_accuracy": float(a)}
        for v, a in zip(loss, acc, strict=True)
    ]


EARLY_STOPPING_CASES = [
    ("plateau", {}),
    ("plateau", {"patience": 2, "min_delta": 0.01}),
    ("plateau", {"patience": 3, "restore_best_weights": True}),
    ("noisy", {"patience": 2, "restore_best_weights": True}),
    ("noisy", {"monitor": "val_accuracy", "mode": "max", "patience": 1}),
    ("noisy", {"monitor": "loss", "patience": 3, "baseline": 0.9}),
    ("rebound", {"patience": 2, "baseline": 0.1, "restore_best_weights": True}),
    ("rebound", {"monitor": "val_accuracy", "mode": "max", "baseline": 0.9, "patience": 4}),
    ("rebound", {"patience": 1, "start_from_epoch": 6, "restore_best_weights": True}),
    ("rebound", {"monitor": "loss", "mode": "min", "min_delta": -0.05, "patience": 1}),
    ("float32", {"patience": 2}),
]

REDUCE_LR_CASES = [
    ("plateau", 0.1, {}),
    ("plateau", 1e-3, {"patience": 2, "factor": 0.5}),
    ("plateau", 1e-3, {"patience": 1, "cooldown": 2, "min_lr": 2e-4}),
    ("noisy", 0.01, {"patience": 1, "min_delta": 0.02, "factor": 0.2}),
    ("noisy", 0.01, {"monitor": "val_accuracy", "mode": "max", "patience": 1}),
    ("rebound", 0.05, {"monitor": "loss", "patience": 1, "cooldown": 1, "min_lr": 0.004}),
    ("float32", 1e-3, {"patience": 2, "min_delta": 0.0}),
]


def _run_pair(keras, stub_model, drive_callback, capsys, make, history, optimizers):
    records, printed = [], []
    for lib, opt in zip((kseq, keras), optimizers, strict=True):
        records.append(drive_callback(make(lib), stub_model(opt), history))
        printed.append(capsys.readouterr().out)
    return records, printed


@pytest.mark.keras
@pytest.mark.parametrize(("kind", "kwargs"), EARLY_STOPPING_CASES)
def test_early_stopping_decisions_match_keras(
    keras, stub_model, drive_callback, capsys, kind, kwargs
) -> None:
    history = _history(kind)
    (ours, theirs), (out, keras_out) = _run_pair(
        keras,
        stub_model,
        drive_callback,
        capsys,
        lambda lib: lib.callbacks.EarlyStopping(verbose=1, **kwargs),
        history,
        (None, None),
    )
    assert ours == theirs
    assert out == keras_out


@pytest.mark.keras
@pytest.mark.parametrize(("kind", "lr", "kwargs"), REDUCE_LR_CASES)
def test_reduce_lr_on_plateau_decisions_match_keras(
    keras, stub_model, drive_callback, capsys, kind, lr, kwargs
) -> None:
    history = _history(kind, n=30)
    (ours, theirs), (out, keras_out) = _run_pair(
        keras,
        stub_model,
        drive_callback,
        capsys,
        lambda lib: lib.callbacks.ReduceLROnPlateau(verbose=1, **kwargs),
        history,
        (kseq.optimizers.SGD(learning_rate=lr), keras.optimizers.SGD(learning_rate=lr)),
    )
    assert ours == theirs
    assert out == keras_out
    assert "ReduceLROnPlateau reducing learning rate" in out or kind == "float32"


def test_early_stopping_literal_decisions(stub_model, drive_callback, capsys) -> None:
    # val_loss: 1.05, .55, .383, .3, .25, then .25 (flat, min_delta .01 -> no improvement)
    history = _history("plateau")
    stop = EarlyStopping(patience=2, min_delta=0.01, restore_best_weights=True, verbose=1)
    record = drive_callback(stop, stub_model(), history)
    assert [r[:3] for r in record[:-1]] == [
        (0, False, 0), (1, False, 0), (2, False, 0), (3, False, 0),
        (4, False, 0), (5, False, 1), (6, True, 2),
    ]  # fmt: skip
    assert record[-1] == ("final weights", 4.0)  # the best epoch's weights are back
    assert capsys.readouterr().out == (
        "Epoch 7: early stopping\nRestoring model weights from the end of the best epoch: 5.\n"
    )


def test_early_stopping_float32_comparison(stub_model, drive_callback) -> None:
    # Improvements of 1e-9 do not exist in float32: Keras (and kseq) see a plateau.
    record = drive_callback(EarlyStopping(patience=1), stub_model(), _history("float32"))
    assert [r[1] for r in record[:-1]] == [False, True]


def test_reduce_lr_literal_decisions(stub_model, drive_callback, capsys) -> None:
    opt = kseq.optimizers.SGD(learning_rate=1e-3)
    cb = ReduceLROnPlateau(patience=1, cooldown=2, min_lr=2e-4, verbose=1)
    record = drive_callback(cb, stub_model(opt), _history("plateau", n=14))
    lrs = [r[3] for r in record[:-1]]
    # val_loss is flat from epoch 4 (0-based): with patience 1 the lr is cut at epoch 5, to
    # max(1e-3 * 0.1, min_lr) = min_lr; at min_lr it is never cut again.
    assert lrs[:5] == [pytest.approx(1e-3)] * 5
    assert lrs[5:] == [pytest.approx(2e-4)] * (len(lrs) - 5)
    assert capsys.readouterr().out == (
        "\nEpoch 6: ReduceLROnPlateau reducing learning rate to 0.0002.\n"
    )
    assert all(r[1] is False for r in record[:-1])
