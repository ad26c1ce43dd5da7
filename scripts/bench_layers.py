"""Benchmark: kseq layers vs the same ``torch.nn`` modules called directly.

Each benchmark builds a kseq stack and a hand-written torch equivalent with the same weights, times
forward + backward for both, interleaved (torch, kseq, torch, kseq, ...) so that machine load hits
both alike, and prints the median times and the ratio ``torch_time / kseq_time`` (1.0 = kseq adds
nothing; the target is >= 0.95).

* ``conv2d``: a 3-layer Conv2D stack (ReLU, "same" padding) on channels_last ``(N, H, W, C)``
  input, against ``nn.Conv2d``/``nn.ReLU`` modules on the NCHW tensor in ``torch.channels_last``
  memory format (what a careful torch user writes for a fast CPU/GPU conv net).
* ``lstm``: ``LSTM(64, return_sequences=True)`` on ``(batch, 50, 32)`` sequences, against
  ``nn.LSTM(batch_first=True)`` called directly (both one fused kernel call).

Add a benchmark by writing a ``bench_<name>(args) -> Result`` function and listing it in
``BENCHMARKS``.

Usage::

    python scripts/bench_layers.py                     # every benchmark, CPU
    python scripts/bench_layers.py --only conv2d --repeats 30 --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

import kseq
from kseq import layers


@dataclass
class Result:
    """Median seconds per call for the torch baseline and for kseq."""

    name: str
    torch_s: float
    kseq_s: float

    @property
    def ratio(self) -> float:
        return self.torch_s / self.kseq_s

    def line(self) -> str:
        return (
            f"{self.name:<10} torch {self.torch_s * 1e3:8.2f} ms   kseq {self.kseq_s * 1e3:8.2f} ms   "
            f"torch/kseq {self.ratio:5.3f}"
        )


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_interleaved(
    fns: dict[str, Callable[[], None]], repeats: int, warmup: int, device: str
) -> dict[str, float]:
    """Median seconds per call of each function, calls interleaved round-robin."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def forward_backward(
    model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> Callable[[], None]:
    """One forward + backward pass (gradients of the output's sum), as a thunk."""
    params = [p for p in model.parameters() if p.requires_grad]  # type: ignore[attr-defined]

    def step() -> None:
        for p in params:
            p.grad = None
        model(x).sum().backward()

    return step


def bench_conv2d(args: argparse.Namespace) -> Result:
    """kseq Conv2D stack (NHWC in) vs nn.Conv2d modules (NCHW, channels_last memory format)."""
    size, channels, filters = args.image_size, 16, (32, 32, 64)
    kseq.utils.set_random_seed(0)
    model = kseq.Sequential(
        [kseq.Input((size, size, channels))]
        + [layers.Conv2D(f, 3, padding="same", activation="relu") for f in filters]
    ).to(args.device)
    modules: list[nn.Module] = []
    in_ch = channels
    for f in filters:
        modules += [nn.Conv2d(in_ch, f, 3, padding=1), nn.ReLU()]
        in_ch = f
    baseline = nn.Sequential(*modules).to(args.device).to(memory_format=torch.channels_last)
    with torch.no_grad():  # same weights, so both do identical work
        for conv, layer in zip(baseline[::2], model.layers, strict=True):
            conv.weight.copy_(layer.conv.weight)
            conv.bias.copy_(layer.conv.bias)
    x_nhwc = torch.randn(args.batch_size, size, size, channels, device=args.device)
    x_nchw = x_nhwc.permute(0, 3, 1, 2)  # the same memory: NCHW in channels_last format
    assert x_nchw.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(model(x_nhwc).permute(0, 3, 1, 2), baseline(x_nchw))
    times = time_interleaved(
        {"torch": forward_backward(baseline, x_nchw), "kseq": forward_backward(model, x_nhwc)},
        args.repeats, args.warmup, args.device,
    )  # fmt: skip
    return Result("conv2d", times["torch"], times["kseq"])


class _LSTMSequence(nn.Module):
    """``nn.LSTM`` returning only its output sequence, as a careful torch user calls it."""

    def __init__(self, lstm: nn.LSTM) -> None:
        super().__init__()
        self.lstm = lstm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(x)[0]


def bench_lstm(args: argparse.Namespace) -> Result:
    """kseq LSTM(return_sequences=True) in a Sequential vs nn.LSTM(batch_first=True) called directly."""
    steps, features, units = args.seq_len, 32, 64
    kseq.utils.set_random_seed(0)
    model = kseq.Sequential(
        [kseq.Input((steps, features)), layers.LSTM(units, return_sequences=True)]
    ).to(args.device)
    lstm = nn.LSTM(features, units, batch_first=True).to(args.device)
    with torch.no_grad():  # same weights (Keras's single bias = bias_ih; bias_hh = 0)
        for name, tensor in lstm.named_parameters():
            tensor.copy_(getattr(model.layers[0].lstm, name))
    baseline = _LSTMSequence(lstm)
    x = torch.randn(args.batch_size, steps, features, device=args.device)
    torch.testing.assert_close(model(x), baseline(x))
    times = time_interleaved(
        {"torch": forward_backward(baseline, x), "kseq": forward_backward(model, x)},
        args.repeats, args.warmup, args.device,
    )  # fmt: skip
    return Result("lstm", times["torch"], times["kseq"])


BENCHMARKS: dict[str, Callable[[argparse.Namespace], Result]] = {
    "conv2d": bench_conv2d,
    "lstm": bench_lstm,
}


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, device {args.device}, {torch.get_num_threads()} threads")
    results = []
    for name in args.only or list(BENCHMARKS):
        result = BENCHMARKS[name](args)
        print(result.line(), flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
