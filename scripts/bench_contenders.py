"""The workloads and contenders of ``scripts/bench.py``: one training run each, in its own process.

Every contender trains the same model from the same initial weights (written once by the parent
process from a seeded kseq model, see ``write_initial_weights``) on the same generated data with Adam
(``lr=1e-3``, ``eps=1e-7``, Keras's defaults), after the same two warm-up steps on the first two
batches. Each returns the timed seconds, the number of timed steps and the final epoch's mean loss.

Contenders:

* ``kseq``: ``model.compile(optimizer="adam", ..., metrics=["accuracy"])`` then ``model.fit`` on
  numpy arrays, as Keras code is written. ``kseq-jit`` is the same with ``jit_compile=True``.
* ``typical``: the loop most PyTorch users write: tensors on the device, one ``randperm`` per epoch
  and pre-permuted tensors sliced per batch, ``nn.*WithLogitsLoss``/``CrossEntropyLoss`` on logits,
  loss and accuracy summed on the device, one host sync per epoch, default ``torch.optim.Adam``;
  NCHW convolutions, ``nn.LSTM``.
* ``expert``: the same loop as a PyTorch expert tunes it: fused Adam (foreach where fused is not
  available), ``channels_last`` convolutions (on the NHWC data without a copy), ``nn.LSTM``,
  ``cudnn.benchmark`` on CUDA.
* ``keras``: Keras 3 on its torch backend, the same code as ``kseq``.

With ``verbose`` the Keras-style contenders show their progress bar (the parent gives them a
terminal) and the hand loops print one line per epoch, as a hand loop does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Workload:
    """Data size and batch size of one workload (the models are defined below, per framework)."""

    name: str
    samples: int
    batch_size: int
    epochs: int
    loss: str  # the Keras loss name


WORKLOADS: dict[str, Workload] = {
    "mlp": Workload("mlp", 8192, 32, 2, "binary_crossentropy"),
    "cnn": Workload("cnn", 1280, 128, 2, "sparse_categorical_crossentropy"),
    "lstm": Workload("lstm", 640, 64, 2, "binary_crossentropy"),
}


def make_data(workload: str, samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable synthetic data in Keras layout (NHWC images, int token ids), the same for all."""
    rng = np.random.default_rng(seed)
    if workload == "mlp":
        x = rng.normal(size=(samples, 20)).astype("float32")
        w = rng.normal(size=(20,)).astype("float32")
        return x, (x @ w + 0.1 * rng.normal(size=samples) > 0).astype("float32")
    if workload == "cnn":
        templates = rng.normal(size=(10, 28, 28, 1)).astype("float32")
        y = rng.integers(0, 10, size=samples)
        x = templates[y] + 2.0 * rng.normal(size=(samples, 28, 28, 1)).astype("float32")
        return x.astype("float32"), y.astype("int64")
    # lstm: the label says whether "positive" tokens (ids < 2500) outnumber the others.
    x = rng.integers(0, 5000, size=(samples, 80))
    return x.astype("int32"), ((x < 2500).sum(axis=1) > 40).astype("float32")


def keras_model(keras: Any, workload: str) -> Any:
    """The workload's model written with the Keras API (``keras`` is kseq or Keras 3)."""
    layers = keras.layers
    if workload == "mlp":
        stack = [keras.Input((20,)), layers.Dense(64, activation="relu")]
        stack += [layers.Dense(64, activation="relu"), layers.Dense(1, activation="sigmoid")]
    elif workload == "cnn":
        stack = [keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu")]
        stack += [layers.MaxPooling2D(), layers.Conv2D(64, 3, activation="relu")]
        stack += [layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.5)]
        stack += [layers.Dense(10, activation="softmax")]
    else:
        stack = [keras.Input((80,), dtype="int32"), layers.Embedding(5000, 64)]
        stack += [layers.LSTM(64), layers.Dense(1, activation="sigmoid")]
    return keras.Sequential(stack)


