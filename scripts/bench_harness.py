"""What the benchmark scripts share: runs in their own processes, paired ratios, the outputs.

* :func:`spawn` runs ``python <script> --child <spec JSON> --child-out <file>`` and returns the
  list of results the child wrote (its own imports, allocator and peak RSS, nothing shared).
* :func:`rotated` is the order of a repeat's runs (rotated each repeat, so no contender always
  runs first or last); :func:`paired` is the median over repeats of a ratio taken within each
  repeat, so machine load that changes between repeats hits both sides alike.
* :func:`write_outputs` prints the markdown table and writes it and the JSON results.

Example::

    runs = {name: [] for name in names}
    for rep in range(repeats):
        for name in rotated(names, rep, repeats):
            (result,) = spawn(__file__, {"jobs": [name]}, timeout=600)
            runs[name].append(result)
    paired(runs, "fit", "hand", "seconds")  # > 1: fit is faster
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Hashable, Sequence
from typing import Any


def child_env(device: str) -> dict[str, str]:
    """The environment of a child: this checkout's kseq first, Keras on torch, no GPU for a CPU
    run (Keras would otherwise pick one)."""
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=os.pathsep.join(sys.path[:2]))
    if not device.startswith("cuda"):
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def spawn(
    script: str,
    spec: dict[str, Any],
    timeout: float,
    stdout: Any = subprocess.DEVNULL,
) -> list[dict[str, Any]]:
    """Run ``script`` as a child on ``spec`` (a JSON-able dict with a ``"device"``); its results.

    ``stdout`` is where the child prints (a pseudo-terminal's file descriptor shows progress bars
    as a user sees them); a failing child raises a ``RuntimeError`` with the end of its stderr.
    """
    handle, out_path = tempfile.mkstemp(suffix=".json", prefix="kseq-bench-")
    os.close(handle)
    cmd = [sys.executable, script, "--child", json.dumps(spec), "--child-out", out_path]
    try:
        proc = subprocess.run(
            cmd, stdout=stdout, stderr=subprocess.PIPE, env=child_env(spec["device"]),
            timeout=timeout,
        )  # fmt: skip
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace")[-4000:]
            raise RuntimeError(f"child {spec.get('jobs')} failed:\n{tail}")
        with open(out_path) as f:
            return json.load(f)
    finally:
        os.unlink(out_path)


def write_child_results(results: list[dict[str, Any]], out_path: str) -> None:
    """The child's side of :func:`spawn`: its results, as JSON, where the parent reads them."""
    with open(out_path, "w") as f:
        json.dump(results, f)


def rotated(rows: Sequence[Any], rep: int, repeats: int) -> list[Any]:
    """The rows of repeat ``rep`` of ``repeats``, rotated so each row takes each place in turn.

    Example:
        >>> rotated(["a", "b", "c"], 1, 3)
        ['b', 'c', 'a']
    """
    at = rep * len(rows) // max(repeats, 1)
    return [*rows[at:], *rows[:at]]


def paired(
    runs: dict[Hashable, list[dict[str, Any]]], a: Hashable, b: Hashable, key: str
) -> float | None:
    """Median over repeats of ``b[key] / a[key]`` within each repeat (with a time as ``key``,
    a ratio > 1 means ``a`` is faster); ``None`` when either row is missing.

    Example:
        >>> paired({"a": [{"s": 1.0}, {"s": 2.0}], "b": [{"s": 2.0}, {"s": 2.0}]}, "a", "b", "s")
        1.5
    """
    if a not in runs or b not in runs or not runs[a]:
        return None
    return statistics.median(rb[key] / ra[key] for ra, rb in zip(runs[a], runs[b], strict=True))


def write_outputs(
    result: dict[str, Any],
    table: str,
    json_path: str | None,
    markdown_path: str | None,
    indent: int = 1,
    lead: str = "",
) -> None:
    """Print ``table`` (after ``lead``) and write it and ``result`` where asked."""
    print(lead + table, end="" if table.endswith("\n") else "\n")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=indent)
    if markdown_path:
        with open(markdown_path, "w") as f:
            f.write(table)
