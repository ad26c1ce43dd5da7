"""CSVLogger writes Keras's file byte for byte (columns, number formatting, NA, arrays,
separator), continues a file in append mode, and works inside fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kseq
from kseq.callbacks import CSVLogger

EPOCHS = [
    {"loss": 0.123456789012, "accuracy": 0.5, "val_loss": 1e-8, "val_accuracy": 1.0},
    {"loss": float("nan"), "accuracy": 2 / 3, "val_loss": 12345.678, "val_accuracy": 0.25},
]


def _write(logger, epochs, start: int = 0) -> None:
    logger.on_train_begin({})
    for i, logs in enumerate(epochs, start):
        logger.on_epoch_end(i, dict(logs))
    logger.on_train_end({})


@pytest.mark.keras
@pytest.mark.parametrize(
    ("separator", "epochs"),
    [
        (",", EPOCHS),
        (";", [{"loss": 0.25, "weights": np.array([1.5, 2.0]), "lr": np.float32(0.001)}]),
        ("\t", [{"loss": 1.0}, {"loss": 0.5, "extra": 3}]),  # a key seen only later is dropped
        (",", [{"b": 1, "a": 2}, {"a": 3}]),  # missing -> NA, val_ columns added
    ],
)
def test_file_equals_keras(keras, tmp_path: Path, separator, epochs) -> None:
    _write(CSVLogger(tmp_path / "ours.csv", separator=separator), epochs)
    _write(keras.callbacks.CSVLogger(str(tmp_path / "keras.csv"), separator=separator), epochs)
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "keras.csv").read_bytes()


@pytest.mark.keras
def test_append_mode_equals_keras(keras, tmp_path: Path) -> None:
    for lib, name in ((kseq, "ours.csv"), (keras, "keras.csv")):
        path = str(tmp_path / name)
        _write(lib.callbacks.CSVLogger(path, append=True), EPOCHS[:1])
        _write(lib.callbacks.CSVLogger(path, append=True), EPOCHS[1:], start=1)
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "keras.csv").read_bytes()


def test_format_without_keras(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    _write(CSVLogger(path), EPOCHS)
    assert path.read_bytes() == (
        b"epoch,accuracy,loss,val_accuracy,val_loss\r\n"
        b"0,0.5,0.123456789012,1.0,1e-08\r\n"
        b"1,0.6666666666666666,nan,0.25,12345.678\r\n"
    )


def test_append_continues_without_a_second_header(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    _write(CSVLogger(path, append=True), [{"loss": 1.0}])
    _write(CSVLogger(path, append=True), [{"loss": 0.5}], start=1)
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,1.0,NA", "1,0.5,NA"]
    _write(CSVLogger(path), [{"loss": 0.25}])  # append=False overwrites
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,0.25,NA"]


def test_in_fit_with_validation(tmp_path: Path) -> None:
    model = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.ones((8, 2), "float32")
    path = tmp_path / "fit.csv"
    history = model.fit(
        x, x[:, :1], epochs=3, validation_data=(x, x[:, :1]), callbacks=[CSVLogger(path)], verbose=0
    )
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,mae,val_loss,val_mae"
    assert len(lines) == 4
    row = dict(zip(lines[0].split(","), lines[2].split(","), strict=True))
    assert float(row["val_mae"]) == history.history["val_mae"][1]


def test_epoch_end_before_train_begin_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"before on_train_begin\(\)"):
        CSVLogger(tmp_path / "x.csv").on_epoch_end(0, {"loss": 1.0})
