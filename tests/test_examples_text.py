"""examples/text_sequence.py: Embedding(mask_zero=True) -> LSTM -> Dense learns an order-dependent
task on variable-length, pre- and post-padded sequences, far above chance, in seconds."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_text_sequence_example_reaches_target_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(EXAMPLES / "text_sequence.py"))
    accuracy = module["main"]()
    out = capsys.readouterr().out
    assert accuracy > 0.9
    assert 'Model: "sequential' in out and "lstm (LSTM)" in out and "Epoch 8/8" in out
    pre, post = map(float, re.search(r"pre- vs post-padded: ([\d.]+) vs ([\d.]+)", out).groups())
    assert pre == pytest.approx(post, abs=1e-5)


def test_generated_data_is_balanced_and_padded_both_ways() -> None:
    module = runpy.run_path(str(EXAMPLES / "text_sequence.py"))
    x, y = module["make_data"](200, seed=0)
    assert 0.4 < y.mean() < 0.6
    assert (x[0::2, 0] != 0).all() and (x[1::2, -1] != 0).all()  # post- then pre-padded rows
    has_pattern = module["has_pattern"]
    assert all(has_pattern(row[row != 0]) == bool(label) for row, label in zip(x, y, strict=True))
