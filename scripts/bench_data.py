"""Streaming benchmark: ``fit`` on a ``DataLoader`` vs the same ``DataLoader`` in a hand-written
PyTorch loop, with ``fit`` on the same data as in-memory arrays beside them.

One workload (an MLP classifier, 64 -> 256 -> 256 -> 10, Adam, sparse categorical crossentropy and
accuracy), one ``DataLoader`` object (shuffled, ``pin_memory`` on CUDA) shared by both streaming
contenders, and the same initial weights for every contender:

* ``fit-loader``: ``model.fit(loader)``.
* ``hand-loader``: the same ``nn.Linear`` stack and ``torch.optim.Adam`` in a careful loop:
  ``non_blocking`` copies, ``zero_grad(set_to_none=True)``, loss and accuracy summed on the device,
  one host sync per epoch (what ``fit`` reports too).
* ``fit-arrays``: ``model.fit(x, y)`` (device-resident data, shuffled on the device).

Runs are in one process, paired: every repeat runs each contender once (the order rotated each
repeat), ratios are taken between runs of the same repeat and the median over repeats is
reported, so machine load that changes between repeats hits both sides alike. Target:
``fit-loader`` at >= 0.97x the hand loop's throughput.

Usage::

    python scripts/bench_data.py                       # the default device, 5 repeats
    python scripts/bench_data.py --device cuda --repeats 7 --json out.json --markdown out.md
    python scripts/bench_data.py --smoke --json /tmp/d.json   # seconds: tiny sizes (a test)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

# The kseq of this checkout (the script's parent folder), not whichever one is installed.
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

FEATURES, HIDDEN, CLASSES = 64, 256, 10
CONTENDERS = ("fit-loader", "hand-loader", "fit-arrays")
TARGET = 0.97


def make_data(samples: int) -> tuple[np.ndarray, np.ndarray]:
    """A learnable 10-class problem: the class is the arg-max of a fixed projection."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, FEATURES)).astype("float32")
    y = (x @ rng.normal(size=(FEATURES, CLASSES))).argmax(axis=1).astype("int64")
    return x, y


