"""Streaming and torch-module benchmark: ``fit`` on a ``DataLoader`` and on a wrapped ``nn.Module``
vs the same ``DataLoader`` and module in a hand-written PyTorch loop, arrays beside them.

One workload (an MLP classifier, 64 -> 256 -> 256 -> 10, Adam, sparse categorical crossentropy and
accuracy), the same initial weights for every contender, and in every run the same ``DataLoader``
(shuffled by a generator seeded alike in each run, ``pin_memory`` on CUDA):

* ``hand-loader``: a plain ``torch.nn.Sequential`` of ``nn.Linear``/``nn.ReLU`` and
  ``torch.optim.Adam`` in a careful loop: ``non_blocking`` copies, ``zero_grad(set_to_none=True)``,
  loss and accuracy summed on the device, one host sync per epoch (what ``fit`` reports too).
* ``fit-loader``: a kseq ``Sequential`` of ``Dense`` layers, ``model.fit(loader)``.
* ``fit-Model(net)``: that same torch network wrapped as ``kseq.Model(net)``, ``fit(loader)``.
* ``fit-wrapper``: that same torch network in ``Sequential([Input, net])`` (a
  ``TorchModuleWrapper``), ``fit(loader)``.
* ``fit-arrays``: the ``Dense`` model's ``fit(x, y)`` (device-resident data, shuffled on the device).

Every run is its own process (``bench_harness.spawn``: its own imports and allocator), timed after a
one-epoch warm-up in that process. The runs of a repeat are interleaved (the order rotated each
repeat) and each ratio is taken between runs of the same repeat, then the median over repeats is
reported. Targets: ``fit-loader`` >= 0.97x and ``fit-Model(net)``, ``fit-wrapper`` >= 0.98x the
hand loop's throughput.

Usage::

    python scripts/bench_data.py                       # the default device, 5 repeats
    python scripts/bench_data.py --device cuda --repeats 7 --json out.json --markdown out.md
    python scripts/bench_data.py --smoke --json /tmp/d.json   # seconds: tiny sizes, one process
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

import bench_harness as harness

FEATURES, HIDDEN, CLASSES = 64, 256, 10
CONTENDERS = ("hand-loader", "fit-loader", "fit-Model(net)", "fit-wrapper", "fit-arrays")
TARGETS = {"fit-loader": 0.97, "fit-Model(net)": 0.98, "fit-wrapper": 0.98}


def make_data(samples: int) -> tuple[Any, Any]:
    """A learnable 10-class problem: the class is the arg-max of a fixed projection."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, FEATURES)).astype("float32")
    y = (x @ rng.normal(size=(FEATURES, CLASSES))).argmax(axis=1).astype("int64")
    return x, y


def torch_net() -> Any:
    """The network in plain torch, with the same initial weights in every run."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, CLASSES),
    )  # fmt: skip


def dense_model(net: Any) -> Any:
    """The same network as kseq ``Dense`` layers, from ``net``'s weights (Keras layout)."""
    import kseq

    model = kseq.Sequential(
        [
            kseq.Input(shape=(FEATURES,)),
            kseq.layers.Dense(HIDDEN, activation="relu"),
            kseq.layers.Dense(HIDDEN, activation="relu"),
            kseq.layers.Dense(CLASSES),
        ]
    )
    linears = [m for m in net if type(m).__name__ == "Linear"]
    model.set_weights(
        [w for m in linears for w in (m.weight.detach().T.numpy(), m.bias.detach().numpy())]
    )
    return model