def write_initial_weights(workload: str, path: str) -> None:
    """Seeded kseq model's weights, Keras layout (``k*``) and torch layout (``t*``), to ``path``."""
    import kseq

    kseq.utils.set_random_seed(0)
    model = keras_model(kseq, workload)
    arrays = {f"k{i}": w for i, w in enumerate(model.get_weights())}
    params = [p.detach().numpy().copy() for p in model.parameters()]
    if (
        workload == "cnn"
    ):  # Dense after Flatten: kseq flattens (h, w, c), nn.Flatten on NCHW (c, h, w)
        params[4] = params[4].reshape(10, 5, 5, 64).transpose(0, 3, 1, 2).reshape(10, 1600)
    arrays.update({f"t{i}": p for i, p in enumerate(params)})
    np.savez(path, **arrays)


def _load(path: str, prefix: str) -> list[np.ndarray]:
    with np.load(path) as f:
        return [f[f"{prefix}{i}"] for i in range(sum(k.startswith(prefix) for k in f.files))]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def run_keras_style(
    framework: str, wl: Workload, init: str, device: str, verbose: int, jit: bool
) -> dict[str, Any]:
    """``compile`` + ``fit`` with kseq (``framework="kseq"``) or Keras 3 (``"keras"``)."""
    if framework == "keras":
        import keras
    else:
        import kseq as keras  # "import kseq as keras": the same code
    x, y = make_data(wl.name, wl.samples)
    keras.utils.set_random_seed(0)
    model = keras_model(keras, wl.name)
    model.set_weights(_load(init, "k"))
    if framework == "kseq":
        model.to(device)
    model.compile(optimizer="adam", loss=wl.loss, metrics=["accuracy"], jit_compile=jit)
    n_warm = 2 * wl.batch_size  # two warm-up steps, the same as the hand loops'
    model.fit(x[:n_warm], y[:n_warm], batch_size=wl.batch_size, epochs=1, verbose=0, shuffle=False)
    compiled = _compile_counts() if jit else None
    _sync(device)
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=wl.batch_size, epochs=wl.epochs, verbose=verbose)
    _sync(device)
    seconds = time.perf_counter() - start
    result = _result(seconds, wl, history.history["loss"][-1], history.history["accuracy"][-1])
    if jit:
        after = _compile_counts()
        result["compiles"] = {
            "warmup_graphs": compiled["graphs"],
            "timed_graphs": after["graphs"] - compiled["graphs"],
            "timed_recompiles": after["recompiles"] - compiled["recompiles"],
        }
    return result


def _compile_counts() -> dict[str, int]:
    """Graphs dynamo compiled and recompilations (guard failures) so far, from its counters."""
    from torch._dynamo.utils import counters

    return {
        "graphs": int(counters["stats"]["unique_graphs"]),
        "recompiles": int(sum(counters["recompiles"].values())),
    }


def _result(seconds: float, wl: Workload, loss: float, accuracy: float) -> dict[str, Any]:
    steps = wl.epochs * -(-wl.samples // wl.batch_size)
    return {"seconds": seconds, "steps": steps, "samples": wl.epochs * wl.samples,
            "loss": float(loss), "accuracy": float(accuracy)}  # fmt: skip


def _torch_model(workload: str) -> Any:
    import torch
    from torch import nn

    class LastHidden(nn.Module):
        """``nn.LSTM`` returning its last hidden state."""

        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(64, 64, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lstm(x)[1][0][-1]

    if workload == "mlp":
        return nn.Sequential(
            nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)
        )
    if workload == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10),
        )  # fmt: skip
    return nn.Sequential(nn.Embedding(5000, 64), LastHidden(), nn.Linear(64, 1))


