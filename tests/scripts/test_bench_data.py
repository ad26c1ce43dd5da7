"""``scripts/bench_data.py`` runs: its smoke mode writes every row with the paired ratios, and the
DataLoader contenders, started from the same weights, learn alike (nothing timed)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_data.py"


def test_smoke_writes_every_row_and_the_paired_ratios(tmp_path: Path) -> None:
    out_json, out_md = tmp_path / "data.json", tmp_path / "data.md"
    cmd = [sys.executable, str(SCRIPT), "--smoke", "--device", "cpu", "--json", str(out_json)]
    env = dict(os.environ, PYTHONPATH=str(SCRIPT.parents[1]))
    proc = subprocess.run(
        [*cmd, "--markdown", str(out_md)], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out_json.read_text())
    rows = {r["contender"]: r for r in result["rows"]}
    assert set(rows) == {"fit-loader", "hand-loader", "fit-arrays"}
    for row in rows.values():
        assert math.isfinite(row["loss"]) and row["loss"] > 0 and row["us_per_step"] > 0
        assert f"| {row['contender']} |" in out_md.read_text()
    # The same initial weights and the same DataLoader: fit and the hand loop learn alike.
    assert rows["fit-loader"]["loss"] == pytest.approx(rows["hand-loader"]["loss"], rel=0.05)
    assert set(result["ratios"]) == {"fit-loader/hand-loader", "fit-arrays/fit-loader"}
    assert result["target"]["fit-loader/hand-loader"] == 0.97
    assert "Paired median fit-loader / hand-loader" in proc.stdout
