"""ModelCheckpoint: file name templates, save_best_only / mode / initial_value_threshold, weights
only (.weights.h5 and .weights.pt), batch-level saving, Keras's messages and extension rules, and
the same decisions as Keras's ModelCheckpoint for the same logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kseq
from kseq.callbacks import ModelCheckpoint
from kseq.callbacks.callback import overrides

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4)).astype("float32")
Y = (X @ np.array([1.0, -2.0, 0.5, 3.0], "float32"))[:, None]


def _model() -> kseq.Sequential:
    model = kseq.Sequential([kseq.Input((4,)), kseq.layers.Dense(1)])
    model.compile(optimizer=kseq.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    return model


def _fit(model: Any, callbacks: list[Any], epochs: int = 3, **kwargs: Any) -> Any:
    return model.fit(
        X,
        Y,
        epochs=epochs,
        batch_size=8,
        validation_split=0.25,
        callbacks=callbacks,
        verbose=0,
        **kwargs,
    )


def test_epoch_and_metric_templates(tmp_path: Path) -> None:
    model = _model()
    history = _fit(
        model, [ModelCheckpoint(str(tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.2f}.keras"))]
    )
    expected = [f"{e + 1:02d}-{v:.2f}.keras" for e, v in enumerate(history.history["val_loss"])]
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == sorted(expected)
    last = kseq.models.load_model(tmp_path / "ckpt" / expected[-1])
    np.testing.assert_array_equal(last.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.mark.parametrize("suffix", [".weights.h5", ".weights.pt"])
def test_save_best_only_keeps_the_best_weights(suffix: str, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / f"best{suffix}"
    best_weights: list[Any] = []

    class Track(kseq.callbacks.Callback):
        best = np.inf

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if logs["val_loss"] < self.best:
                self.best = logs["val_loss"]
                best_weights[:] = self.model.get_weights()

    model = _model()
    checkpoint = ModelCheckpoint(path, save_best_only=True, save_weights_only=True, verbose=1)
    _fit(model, [checkpoint, Track()], epochs=4)
    twin = _model()
    twin.load_weights(path)
    for a, b in zip(twin.get_weights(), best_weights, strict=True):
        np.testing.assert_array_equal(a, b)
    out = capsys.readouterr().out
    assert "\nEpoch 1: val_loss improved from None to " in out
    assert f", saving model to {path}\n" in out
    assert f"\nEpoch 1: finished saving model to {path}\n" in out


def test_initial_value_threshold_and_mode_max(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "m.weights.pt"
    checkpoint = ModelCheckpoint(
        path,
        monitor="val_mae",
        mode="max",
        save_best_only=True,
        save_weights_only=True,
        initial_value_threshold=1e9,
        verbose=1,
    )
    _fit(_model(), [checkpoint], epochs=2)
    assert not path.exists()
    out = capsys.readouterr().out
    assert "\nEpoch 1: val_mae did not improve from 1000000000.00000\n" in out


def test_missing_monitor_warns_and_saves(tmp_path: Path) -> None:
    checkpoint = ModelCheckpoint(
        tmp_path / "m.weights.pt", monitor="val_loss", save_best_only=True, save_weights_only=True
    )
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available."):
        _model().fit(X, Y, epochs=1, callbacks=[checkpoint], verbose=0)
    assert (tmp_path / "m.weights.pt").exists()


def test_batch_level_saving(tmp_path: Path) -> None:
    checkpoint = ModelCheckpoint(
        tmp_path / "e{epoch}-b{batch}.weights.pt", save_weights_only=True, save_freq=3
    )
    assert overrides(checkpoint, "on_train_batch_end")
    _model().fit(X, Y, epochs=2, batch_size=8, callbacks=[checkpoint], verbose=0)  # 4 batches/epoch
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "e1-b3.weights.pt",
        "e2-b2.weights.pt",
    ]


def test_epoch_saving_adds_no_batch_hooks() -> None:
    checkpoint = ModelCheckpoint("m.keras")
    assert not overrides(checkpoint, "on_train_batch_end")
    assert not overrides(checkpoint, "on_train_batch_begin")


def test_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        ModelCheckpoint("m.keras", save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.keras`"):
        ModelCheckpoint("m.weights.pt")
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        ModelCheckpoint("m.keras", save_freq="batch")
    with pytest.raises(ValueError, match="must end in `.keras`"):
        ModelCheckpoint("m.hdf5")  # Keras's ModelCheckpoint takes `.keras` and `.h5` only
    (tmp_path / "dir.weights.pt").mkdir()
    checkpoint = ModelCheckpoint(str(tmp_path / "dir.weights.pt"), save_weights_only=True)
    with pytest.raises(OSError, match="non-directory filepath"):
        _model().fit(X, Y, epochs=1, callbacks=[checkpoint], verbose=0)
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        _model().fit(
            X, Y, epochs=1, callbacks=[ModelCheckpoint(str(tmp_path / "{nope}.keras"))], verbose=0
        )


class _SavingStub:
    """A model for either library's callback: records where it was asked to save."""

    def __init__(self) -> None:
        self.saved: list[str] = []
        self.metrics: list[Any] = []

    def save(self, filepath: str, overwrite: bool = True) -> None:
        self.saved.append(str(filepath))

    save_weights = save


@pytest.mark.keras
@pytest.mark.parametrize(
    "kwargs",
    [
        {"save_best_only": True},
        {"save_best_only": True, "mode": "max", "monitor": "val_acc"},
        {"save_best_only": True, "initial_value_threshold": 0.5},
        {"save_best_only": False},
    ],
)
def test_same_decisions_and_messages_as_keras(
    kwargs: dict[str, Any], keras: Any, capsys: Any
) -> None:
    logs = [
        {"val_loss": 0.9, "val_acc": 0.5},
        {"val_loss": 0.7, "val_acc": 0.4},
        {"val_loss": 0.7, "val_acc": 0.6},
        {"val_loss": 0.3, "val_acc": 0.6},
        {"val_loss": 0.8, "val_acc": 0.9},
    ]
    results = []
    for lib in (keras, kseq):
        stub = _SavingStub()
        callback = lib.callbacks.ModelCheckpoint(
            "ckpt-{epoch:02d}-{val_loss:.1f}.keras", verbose=1, **kwargs
        )
        callback.set_model(stub)
        for epoch, entry in enumerate(logs):
            callback.on_epoch_begin(epoch, {})
            callback.on_epoch_end(epoch, dict(entry))
        results.append((stub.saved, capsys.readouterr().out))
    assert results[0] == results[1]
