"""Training checkpoints: everything ``fit`` needs to resume exactly, in one atomic torch file.

One file holds the model's ``state_dict()``, the optimizer's ``state_dict()`` (any optimizer,
exactly, including state with no Keras layout), the epoch/batch to resume at, and the random
number generators' states (torch CPU and CUDA, NumPy's global generator, Python's ``random``), so
that a resumed run shuffles and drops out exactly as the uninterrupted run would have. It is
written with :func:`~kseq.core.atomic.atomic_write_bytes` and read with
:func:`~kseq.saving.torch_format.safe_torch_load` (zip and CRC checks, ``weights_only=True``),
then validated field by field before anything in the model changes.

Example:
    >>> import os, tempfile, torch, kseq
    >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
    >>> path = os.path.join(tempfile.mkdtemp(), "latest.checkpoint.pt")
    >>> save_checkpoint(path, model, epoch=3)
    >>> with torch.no_grad():
    ...     _ = model.layers[0].linear.bias.fill_(5.0)
    >>> load_checkpoint(path, model)["epoch"], model.layers[0].linear.bias.item()
    (3, 0.0)
"""

from __future__ import annotations

import io
import random
from typing import Any

import numpy as np
import torch

from kseq.core.atomic import atomic_write_bytes
from kseq.saving.keras_weights import build_optimizer_for
from kseq.saving.torch_format import read_file_bytes, safe_torch_load

__all__ = ["get_rng_state", "load_checkpoint", "save_checkpoint", "set_rng_state"]

FORMAT = "kseq.training_checkpoint"
VERSION = 1


def get_rng_state() -> dict[str, Any]:
    """The states of torch's (CPU + every CUDA device), NumPy's and Python's global generators,
    as tensors and numbers (storable with ``torch.save``, loadable with ``weights_only=True``).

    Example:
        >>> sorted(get_rng_state())
        ['cuda', 'numpy', 'python', 'torch']
    """
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss), "name": str(name)},
        "python": {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64),
                   "gauss_next": gauss_next},
    }  # fmt: skip


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`get_rng_state` output.

    Example:
        >>> saved = get_rng_state(); a = torch.rand(1)
        >>> set_rng_state(saved); bool(torch.rand(1) == a)
        True
    """
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    numpy = state["numpy"]
    keys = numpy["keys"].numpy().astype(np.uint32)
    np.random.set_state((numpy["name"], keys, numpy["pos"], numpy["has_gauss"], numpy["gauss"]))
    python = state["python"]
    random.setstate(
        (python["version"], tuple(int(v) for v in python["state"].tolist()), python["gauss_next"])
    )


def save_checkpoint(path: str, model: Any, epoch: int, batch: int = 0, rng: Any = None) -> None:
    """Write ``model`` (+ its optimizer) and the resume point to ``path`` atomically.

    Args:
        path: Destination file.
        model: The model being trained.
        epoch: The (0-based) epoch ``fit`` should resume at.
        batch: The batch reached inside that epoch (informational, as in Keras).
        rng: Generator states to store (default: :func:`get_rng_state` now).

    Example:
        >>> import os, tempfile, kseq
        >>> path = os.path.join(tempfile.mkdtemp(), "c.pt")
        >>> save_checkpoint(path, kseq.Sequential([kseq.Input((1,)), kseq.layers.Dense(1)]), 0)
        >>> os.path.getsize(path) > 0
        True
    """
    optimizer = getattr(model, "optimizer", None)
    content = {
        "format": FORMAT,
        "version": VERSION,
        "epoch": int(epoch),
        "batch": int(batch),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None and optimizer.built else None,
        "rng": rng if rng is not None else get_rng_state(),
    }
    buffer = io.BytesIO()
    torch.save(content, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _invalid(path: str, message: str) -> ValueError:
    return ValueError(f"Refusing to restore from {path!r}: {message}")


def _check_model_state(path: str, model: Any, saved: Any) -> None:
    """Same keys, shapes and dtypes as the model's own ``state_dict`` (else nothing is loaded)."""
    if not isinstance(saved, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in saved.items()
    ):
        raise _invalid(path, "the model state is not a dict of tensors.")
    current = model.state_dict()
    if set(saved) != set(current):
        missing, extra = sorted(set(current) - set(saved)), sorted(set(saved) - set(current))
        raise _invalid(
            path,
            f"it was saved from a different model (missing entries: {missing[:5]}, unexpected "
            f"entries: {extra[:5]}).",
        )
    for key, tensor in current.items():
        if saved[key].shape != tensor.shape:
            raise _invalid(
                path,
                f"'{key}' has shape {tuple(saved[key].shape)} in the file but "
                f"{tuple(tensor.shape)} in the model.",
            )


def load_checkpoint(path: str, model: Any, restore_rng: bool = True) -> dict[str, Any]:
    """Restore ``model`` (+ optimizer, + random generators) from :func:`save_checkpoint`'s file.

    Returns:
        ``{"epoch": int, "batch": int}``: where to resume.

    Raises:
        FileNotFoundError: There is no such file.
        ValueError: The file is damaged, hostile, or from another model; the model is unchanged
            unless the optimizer state itself fails to load.

    Example:
        >>> import os, tempfile, kseq
        >>> model = kseq.Sequential([kseq.Input((1,)), kseq.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "c.pt"); save_checkpoint(path, model, 2, 5)
        >>> load_checkpoint(path, model)
        {'epoch': 2, 'batch': 5}
    """
    content = safe_torch_load(read_file_bytes(path, "checkpoint file"), path)
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise _invalid(path, "it is not a kseq training checkpoint.")
    if content.get("version") != VERSION:
        raise _invalid(path, f"unsupported checkpoint version {content.get('version')!r}.")
    epoch, batch = content.get("epoch"), content.get("batch")
    if not isinstance(epoch, int) or not isinstance(batch, int) or epoch < 0 or batch < 0:
        raise _invalid(path, f"invalid resume point epoch={epoch!r}, batch={batch!r}.")
    _check_model_state(path, model, content.get("model"))
    optimizer = getattr(model, "optimizer", None)
    saved_optimizer = content.get("optimizer")
    if saved_optimizer is not None and not isinstance(saved_optimizer, dict):
        raise _invalid(path, "the optimizer state is not a dict.")
    model.load_state_dict(content["model"])
    if optimizer is not None and saved_optimizer is not None:
        build_optimizer_for(model)
        try:
            optimizer.load_state_dict(saved_optimizer)
        except (KeyError, ValueError, RuntimeError, TypeError, IndexError) as exc:
            raise _invalid(path, f"the optimizer state does not fit ({exc}).") from exc
    if restore_rng and content.get("rng") is not None:
        try:
            set_rng_state(content["rng"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
            raise _invalid(path, f"invalid random-generator state ({exc}).") from exc
    return {"epoch": epoch, "batch": batch}
