"""examples/callbacks_wine.py: early stopping, checkpointing, LR reduction and CSV logging together."""

from __future__ import annotations

import csv
import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "callbacks_wine.py"


def test_callbacks_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    accuracy = runpy.run_path(str(EXAMPLE))["main"](tmp_path)
    out = capsys.readouterr().out
    assert accuracy > 0.9
    assert (
        "early stopping" in out and "Restoring model weights from the end of the best epoch" in out
    )
    assert "ReduceLROnPlateau reducing learning rate" in out
    assert (tmp_path / "best.keras").is_file()
    with (tmp_path / "training_log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) < 200 and {"epoch", "loss", "val_loss", "learning_rate"} <= set(rows[0])