def run_hand_loop(
    wl: Workload, init: str, device: str, verbose: int, expert: bool
) -> dict[str, Any]:
    """The typical (``expert=False``) or the tuned (``expert=True``) hand-written torch loop."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    if expert and device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
    model = _torch_model(wl.name)
    params = list(model.parameters())
    with torch.no_grad():
        _copy_weights(model, _load(init, "t"))
    model.to(device)
    x_np, y_np = make_data(wl.name, wl.samples)
    x = torch.as_tensor(x_np, device=device)
    if wl.name == "cnn":
        x = x.permute(0, 3, 1, 2)  # NCHW view of the NHWC data: channels_last memory
        if expert:
            model.to(memory_format=torch.channels_last)
        else:
            x = x.contiguous()
    elif wl.name == "lstm":
        x = x.long()
    y = torch.as_tensor(y_np, device=device)
    if wl.name == "cnn":
        loss_fn: Callable[..., torch.Tensor] = nn.CrossEntropyLoss()
        correct_of: Callable[..., torch.Tensor] = lambda out, t: (out.argmax(1) == t).sum()  # noqa: E731
    else:
        y = y.unsqueeze(1)
        loss_fn = nn.BCEWithLogitsLoss()
        correct_of = lambda out, t: ((out > 0).float() == t).sum()  # noqa: E731
    optimizer = _adam(params, device, expert)
    model.train()

    def step(xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = model(xb)
        loss = loss_fn(out, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.detach(), out.detach()

    b, n = wl.batch_size, x.shape[0]
    for i in range(0, 2 * b, b):  # the same two warm-up steps as fit's
        step(x[i : i + b], y[i : i + b])
    _sync(device)
    start = time.perf_counter()
    for epoch in range(wl.epochs):
        perm = torch.randperm(n, device=device)
        xs, ys = x[perm], y[perm]
        if expert and wl.name == "cnn":
            xs = xs.contiguous(memory_format=torch.channels_last)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        for i in range(0, n, b):
            xb, yb = xs[i : i + b], ys[i : i + b]
            loss, out = step(xb, yb)
            loss_sum += loss * xb.shape[0]
            correct += correct_of(out, yb)
        epoch_loss, accuracy = (loss_sum / n).item(), (correct / n).item()  # one sync per epoch
        if verbose:
            print(
                f"Epoch {epoch + 1}/{wl.epochs} - loss: {epoch_loss:.4f} - accuracy: {accuracy:.4f}"
            )
    _sync(device)
    return _result(time.perf_counter() - start, wl, epoch_loss, accuracy)


def _copy_weights(model: Any, weights: list[np.ndarray]) -> None:
    """The parent's initial weights (torch layout) into the hand-written model."""
    import torch

    params = dict(model.named_parameters())
    names = [name for name in params if not name.endswith("bias_hh_l0")]
    for name, w in zip(names, weights, strict=True):
        params[name].copy_(torch.as_tensor(w))
    for name in params:
        if name.endswith("bias_hh_l0"):
            params[name].zero_()  # Keras's LSTM has one bias: bias_ih (bias_hh starts at 0)


def _adam(params: list[Any], device: str, expert: bool) -> Any:
    import torch

    if not expert:
        return torch.optim.Adam(params, lr=1e-3, eps=1e-7)
    try:
        return torch.optim.Adam(params, lr=1e-3, eps=1e-7, fused=True)
    except (RuntimeError, ValueError):
        return torch.optim.Adam(params, lr=1e-3, eps=1e-7, foreach=True)


CONTENDERS: dict[str, Callable[[Workload, str, str, int], dict[str, Any]]] = {
    "kseq": lambda wl, init, dev, v: run_keras_style("kseq", wl, init, dev, v, jit=False),
    "kseq-jit": lambda wl, init, dev, v: run_keras_style("kseq", wl, init, dev, v, jit=True),
    "typical": lambda wl, init, dev, v: run_hand_loop(wl, init, dev, v, expert=False),
    "expert": lambda wl, init, dev, v: run_hand_loop(wl, init, dev, v, expert=True),
    "keras": lambda wl, init, dev, v: run_keras_style("keras", wl, init, dev, v, jit=False),
}

os.environ.setdefault("KERAS_BACKEND", "torch")
