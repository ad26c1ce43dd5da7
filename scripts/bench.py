"""Training benchmark: kseq ``fit`` vs two hand-written PyTorch loops vs Keras 3 (torch backend).

Workloads (the same data, initial weights, optimizer and warm-up for every contender; see
``bench_contenders.py`` for what each contender does):

* ``mlp``: 20 -> 64 -> 64 -> 1 MLP, batch 32, binary crossentropy + accuracy.
* ``mlp-verbose``: the same with ``verbose=1`` (a progress bar on a terminal; the hand loops print
  one line per epoch).
* ``cnn``: 28x28x1 -> Conv(32) -> Pool -> Conv(64) -> Pool -> Dropout -> Dense(10), batch 128.
* ``lstm``: Embedding(5000, 64), length 80 -> LSTM(64) -> Dense(1), batch 64.

Contenders: ``kseq`` (``fit``), ``kseq-jit`` (``compile(jit_compile=True)``, timed after a warm-up
that compiles; dynamo's graph and recompile counts are reported), ``typical`` and ``expert``
(hand-written loops) and ``keras`` (when installed).

Every run is its own process (``python bench.py --child ...``), so imports, allocator state and peak
RSS (``resource.getrusage``) are per run. The runs of a repeat are interleaved (one run of every row,
the order rotated each repeat) and each ratio is computed between runs of the same repeat, then the
median over repeats is reported: machine load that changes between repeats hits both sides of a ratio
alike. Absolute numbers on a shared machine are noisy; the paired ratios much less so.

Usage::

    python scripts/bench.py                              # CPU, all workloads, 3 repeats
    python scripts/bench.py --workloads mlp,cnn --repeats 5 --json out.json --markdown out.md
    python scripts/bench.py --device cuda
    python scripts/bench.py --smoke --json /tmp/b.json   # seconds: tiny sizes, 1 repeat (a test)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import os
import platform
import pty
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

# The kseq of this checkout (the script's parent folder), not whichever one is installed.
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench_contenders as bc
import bench_harness

ROW_ORDER = ("kseq", "kseq-jit", "typical", "expert", "keras")


def child(spec: dict[str, Any], out_path: str) -> None:
    """Run one row (or, with ``--smoke``, several) in this process and write the results as JSON."""
    results = []
    for job in spec["jobs"]:
        if job["contender"] == "import":
            start = time.perf_counter()
            import torch

            mid = time.perf_counter()
            import kseq  # noqa: F401

            results.append({"torch_s": mid - start, "kseq_s": time.perf_counter() - mid})
            continue
        wl = bc.Workload(**job["workload"])
        run = bc.CONTENDERS[job["contender"]]
        start = time.perf_counter()
        result = run(wl, job["init"], spec["device"], job["verbose"])
        result["process_s"] = time.perf_counter() - start
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if spec["device"].startswith("cuda"):
            import torch

            result["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
        results.append(result)
    with open(out_path, "w") as f:
        json.dump(results, f)


def _drain(fd: int) -> None:
    """Read (and drop) what a child prints to its terminal, so that it never blocks."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def spawn(spec: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
    """One child process on a pseudo-terminal (progress bars draw as for a user); its results."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out_path = f.name
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=os.pathsep.join(sys.path[:2]))
    if not spec["device"].startswith("cuda"):
        env["CUDA_VISIBLE_DEVICES"] = ""  # Keras would otherwise pick a GPU
    master, slave = pty.openpty()
    reader = threading.Thread(target=_drain, args=(master,), daemon=True)
    reader.start()
    cmd = [sys.executable, __file__, "--child", json.dumps(spec), "--child-out", out_path]
    try:
        proc = subprocess.run(cmd, stdout=slave, stderr=subprocess.PIPE, env=env, timeout=timeout)
    finally:
        os.close(slave)
        reader.join(timeout=5)
        os.close(master)
    try:
        if proc.returncode != 0:
            raise RuntimeError(f"child {spec['jobs']} failed:\n{proc.stderr.decode()[-4000:]}")
        with open(out_path) as f:
            return json.load(f)
    finally:
        os.unlink(out_path)


def rows_for(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The (workload, contender) rows the options ask for, in table order."""
    contenders = [c for c in args.contenders.split(",") if c]
    if args.no_keras or importlib.util.find_spec("keras") is None:
        contenders = [c for c in contenders if c != "keras"]
    jit = set(args.jit_workloads.split(","))
    rows = []
    for w in args.workloads.split(","):
        for c in ROW_ORDER:
            if c in contenders and (c != "kseq-jit" or w in jit):
                rows.append((w, c))
    return rows


