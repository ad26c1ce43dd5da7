"""``scripts/bench_data.py`` runs: its smoke mode writes every row with the paired ratios, and the
DataLoader and torch-module contenders, started from the same weights, learn alike (nothing timed)."""

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
    assert set(rows) == {"hand-loader", "fit-loader", "fit-Model(net)", "fit-wrapper", "fit-arrays"}
    for row in rows.values():
        assert math.isfinite(row["loss"]) and row["loss"] > 0 and row["us_per_step"] > 0
        assert f"| {row['contender']} |" in out_md.read_text()
    # The same initial weights and the same DataLoader order: fit on the Dense stack, on the
    # torch network wrapped as kseq.Model(net) and in a Sequential, and the hand loop learn alike.
    for name in ("fit-loader", "fit-Model(net)", "fit-wrapper"):
        assert rows[name]["loss"] == pytest.approx(rows["hand-loader"]["loss"], rel=0.01), name
    assert rows["fit-Model(net)"]["loss"] == pytest.approx(rows["fit-wrapper"]["loss"], rel=1e-5)
    assert set(result["ratios"]) == {
        "fit-loader/hand-loader", "fit-Model(net)/hand-loader", "fit-wrapper/hand-loader",
        "fit-arrays/fit-loader",
    }  # fmt: skip
    targets = {t["ratio"]: t["target"] for t in result["targets"]}
    assert targets == {
        "fit-loader/hand-loader": 0.97, "fit-Model(net)/hand-loader": 0.98,
        "fit-wrapper/hand-loader": 0.98,
    }  # fmt: skip
    assert "Paired median fit-loader/hand-loader" in proc.stdout
    assert "Paired median fit-wrapper/hand-loader" in proc.stdout
