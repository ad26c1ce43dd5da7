"""Multi-GPU / multi-node training on ``torch.distributed`` (DDP under ``torchrun``).

When a process group is initialized (``torchrun`` + ``torch.distributed.init_process_group``, or
:func:`kseq.distribute.initialize` which does both from the ``torchrun`` environment), ``fit``:

* places the model on this rank's device (``cuda:LOCAL_RANK``, or the CPU with the gloo backend),
* wraps it in ``torch.nn.parallel.DistributedDataParallel`` for the training step (gradients are
  all-reduced by DDP's bucketed hooks, overlapping with the backward pass),
* gives each rank its shard of every epoch's permutation (``perm[rank::world_size]``, the tail padded
  by wrapping so every rank runs the same number of steps, like ``DistributedSampler``; streamed
  torch data is sharded by ``kseq.training.sharding``),
* sums every metric's state over the ranks at the end of each epoch (and of ``evaluate``), so the
  logs, History and callbacks see global values,
* prints and writes files on rank 0 only (``is_main_process()``).

Nothing here runs when ``torch.distributed`` is not initialized.

Example:
    >>> is_distributed(), world_size(), is_main_process()
    (False, 1, True)
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn


def is_distributed() -> bool:
    """Whether a ``torch.distributed`` process group with more than one rank is active.

    Example:
        >>> is_distributed()
        False
    """
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    """Number of ranks (1 when not distributed).

    Example:
        >>> world_size()
        1
    """
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """This process's rank (0 when not distributed).

    Example:
        >>> rank()
        0
    """
    return dist.get_rank() if is_distributed() else 0


def is_main_process() -> bool:
    """True on rank 0: the process that prints and writes files.

    Example:
        >>> is_main_process()
        True
    """
    return rank() == 0


def local_device() -> torch.device:
    """This rank's device: ``cuda:LOCAL_RANK`` when CUDA is available, else the CPU.

    Example:
        >>> local_device().type in ("cpu", "cuda")
        True
    """
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def initialize(backend: str | None = None) -> None:
    """Initialize the process group from ``torchrun``'s environment (no-op when already done or
    when not launched by ``torchrun``). NCCL on CUDA, gloo on the CPU.

    Example:
        >>> initialize()  # not under torchrun: nothing to do
    """
    if not dist.is_available() or dist.is_initialized() or "RANK" not in os.environ:
        return
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        torch.cuda.set_device(local_device())
    dist.init_process_group(backend=backend)


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """``DistributedDataParallel`` around ``model`` (already on ``device``).

    The model's ``forward`` accepts ``return_logits=True`` (Sequential), so the wrapper can run the
    logits-fused training path through DDP's hooks.
    """
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def shard_indices(perm: Tensor) -> Tensor:
    """This rank's slice of an epoch's sample order, padded so all ranks get the same length."""
    n, size = perm.shape[0], world_size()
    if size == 1:
        return perm
    per_rank = -(-n // size)
    padded = torch.cat([perm, perm[: per_rank * size - n]]) if per_rank * size > n else perm
    return padded[rank() :: size]


def synchronized_permutation(n: int, device: torch.device) -> Tensor:
    """The same random permutation on every rank (rank 0 draws it and broadcasts it)."""
    perm = torch.randperm(n, device=device)
    if is_distributed():
        dist.broadcast(perm, src=0)
    return perm


@torch.no_grad()
def all_reduce_metrics(metrics: list[Any]) -> None:
    """Sum every metric's state tensors over the ranks, in place (``variables`` folds any host-side
    count into its buffer first).

    Every kseq metric keeps additive state (totals, counts, confusion counts), so the sum of the
    ranks' states is the state of the whole dataset.
    """
    if not is_distributed():
        return
    for metric in metrics:
        state = getattr(metric, "variables", None)
        buffers = list(state) if state is not None else list(metric.buffers())
        if buffers:
            flat = torch.cat([b.reshape(-1).to(torch.float64) for b in buffers])
            dist.all_reduce(flat)
            offset = 0
            for b in buffers:
                b.copy_(flat[offset : offset + b.numel()].reshape(b.shape).to(b.dtype))
                offset += b.numel()