def workload_of(name: str, contender: str, args: argparse.Namespace) -> bc.Workload:
    """The workload's sizes after ``--smoke``/``--epochs``/``--steps``/``--jit-steps``."""
    wl = bc.WORKLOADS[name.removesuffix("-verbose")]
    if args.smoke:
        return dataclasses.replace(wl, samples=2 * wl.batch_size, epochs=1)
    if contender == "kseq-jit" and args.jit_steps:
        return dataclasses.replace(wl, samples=args.jit_steps * wl.batch_size, epochs=1)
    if args.steps:
        wl = dataclasses.replace(wl, samples=args.steps * wl.batch_size)
    return dataclasses.replace(wl, epochs=args.epochs or wl.epochs)


def paired(runs: dict[tuple[str, str], list[dict]], a: tuple, b: tuple, key: str) -> float | None:
    """Median over repeats of ``b[key] / a[key]`` taken within each repeat (a ratio > 1: a is faster)."""
    if a not in runs or b not in runs:
        return None
    return statistics.median(rb[key] / ra[key] for ra, rb in zip(runs[a], runs[b], strict=True))


def summarize(runs: dict[tuple[str, str], list[dict]], imports: list[dict]) -> dict[str, Any]:
    """Medians per row, paired ratios, and the issue's targets."""
    for r in (r for rs in runs.values() for r in rs):
        r["us_per_step"] = r["seconds"] / r["steps"] * 1e6
        r["samples_per_s"] = r["samples"] / r["seconds"]
    rows = []
    for (w, c), rs in runs.items():
        row: dict[str, Any] = {"workload": w, "contender": c, "runs": rs}
        for key in ("us_per_step", "samples_per_s", "peak_rss_mib", "loss", "accuracy"):
            row[key] = statistics.median(r[key] for r in rs)
        row["vs_typical"] = paired(runs, (w, c), (w, "typical"), "us_per_step")
        row["vs_expert"] = paired(runs, (w, c), (w, "expert"), "us_per_step")
        row["rss_vs_typical"] = paired(runs, (w, "typical"), (w, c), "peak_rss_mib")
        if c == "kseq-jit":
            row["vs_eager"] = paired(runs, (w, c), (w, "kseq"), "us_per_step")
            row["compiles"] = rs[-1]["compiles"]
        rows.append(row)
    summary: dict[str, Any] = {"rows": rows}
    if imports:
        summary["import_s"] = {k: statistics.median(i[k] for i in imports) for k in imports[0]}
    summary["verbose_vs_quiet"] = paired(
        runs, ("mlp-verbose", "kseq"), ("mlp", "kseq"), "us_per_step"
    )
    summary["targets"] = targets(summary, {(r["workload"], r["contender"]): r for r in rows})
    return summary


def targets(summary: dict[str, Any], rows: dict[tuple[str, str], dict]) -> list[dict[str, Any]]:
    """Issue 12's targets: each one's measured value and whether it is met."""
    out = []

    def add(name: str, value: float | None, ok: bool) -> None:
        if value is not None:
            out.append({"target": name, "value": round(value, 3), "met": ok})

    for w, goal in (("mlp", 1.2), ("cnn", 1.5), ("lstm", 1.0)):
        row = rows.get((w, "kseq"), {})
        v = row.get("vs_typical")
        add(f"{w}: kseq >= {goal}x typical loop", v, v is not None and v >= goal)
        v = row.get("vs_expert")
        add(f"{w}: kseq >= 1.0x expert loop", v, v is not None and v >= 1.0)
        v = row.get("rss_vs_typical")
        add(f"{w}: kseq peak RSS <= typical loop + 10%", v, v is not None and v <= 1.10)
    v = summary["verbose_vs_quiet"]
    add(
        "mlp: verbose=1 within 2% of verbose=0 (quiet/verbose speed)",
        v,
        v is not None and v >= 0.98,
    )
    imp = summary.get("import_s")
    if imp:
        add("`import kseq` adds < 0.3 s to `import torch` (s)", imp["kseq_s"], imp["kseq_s"] < 0.3)
    return out


