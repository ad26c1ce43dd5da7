"""examples/cnn_digits.py: a Keras-style CNN on the 8x8 digits reaches > 0.9 test accuracy, and the
script's exit status says whether the target was met."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "cnn_digits.py"


def test_cnn_digits_example_reaches_target_accuracy() -> None:
    # One OpenMP thread: the example's tiny convolutions gain nothing from more, and on a busy
    # 2-core machine spinning OpenMP threads make them many times slower.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert 'Model: "sequential"' in run.stdout and "conv2d (Conv2D)" in run.stdout
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", run.stdout).group(1))
    assert accuracy > 0.9


def test_cnn_digits_example_fails_when_target_is_missed(capsys: pytest.CaptureFixture[str]) -> None:
    main = runpy.run_path(str(SCRIPT))["main"]
    assert main(["--epochs", "1", "--target", "1.01"]) == 1
    assert "FAILED: test accuracy" in capsys.readouterr().out
