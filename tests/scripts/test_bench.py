"""``scripts/bench.py`` still runs: its smoke mode writes every row, with finite losses (nothing timed)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"
WORKLOADS = ("mlp", "mlp-verbose", "cnn", "lstm")


def run_smoke(tmp_path: Path, *options: str) -> dict:
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    cmd = [
        sys.executable,
        str(BENCH),
        "--smoke",
        "--json",
        str(out_json),
        "--markdown",
        str(out_md),
    ]
    proc = subprocess.run([*cmd, *options], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out_json.read_text())
    table = out_md.read_text()
    for row in result["rows"]:
        assert f"| {row['workload']} | {row['contender']} |" in table
    return result


def test_smoke_writes_every_row_with_finite_losses(tmp_path: Path) -> None:
    result = run_smoke(tmp_path, "--no-keras")
    rows = {(r["workload"], r["contender"]): r for r in result["rows"]}
    expected = {(w, c) for w in WORKLOADS for c in ("kseq", "typical", "expert")}
    assert set(rows) == expected | {("mlp", "kseq-jit")}
    for row in rows.values():
        assert math.isfinite(row["loss"]) and row["loss"] > 0
        assert row["us_per_step"] > 0 and row["peak_rss_mib"] > 0
    # Equal learning outcomes: the same initial weights and first batches give nearly the same loss.
    for w in WORKLOADS:
        assert rows[(w, "kseq")]["loss"] == pytest.approx(rows[(w, "typical")]["loss"], rel=0.1)
    assert rows[("mlp", "typical")]["vs_typical"] == 1.0
    compiles = rows[("mlp", "kseq-jit")]["compiles"]
    assert compiles["warmup_graphs"] >= 1 and compiles["timed_recompiles"] >= 0
    assert {t["target"].split(":")[0] for t in result["targets"]} >= {"mlp", "cnn", "lstm"}


@pytest.mark.keras
def test_smoke_keras_rows(tmp_path: Path, keras) -> None:
    result = run_smoke(tmp_path, "--workloads", "mlp,mlp-verbose", "--contenders", "keras,typical")
    rows = {(r["workload"], r["contender"]): r for r in result["rows"]}
    assert set(rows) == {(w, c) for w in ("mlp", "mlp-verbose") for c in ("keras", "typical")}
    assert rows[("mlp", "keras")]["loss"] == pytest.approx(
        rows[("mlp", "typical")]["loss"], rel=0.1
    )
