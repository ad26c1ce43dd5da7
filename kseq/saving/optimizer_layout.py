"""An optimizer's state as Keras's ``optimizer.variables``: Keras order and Keras weight layout.

Keras saves ``[iteration, learning_rate, *ema_averages, *gradient_accumulators, *slots]`` where a
slot (Adam's momentum, ...) is a variable shaped like a **Keras-layout** weight (a Dense kernel's
momentum is ``(in, out)``), and per-variable slots created together are interleaved (Adam:
``m0, v0, m1, v1, ...``; RMSprop: all velocities, then all momentums). kseq keeps its state per
torch parameter (``Linear.weight``'s momentum is ``(out, in)``), slot after slot.

The layout conversion reuses each layer's own Keras-layout code: with the layer's trainable
parameters temporarily pointing at the slot tensors, ``layer._get_own_weights()`` returns the slots
in Keras layout, and ``layer._set_own_weights(...)`` writes Keras-layout slots back into them. A
probe with NaN-filled parameters tells which of the layer's Keras variables are trainable (Keras
orders them first). The conversion is exact (it only permutes/reshapes).

State that has no Keras form (a raw ``torch.optim`` optimizer, factored or scalar-only states
that do not fit the pattern above) yields ``None``: the optimizer is then not stored in Keras
files (a warning says so) and kseq's training checkpoints (``BackupAndRestore``) keep it instead.

Example:
    >>> import torch, kseq
    >>> model = kseq.Sequential([kseq.Input((4,)), kseq.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> model.fit(torch.ones(2, 4), torch.ones(2, 3), verbose=0).epoch
    [0]
    >>> [a.shape for a in keras_optimizer_arrays(model.optimizer, model)]
    [(), (), (4, 3), (4, 3), (3,), (3,)]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kseq.saving.variable_tree import layer_owners

__all__ = ["keras_optimizer_arrays", "set_keras_optimizer_arrays"]

# Optimizers whose first N slots Keras creates together, i.e. interleaved per variable.
INTERLEAVED_SLOTS: dict[str, int] = {
    "Adam": 2, "AdamW": 2, "Adamax": 2, "Nadam": 2, "Lamb": 2, "Ftrl": 2, "Adadelta": 2,
}  # fmt: skip


def _trainable_by_layer(model: Any, params: list[Tensor]) -> list[tuple[Any, list[Tensor]]] | None:
    """``[(layer, its optimized params)]`` in Keras's ``trainable_variables`` order, or ``None``
    when that order is not the optimizer's parameter order."""
    wanted = {id(p) for p in params}
    out = []
    for layer in layer_owners(model):
        own = [t for t in layer._own_tensors() if id(t) in wanted]
        if own:
            out.append((layer, own))
    flat = [id(p) for _, own in out for p in own]
    return out if flat == [id(p) for p in params] else None


@contextlib.contextmanager
def _swapped(own: list[Tensor], values: list[Tensor]) -> Iterator[None]:
    """Point ``own`` params at ``values`` for the duration of the ``with`` block."""
    saved = [p.data for p in own]
    try:
        for p, v in zip(own, values, strict=True):
            p.data = v
        yield
    finally:
        for p, d in zip(own, saved, strict=True):
            p.data = d


def _n_trainable(layer: Any, own: list[Tensor]) -> int | None:
    """How many of the layer's Keras variables are made of optimized params (``None``: mixed)."""
    with _swapped(own, [torch.full_like(p, float("nan")) for p in own]):
        arrays = layer._get_own_weights()
    flags = [a.dtype.kind == "f" and bool(np.isnan(a).any()) for a in arrays]
    k = sum(flags)
    return k if flags[:k] == [True] * k else None


def _to_keras(layout: list[tuple[Any, list[Tensor], int]], slot: list[Tensor]) -> list[np.ndarray]:
    """Torch-layout per-param tensors -> Keras-layout arrays (one per trainable Keras variable)."""
    out: list[np.ndarray] = []
    pos = 0
    for layer, own, k in layout:
        values = slot[pos : pos + len(own)]
        pos += len(own)
        with _swapped(own, [v.detach() for v in values]):
            out.extend(layer._get_own_weights()[:k])  # fresh arrays (the layer contract)
    return out


def _from_keras(
    layout: list[tuple[Any, list[Tensor], int]], arrays: list[np.ndarray]
) -> list[Tensor]:
    """Keras-layout arrays -> new torch-layout per-param tensors."""
    out: list[Tensor] = []
    pos = 0
    for layer, own, k in layout:
        targets = [torch.empty_like(p) for p in own]
        with _swapped(own, targets), torch.no_grad():
            current = layer._get_own_weights()
            layer._set_own_weights([*arrays[pos : pos + k], *current[k:]])
        pos += k
        out.extend(targets)
    return out


