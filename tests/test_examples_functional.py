"""examples/functional_two_inputs.py: a two-input functional model trains to > 0.9 accuracy."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_functional_two_inputs_example_reaches_target_accuracy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = runpy.run_path(str(EXAMPLES / "functional_two_inputs.py"))
    accuracy = module["main"]()
    out = capsys.readouterr().out
    assert accuracy > 0.9
    assert 'Model: "two_inputs"' in out and "Connected to" in out and "Epoch 10/10" in out