def markdown(result: dict[str, Any]) -> str:
    """The table README.md shows, with the command and the machine that made it."""
    meta = result["meta"]
    lines = [
        f"`{meta['command']}` — {meta['device']}, {meta['threads']} threads, torch {meta['torch']}"
        + (f", Keras {meta['keras']}" if meta.get("keras") else "")
        + f", {meta['repeats']} repeats (median; ratios paired within a repeat; load average at "
        f"start {meta['loadavg']}).",
        "",
        "| workload | contender | steps | µs/step | samples/s | × typical | × expert | peak RSS MiB | final loss | accuracy |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]

    def x(v: float | None) -> str:
        return "" if v is None else f"{v:.2f}×"

    for r in result["rows"]:
        lines.append(
            f"| {r['workload']} | {r['contender']} | {r['runs'][0]['steps']} | {r['us_per_step']:,.0f} | {r['samples_per_s']:,.0f} "
            f"| {x(r['vs_typical'])} | {x(r['vs_expert'])} | {r['peak_rss_mib']:.0f} "
            f"| {r['loss']:.4f} | {r['accuracy']:.3f} |"
        )
    lines += [
        "",
        "* steps: timed steps (after two warm-up steps); final loss and accuracy: the last timed "
        "epoch's means, from the same initial weights and data for every contender (kseq-jit runs "
        "fewer steps). On a shared machine µs/step swing with the load; the × columns are "
        "ratios of runs in the same repeat, medians over repeats.",
    ]
    for r in result["rows"]:
        if r["contender"] == "kseq-jit":
            c = r["compiles"]
            lines.append(
                f"* `jit_compile=True` ({r['workload']}): {x(r['vs_eager'])} eager kseq's speed after "
                f"warm-up; dynamo compiled {c['warmup_graphs']} graphs in warm-up, "
                f"{c['timed_graphs']} more ({c['timed_recompiles']} recompiles) in the timed steps."
            )
    if result.get("import_s"):
        i = result["import_s"]
        lines.append(
            f"* `import torch` {i['torch_s']:.2f} s, then `import kseq` {i['kseq_s']:.2f} s more."
        )
    if result["targets"]:
        lines.append("* Targets (issue 12): " + "; ".join(
            f"{t['target']}: {t['value']} {'met' if t['met'] else '**not met**'}" for t in result["targets"]
        ) + ".")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workloads", default="mlp,mlp-verbose,cnn,lstm")
    parser.add_argument("--contenders", default=",".join(ROW_ORDER))
    parser.add_argument("--jit-workloads", default="mlp", help="workloads with a kseq-jit row")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, help="timed epochs (default: per workload)")
    parser.add_argument("--steps", type=int, help="steps per epoch (default: per workload)")
    parser.add_argument("--jit-steps", type=int, default=16, help="timed steps of kseq-jit rows")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="1 repeat, 2 steps, one process")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per child process")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", help="write the markdown table here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child), args.child_out)
        return {}
    repeats = 1 if args.smoke else args.repeats
    rows = rows_for(args)
    tmp = tempfile.mkdtemp(prefix="kseq-bench-")
    inits = {}
    for w in {w.removesuffix("-verbose") for w, _ in rows}:
        inits[w] = os.path.join(tmp, f"{w}.npz")
        bc.write_initial_weights(w, inits[w])
    jobs = {
        (w, c): {"contender": c, "verbose": int(w.endswith("-verbose")),
                 "workload": dataclasses.asdict(workload_of(w, c, args)),
                 "init": inits[w.removesuffix("-verbose")]}
        for w, c in rows
    }  # fmt: skip
    import torch

    meta = {
        "command": "python scripts/bench.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "device": args.device if args.device != "cpu" else f"CPU ({platform.processor() or platform.machine()})",
        "threads": torch.get_num_threads(), "torch": torch.__version__, "repeats": repeats,
        "loadavg": ", ".join(f"{v:.1f}" for v in os.getloadavg()), "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }  # fmt: skip
    if any(c == "keras" for _, c in rows):
        from importlib.metadata import version

        meta["keras"] = version("keras")
    print(f"{meta['command']}: {len(rows)} rows x {repeats} repeats, torch {torch.__version__}, "
          f"{meta['threads']} threads, load {meta['loadavg']}", flush=True)  # fmt: skip
    runs: dict[tuple[str, str], list[dict]] = {row: [] for row in rows}
    imports: list[dict] = []
    spec_base = {"device": args.device}
    if args.smoke:  # every row once, in one process: checks that the code runs, measures nothing
        results = spawn({**spec_base, "jobs": [jobs[r] for r in rows]}, args.timeout)
        for row, result in zip(rows, results, strict=True):
            runs[row].append(result)
    for rep in range(0 if args.smoke else repeats):
        imports += spawn({**spec_base, "jobs": [{"contender": "import"}]}, args.timeout)
        order = rows[rep * len(rows) // repeats :] + rows[: rep * len(rows) // repeats]
        for row in order:
            start = time.perf_counter()
            (result,) = spawn({**spec_base, "jobs": [jobs[row]]}, args.timeout)
            runs[row].append(result)
            print(f"  repeat {rep + 1}/{repeats} {row[0]:>11} {row[1]:<8} "
                  f"{result['seconds'] / result['steps'] * 1e6:9.0f} µs/step  loss {result['loss']:.4f}  "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)  # fmt: skip
    result = {"meta": meta, **summarize(runs, imports)}
    bench_harness.write_outputs(result, markdown(result), args.json, args.markdown, lead="\n")
    return result


if __name__ == "__main__":
    main()