def compiled(model: Any) -> Any:
    import kseq

    model.compile(
        optimizer=kseq.optimizers.Adam(learning_rate=1e-3),
        loss=kseq.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def make_loader(x: Any, y: Any, spec: dict[str, Any]) -> Any:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    return DataLoader(
        TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=spec["batch_size"],
        shuffle=True,
        generator=torch.Generator().manual_seed(0),  # the same order in every run
        pin_memory=spec["device"].startswith("cuda"),
        num_workers=spec["workers"],
        persistent_workers=spec["workers"] > 0,
    )


def hand_loop(loader: Any, net: Any, device: Any) -> Callable[[int], float]:
    """A careful hand-written loop over ``loader``; ``train(epochs)`` returns the last epoch's
    mean loss."""
    import torch
    from torch import nn

    net = net.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def train(epochs: int) -> float:
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

    return train


def contender(name: str, spec: dict[str, Any]) -> Callable[[int], float]:
    """``train(epochs)`` for ``name``, set up (model built, data made) outside the timer."""
    import torch

    import kseq

    device = torch.device(spec["device"])
    kseq.utils.set_random_seed(0)
    x, y = make_data(spec["samples"])
    loader = make_loader(x, y, spec)
    net = torch_net()
    if name == "hand-loader":
        return hand_loop(loader, net, device)
    if name == "fit-arrays":
        model = compiled(dense_model(net))
        return lambda epochs: model.fit(
            x, y, batch_size=spec["batch_size"], epochs=epochs, verbose=0
        ).history["loss"][-1]
    if name == "fit-loader":
        model = compiled(dense_model(net))
    elif name == "fit-Model(net)":
        model = compiled(kseq.Model(net))
    else:  # fit-wrapper
        model = compiled(kseq.Sequential([kseq.Input(shape=(FEATURES,)), net]))
    return lambda epochs: model.fit(loader, epochs=epochs, verbose=0).history["loss"][-1]


def child(spec: dict[str, Any], out_path: str) -> None:
    """Each job of ``spec``: a fresh contender, one warm-up epoch, then the timed epochs."""
    import torch

    device = torch.device(spec["device"])
    os.environ["KSEQ_DEVICE"] = str(device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    results = []
    for name in spec["jobs"]:
        train = contender(name, spec)
        train(1)  # warm-up: allocator, kernels, workers, kseq's build
        sync()
        start = time.perf_counter()
        loss = train(spec["epochs"])
        sync()
        results.append({"contender": name, "seconds": time.perf_counter() - start, "loss": loss})
    harness.write_child_results(results, out_path)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every contender ``args.repeats`` times, interleaved, each run in its own process."""
    spec = {
        "device": args.device, "samples": args.samples, "batch_size": args.batch_size,
        "epochs": args.epochs, "workers": args.workers,
    }  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in CONTENDERS}
    if args.smoke:  # every contender once, in one process: checks that the code runs
        for result in harness.spawn(__file__, {**spec, "jobs": list(CONTENDERS)}, args.timeout):
            runs[result["contender"]].append(result)
    for rep in range(0 if args.smoke else args.repeats):
        for name in harness.rotated(CONTENDERS, rep, args.repeats):
            (result,) = harness.spawn(__file__, {**spec, "jobs": [name]}, args.timeout)
            runs[name].append(result)
            print(f"  repeat {rep + 1}/{args.repeats} {name:<15} {result['seconds']:.3f} s  "
                  f"loss {result['loss']:.4f}", flush=True)  # fmt: skip
    steps = math.ceil(args.samples / args.batch_size) * args.epochs
    rows = []
    for name in CONTENDERS:
        seconds = statistics.median(r["seconds"] for r in runs[name])
        rows.append(
            {
                "contender": name,
                "seconds": seconds,
                "us_per_step": seconds / steps * 1e6,
                "samples_per_s": args.samples * args.epochs / seconds,
                "vs_hand": harness.paired(runs, name, "hand-loader", "seconds"),
                "loss": runs[name][-1]["loss"],
                "runs": runs[name],
            }
        )
    by_name = {r["contender"]: r for r in rows}
    import torch

    return {
        "device": args.device,
        "gpu": torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else None,
        "platform": platform.platform(),
        "torch": torch.__version__,
        "smoke": args.smoke,
        "samples": args.samples,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "workers": args.workers,
        "repeats": 1 if args.smoke else args.repeats,
        "rows": rows,
        "ratios": {
            **{f"{c}/hand-loader": by_name[c]["vs_hand"] for c in TARGETS},
            "fit-arrays/fit-loader": harness.paired(runs, "fit-arrays", "fit-loader", "seconds"),
        },
        "targets": [
            {"ratio": f"{c}/hand-loader", "target": t, "met": by_name[c]["vs_hand"] >= t}
            for c, t in TARGETS.items()
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    """The rows as a markdown table (throughput relative to the hand-written loop)."""
    lines = [
        f"Device: {result['gpu'] or result['device']}; batch {result['batch_size']}, "
        f"{result['samples']} samples x {result['epochs']} epochs, {result['repeats']} paired "
        "repeats, each run its own process.",
        "",
        "| contender | µs/step | samples/s | vs hand loop | last loss |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['contender']} | {r['us_per_step']:.1f} | {r['samples_per_s']:.0f} | "
            f"{r['vs_hand']:.2f}x | {r['loss']:.4f} |"
        )
    lines.append("")
    for t in result["targets"]:
        value = result["ratios"][t["ratio"]]
        verdict = "met" if t["met"] else "NOT met"
        lines.append(
            f"* Paired median {t['ratio']}: {value:.3f}x (target >= {t['target']}: {verdict})."
        )
    lines.append(
        f"* Paired median fit-arrays/fit-loader: {result['ratios']['fit-arrays/fit-loader']:.3f}x "
        "(arrays stay on the device; a DataLoader collates every batch on the host)."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="default: cuda when available, else cpu")
    parser.add_argument("--samples", type=int, default=65536)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader num_workers")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per child process")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one process (a test)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", help="write the markdown table here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child), args.child_out)
        return {}
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.smoke:
        args.samples, args.batch_size, args.epochs = 256, 64, 1
    result = run(args)
    harness.write_outputs(result, markdown(result), args.json, args.markdown, indent=2)
    return result


if __name__ == "__main__":
    main()
