"""examples/torch_module_fit.py: a user's nn.Module and DataLoader trained with compile/fit/callbacks."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "torch_module_fit.py"


def test_torch_module_example(capsys: pytest.CaptureFixture[str]) -> None:
    accuracy = runpy.run_path(str(EXAMPLE))["main"]()
    out = capsys.readouterr().out
    assert accuracy > 0.85
    assert "inp (Linear)" in out and "block (Sequential)" in out
    assert "Trained " in out and "Plain-torch accuracy" in out
