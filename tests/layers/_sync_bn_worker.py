"""A ``torch.distributed`` rank running a synchronized BatchNormalization (spawned by
``test_normalization.py``; kept apart so the child processes import only torch and kseq)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def run_rank(rank: int, world: int, port: int, x: np.ndarray, queue: Any) -> None:
    import torch.distributed as dist

    from kseq.layers import BatchNormalization

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        bn = BatchNormalization(synchronized=True, momentum=0.5)
        local = torch.tensor(np.array_split(x, world)[rank], requires_grad=True)
        out = bn(local, training=True)
        (out * torch.arange(1.0, 4.0)).sum().backward()
        queue.put((rank, out.detach().numpy(), local.grad.numpy(), bn.get_weights()))
    finally:
        dist.destroy_process_group()
