"""Benchmark: ``kseq`` ``fit`` vs a careful hand-written PyTorch loop vs Keras 3 (torch backend).

Same model (20 -> 64 -> 64 -> 1 MLP, ReLU, sigmoid output), same data, same optimizer (Adam),
batch 32, binary crossentropy. The runs are interleaved (hand, kseq, keras, hand, kseq, keras, ...)
and each contender's median samples/s over the repeats is reported with its ratio to the hand loop.

The hand-written loop is what a careful PyTorch user writes: data on the device, one ``randperm``
per epoch, fused/foreach Adam, ``zero_grad(set_to_none=True)``, ``BCEWithLogitsLoss`` on logits,
and the running loss (plus accuracy, for the metrics variant) accumulated on the device with one
host sync per epoch.

Usage::

    python scripts/bench_fit.py                   # CPU, 5 repeats of 4 epochs x 8192 samples
    python scripts/bench_fit.py --device cuda --repeats 7
    python scripts/bench_fit.py --no-keras        # skip Keras even when installed
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

os.environ.setdefault("KERAS_BACKEND", "torch")


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 20)).astype("float32")
    w = rng.normal(size=(20,)).astype("float32")
    y = (x @ w + 0.1 * rng.normal(size=n) > 0).astype("float32")
    return x, y


def hand_loop(
    x_np: np.ndarray,
    y_np: np.ndarray,
    epochs: int,
    batch_size: int,
    device: str,
    with_accuracy: bool,
) -> float:
    """A careful hand-written training loop. Returns seconds spent in the epochs."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)
    ).to(device)
    fused = {"fused": True} if device != "mps" else {}
    try:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, **fused)
    except (RuntimeError, ValueError):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, foreach=True)
    loss_fn = nn.BCEWithLogitsLoss()
    x = torch.as_tensor(x_np, device=device)
    y = torch.as_tensor(y_np, device=device).unsqueeze(1)
    n = x.shape[0]
    _sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, device=device)
        total = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * xb.shape[0]
            if with_accuracy:
                correct += ((logits.detach() > 0).float() == yb).sum()
        float(total / n)  # host sync: one per epoch, to report the loss
    _sync(device)
    return time.perf_counter() - start


def kseq_fit(
    x_np: np.ndarray,
    y_np: np.ndarray,
    epochs: int,
    batch_size: int,
    device: str,
    with_accuracy: bool,
    jit: bool = False,
) -> float:
    import kseq

    kseq.utils.set_random_seed(0)
    model = kseq.Sequential(
        [
            kseq.Input(shape=(20,)),
            kseq.layers.Dense(64, activation="relu"),
            kseq.layers.Dense(64, activation="relu"),
            kseq.layers.Dense(1, activation="sigmoid"),
        ]
    ).to(device)
    model.compile(
        optimizer="adam",
        loss="binary_crossentropy",
        metrics=["accuracy"] if with_accuracy else None,
        jit_compile=jit,
    )
    # Warm-up outside the timed region (builds the optimizer, allocates state), like the others.
    model.fit(
        x_np[:batch_size],
        y_np[:batch_size],
        batch_size=batch_size,
        epochs=1,
        verbose=0,
        shuffle=False,
    )
    _sync(device)
    start = time.perf_counter()
    model.fit(x_np, y_np, batch_size=batch_size, epochs=epochs, verbose=0)
    _sync(device)
    return time.perf_counter() - start


def keras_fit(
    x_np: np.ndarray,
    y_np: np.ndarray,
    epochs: int,
    batch_size: int,
    device: str,
    with_accuracy: bool,
) -> float:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(20,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="binary_crossentropy",
        metrics=["accuracy"] if with_accuracy else None,
    )
    model.fit(
        x_np[:batch_size],
        y_np[:batch_size],
        batch_size=batch_size,
        epochs=1,
        verbose=0,
        shuffle=False,
    )
    _sync(device)
    start = time.perf_counter()
    model.fit(x_np, y_np, batch_size=batch_size, epochs=epochs, verbose=0)
    _sync(device)
    return time.perf_counter() - start


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--samples", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument(
        "--jit", action="store_true", help="also time kseq with compile(jit_compile=True)"
    )
    args = parser.parse_args()

    x, y = make_data(args.samples)
    with_keras = not args.no_keras and importlib.util.find_spec("keras") is not None
    print(
        f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
        f"{args.samples} samples x {args.epochs} epochs, batch {args.batch_size}, {args.repeats} repeats"
    )
    for with_accuracy in (False, True):
        contenders: dict[str, Callable[[], float]] = {
            "hand-written torch": lambda a=with_accuracy: hand_loop(
                x, y, args.epochs, args.batch_size, args.device, a
            ),
            "kseq fit": lambda a=with_accuracy: kseq_fit(
                x, y, args.epochs, args.batch_size, args.device, a
            ),
        }
        if args.jit:
            contenders["kseq fit (jit_compile)"] = lambda a=with_accuracy: kseq_fit(
                x, y, args.epochs, args.batch_size, args.device, a, jit=True
            )
        if with_keras:
            contenders["keras 3 (torch)"] = lambda a=with_accuracy: keras_fit(
                x, y, args.epochs, args.batch_size, args.device, a
            )
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for run in contenders.values():  # warm-up round, not timed
            run()
        for _ in range(args.repeats):
            for name, run in contenders.items():
                times[name].append(run())
        samples = args.samples * args.epochs
        base = samples / statistics.median(times["hand-written torch"])
        print(f"\n{'with accuracy metric' if with_accuracy else 'loss only'}:")
        for name, ts in times.items():
            rate = samples / statistics.median(ts)
            spread = (max(ts) - min(ts)) / statistics.median(ts) * 100
            print(
                f"  {name:24s} {rate:10.0f} samples/s  ratio vs hand-written {rate / base:5.2f}x  (spread {spread:4.1f}%)"
            )


if __name__ == "__main__":
    main()
