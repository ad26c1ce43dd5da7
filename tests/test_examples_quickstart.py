"""The README's main job: examples/quickstart.py trains to > 0.93 test accuracy."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_example_reaches_target_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(EXAMPLES / "quickstart.py"))
    accuracy = module["main"]()
    out = capsys.readouterr().out
    assert accuracy > 0.93
    assert 'Model: "sequential"' in out and "Epoch 20/20" in out
    assert "History keys: ['accuracy', 'loss', 'val_accuracy', 'val_loss']" in out