def _plan(
    optimizer: Any, model: Any, state: dict[str, Any]
) -> tuple[list[Any], dict[str, Any], int] | None:
    """(layout, state_dict, number of per-param state slots), or ``None`` without a Keras form."""
    params = list(getattr(optimizer, "_params", []))
    if "state" not in state or not params:
        return None
    by_layer = _trainable_by_layer(model, params)
    if by_layer is None:
        return None
    layout = []
    for layer, own in by_layer:
        k = _n_trainable(layer, own)
        if k is None:
            return None
        layout.append((layer, own, k))
    n = len(params)
    slots = 0
    tensors = state["state"]
    while (slots + 1) * n <= len(tensors) and all(
        tuple(t.shape) == tuple(p.shape)
        for t, p in zip(tensors[slots * n : (slots + 1) * n], params, strict=True)
    ):
        slots += 1
    if any(t.dim() != 0 for t in tensors[slots * n :]):
        return None  # e.g. Adafactor's factored moments: no Keras-layout equivalent
    for key in ("ema", "accumulators"):
        if state[key] and len(state[key]) != n:
            return None
    return layout, state, slots


def _keras_order(lists: list[list[np.ndarray]], interleave: int) -> list[np.ndarray]:
    head = lists[:interleave]
    out = [a for group in zip(*head, strict=True) for a in group] if head else []
    for rest in lists[interleave:]:
        out.extend(rest)
    return out


def keras_optimizer_arrays(optimizer: Any, model: Any) -> list[np.ndarray] | None:
    """Keras's ``optimizer.variables`` (order and layout) for a kseq optimizer bound to ``model``.

    Returns ``None`` when the optimizer state has no Keras form (see the module docstring). An
    optimizer that is not built yet has only ``iteration`` (and ``learning_rate``).

    Example:
        >>> import kseq
        >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> [a.dtype.name for a in keras_optimizer_arrays(kseq.optimizers.SGD(), model)]
        ['int64', 'float64']
    """
    state = optimizer.state_dict()
    if "state" not in state:
        return None
    head = [np.array(state["iterations"], dtype=np.int64)]
    if state.get("learning_rate") is not None:
        # float64, not Keras's float32: kseq's learning rate is a Python float and a resumed run
        # must use exactly the same one (Keras casts it when it loads the file).
        head.append(np.array(state["learning_rate"], dtype=np.float64))
    if not getattr(optimizer, "built", False):
        return head
    plan = _plan(optimizer, model, state)
    if plan is None:
        return None
    layout, state, slots = plan
    n = len(optimizer._params)
    per_param = [state[k] for k in ("ema", "accumulators") if state[k]]
    interleave = INTERLEAVED_SLOTS.get(type(optimizer).__name__, 1) if slots else 0
    slot_lists = [state["state"][i * n : (i + 1) * n] for i in range(slots)]
    extra = [t.detach().cpu().numpy() for t in state["state"][slots * n :]]
    converted = [_to_keras(layout, s) for s in per_param]
    ordered = _keras_order([_to_keras(layout, s) for s in slot_lists], min(interleave, slots))
    return head + [a for c in converted for a in c] + ordered + extra


def set_keras_optimizer_arrays(optimizer: Any, model: Any, arrays: list[np.ndarray]) -> None:
    """Inverse of :func:`keras_optimizer_arrays` (the optimizer must be built for ``model``).

    Example:
        >>> import kseq
        >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> opt = kseq.optimizers.SGD(); opt.build(model.trainable_weights)
        >>> set_keras_optimizer_arrays(opt, model, [np.array(7), np.array(0.5, "float32")])
        >>> opt.iterations, opt.learning_rate
        (7, 0.5)
    """
    new: dict[str, Any] = {"iterations": int(arrays[0]), "learning_rate": None}
    state = optimizer.state_dict()
    pos = 1
    if state.get("learning_rate") is not None:
        new["learning_rate"] = float(arrays[1])
        pos = 2
    if not getattr(optimizer, "built", False):
        optimizer.load_state_dict({**new, "state": [], "accumulators": [], "ema": []})
        return
    plan = _plan(optimizer, model, state)
    if plan is None:
        raise ValueError(f"Optimizer '{optimizer.name}' has no Keras-layout state to load into.")
    layout, state, slots = plan
    k = sum(entry[2] for entry in layout)
    for key in ("ema", "accumulators"):
        new[key] = []
        if state[key]:
            new[key] = _from_keras(layout, list(arrays[pos : pos + k]))
            pos += k
    interleave = min(INTERLEAVED_SLOTS.get(type(optimizer).__name__, 1), slots) if slots else 0
    block = arrays[pos : pos + slots * k]
    lists: list[list[np.ndarray]] = [
        list(block[i : interleave * k : interleave]) for i in range(interleave)
    ]
    tail = block[interleave * k :]
    lists += [list(tail[i * k : (i + 1) * k]) for i in range(slots - interleave)]
    new["state"] = [t for lst in lists for t in _from_keras(layout, lst)]
    new["state"] += [torch.from_numpy(np.array(a)) for a in arrays[pos + slots * k :]]
    optimizer.load_state_dict(new)
