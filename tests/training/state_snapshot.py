"""A bitwise snapshot of everything a failed ``fit``/``evaluate``/``predict`` must leave alone.

``snapshot_state(model)`` records the model's weights and buffers (``state_dict``), its mode,
the optimizer's iterations, build status and slots, the values of every metric the model has,
and the random states: torch (CPU and CUDA), NumPy, Python's ``random`` and each
``kseq.random.SeedGenerator`` the model's layers hold. ``assert_state_unchanged(model, before)``
compares them byte for byte (NaN-safe).

Usage (tests import it by module name: pytest puts this directory on ``sys.path``)::

    from state_snapshot import assert_state_unchanged, snapshot_state

    before = snapshot_state(model)
    with pytest.raises(ValueError, match="..."):
        model.fit(bad_x, bad_y)
    assert_state_unchanged(model, before)
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from kseq.random import SeedGenerator


def _bytes(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        return (
            str(t.dtype),
            tuple(t.shape),
            t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"",
        )
    if isinstance(value, dict):
        return {k: _bytes(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_bytes(v) for v in value)
    if isinstance(value, np.ndarray):
        return (str(value.dtype), value.shape, value.tobytes())
    return value


def _seed_generators(model: Any) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for name, module in model.named_modules():
        for attr, value in vars(module).items():
            if isinstance(value, SeedGenerator):
                found[f"{name}.{attr}"] = (value._seed, value._counter)
    return found


def snapshot_state(model: Any) -> dict[str, Any]:
    """Everything a rejected call must not change, as comparable bytes."""
    optimizer = getattr(model, "optimizer", None)
    # A container (Keras's compile_metrics) is compared through the metrics it holds now: the
    # compiled metrics are created (empty) when compile's arguments are resolved, as in Keras.
    trainer = getattr(model, "_trainer", None)
    metrics: list[Any] = []
    for m in [*getattr(model, "metrics", []), *(trainer.metrics if trainer is not None else [])]:
        for leaf in m.metrics if hasattr(m, "metrics") else [m]:
            if leaf not in metrics:
                metrics.append(leaf)
    return {
        "weights": _bytes(dict(model.state_dict())),
        "training": model.training,
        "optimizer": None
        if optimizer is None
        else (
            int(optimizer.iterations),
            optimizer.built,
            _bytes(optimizer.variables) if optimizer.built else None,
        ),
        "metrics": [(m, _bytes(list(m.variables))) for m in metrics],
        "torch_rng": _bytes(torch.get_rng_state()),
        "cuda_rng": _bytes(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else None,
        "numpy_rng": _bytes(list(np.random.get_state())),
        "python_rng": random.getstate(),
        "seed_generators": _seed_generators(model),
    }


def assert_state_unchanged(model: Any, before: dict[str, Any]) -> None:
    """Fail naming the first part of ``before`` that ``model`` (or a random state) no longer has."""
    after = snapshot_state(model)
    for key in ("weights", "training", "optimizer", "torch_rng", "cuda_rng", "numpy_rng",
                "python_rng", "seed_generators"):  # fmt: skip
        assert after[key] == before[key], f"{key} changed"
    for metric, values in before["metrics"]:
        assert _bytes(list(metric.variables)) == values, f"metric {metric.name} changed"