def kseq_model(init: list[np.ndarray] | None) -> Any:
    import kseq

    model = kseq.Sequential(
        [
            kseq.Input(shape=(FEATURES,)),
            kseq.layers.Dense(HIDDEN, activation="relu"),
            kseq.layers.Dense(HIDDEN, activation="relu"),
            kseq.layers.Dense(CLASSES),
        ]
    )
    if init is not None:
        model.set_weights(init)
    model.compile(
        optimizer=kseq.optimizers.Adam(learning_rate=1e-3),
        loss=kseq.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def torch_model(init: list[np.ndarray], device: torch.device) -> nn.Module:
    """The same network in plain torch, from the same (Keras-layout) weights."""
    net = nn.Sequential(
        nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, CLASSES),
    )  # fmt: skip
    linears = [m for m in net if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for layer, kernel, bias in zip(linears, init[0::2], init[1::2], strict=True):
            layer.weight.copy_(torch.from_numpy(kernel.T))
            layer.bias.copy_(torch.from_numpy(bias))
    return net.to(device)


def hand_loop(
    loader: DataLoader, init: list[np.ndarray], device: torch.device, epochs: int
) -> float:
    """A careful hand-written loop over ``loader``; returns the last epoch's mean loss."""
    net = torch_model(init, device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    last = math.nan
    for _ in range(epochs):
        net.train()
        total = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        seen = 0
        for xb, yb in loader:
            xb = xb.to(device, non_blocking=True)
            yb = yb.to(device, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            logits = net(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            total += loss.detach() * yb.shape[0]
            correct += (logits.argmax(1) == yb).sum()
            seen += yb.shape[0]
        last = float(total) / seen  # the epoch's one host sync (fit's epoch end has one too)
        _ = float(correct) / seen
    return last


def timed(fn: Callable[[], float], device: torch.device) -> tuple[float, float]:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    loss = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, loss


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every contender ``args.repeats`` times, interleaved; the rows and the paired ratios."""
    device = torch.device(args.device)
    os.environ["KSEQ_DEVICE"] = str(device)
    import kseq

    kseq.utils.set_random_seed(0)
    x, y = make_data(args.samples)
    probe = kseq_model(None)
    probe.build((None, FEATURES))
    init = probe.get_weights()
    loader = DataLoader(
        TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=args.batch_size,
        shuffle=True,
        pin_memory=device.type == "cuda",
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
    )
    steps = len(loader) * args.epochs

    def fit_loader() -> float:
        model = kseq_model(init)
        return model.fit(loader, epochs=args.epochs, verbose=0).history["loss"][-1]

    def fit_arrays() -> float:
        model = kseq_model(init)
        history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
        return history.history["loss"][-1]

    def hand() -> float:
        return hand_loop(loader, init, device, args.epochs)

    fns = {"fit-loader": fit_loader, "hand-loader": hand, "fit-arrays": fit_arrays}
    for fn in fns.values():  # warm-up: allocator, kernels, workers
        fn()
    runs: dict[str, list[dict[str, float]]] = {c: [] for c in CONTENDERS}
    for rep in range(args.repeats):
        order = CONTENDERS[rep % 3 :] + CONTENDERS[: rep % 3]
        for name in order:
            seconds, loss = timed(fns[name], device)
            runs[name].append({"seconds": seconds, "loss": loss})
    rows = []
    for name in CONTENDERS:
        secs = [r["seconds"] for r in runs[name]]
        rows.append(
            {
                "contender": name,
                "seconds": statistics.median(secs),
                "us_per_step": statistics.median(secs) / steps * 1e6,
                "samples_per_s": args.samples * args.epochs / statistics.median(secs),
                "loss": runs[name][-1]["loss"],
            }
        )

    def ratio(a: str, b: str) -> float:  # throughput of a relative to b, paired per repeat
        return statistics.median(
            rb["seconds"] / ra["seconds"] for ra, rb in zip(runs[a], runs[b], strict=True)
        )

    fit_vs_hand = ratio("fit-loader", "hand-loader")
    return {
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "platform": platform.platform(),
        "torch": torch.__version__,
        "smoke": args.smoke,
        "samples": args.samples,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "workers": args.workers,
        "repeats": args.repeats,
        "rows": rows,
        "ratios": {
            "fit-loader/hand-loader": fit_vs_hand,
            "fit-arrays/fit-loader": ratio("fit-arrays", "fit-loader"),
        },
        "target": {"fit-loader/hand-loader": TARGET, "met": fit_vs_hand >= TARGET},
    }


def markdown(result: dict[str, Any]) -> str:
    """The rows as a markdown table (throughput relative to the hand-written loop)."""
    hand = next(r for r in result["rows"] if r["contender"] == "hand-loader")
    lines = [
        f"Device: {result['gpu'] or result['device']}; batch {result['batch_size']}, "
        f"{result['samples']} samples x {result['epochs']} epochs, {result['repeats']} paired repeats.",
        "",
        "| contender | µs/step | samples/s | vs hand loop | last loss |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        rel = hand["seconds"] / r["seconds"]
        lines.append(
            f"| {r['contender']} | {r['us_per_step']:.1f} | {r['samples_per_s']:.0f} | "
            f"{rel:.2f}x | {r['loss']:.4f} |"
        )
    ratio = result["ratios"]["fit-loader/hand-loader"]
    verdict = "met" if result["target"]["met"] else "NOT met"
    lines += [
        "",
        f"Paired median fit-loader / hand-loader: {ratio:.3f}x (target >= {TARGET}: {verdict}).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default_device)
    parser.add_argument("--samples", type=int, default=65536)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader num_workers")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repeat (a test)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", help="write the markdown table here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.samples, args.batch_size, args.epochs, args.repeats = 256, 64, 1, 1
    result = run(args)
    table = markdown(result)
    print(table, end="")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    return result


if __name__ == "__main__":
    main()
