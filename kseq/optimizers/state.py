"""An optimizer's state as Keras lists it and as kseq saves it.

``keras_order`` reorders kseq's slot-after-slot state into Keras's ``optimizer.variables`` order;
``copy_saved_state`` checks and copies one saved list of state tensors back into the optimizer
(``Optimizer.load_state_dict``).

Example:
    >>> keras_order(["m0", "m1", "v0", "v1"], n_params=2, interleaved=2)
    ['m0', 'v0', 'm1', 'v1']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor


def keras_order(state: list[Any], n_params: int, interleaved: int) -> list[Any]:
    """Reorder slot-after-slot state as Keras's ``optimizer.variables``: the first ``interleaved``
    slots are created together, weight by weight (``add_optimizer_variables(vars, ["m", "v"])``
    gives ``m0, v0, m1, v1, ...``); the rest follow unchanged.

    Example:
        >>> keras_order(["m0", "m1", "v0", "v1", "h0", "h1"], n_params=2, interleaved=2)
        ['m0', 'v0', 'm1', 'v1', 'h0', 'h1']
    """
    if interleaved < 2 or len(state) < interleaved * n_params:
        return list(state)
    head = state[: interleaved * n_params]
    groups = [head[i * n_params : (i + 1) * n_params] for i in range(interleaved)]
    return [slot for per_weight in zip(*groups, strict=True) for slot in per_weight] + list(
        state[interleaved * n_params :]
    )


@torch.no_grad()
def copy_saved_state(
    optimizer: str, kind: str, current: Sequence[Tensor], saved: Sequence[Tensor]
) -> None:
    """Copy ``saved`` tensors into ``current`` in place (``kind``: ``"state"``, ``"accumulators"``
    or ``"ema"`` of the optimizer named ``optimizer``), after checking that their counts match.

    Example:
        >>> current = [torch.zeros(2)]
        >>> copy_saved_state("sgd", "state", current, [torch.ones(2)]); current[0].tolist()
        [1.0, 1.0]
        >>> copy_saved_state("sgd", "ema", current, [])
        Traceback (most recent call last):
        ...
        ValueError: Optimizer 'sgd' has 1 ema tensors but the saved state has 0: was it saved for a different model or optimizer?
    """
    if len(current) != len(saved):
        raise ValueError(
            f"Optimizer '{optimizer}' has {len(current)} {kind} tensors but the saved state has "
            f"{len(saved)}: was it saved for a different model or optimizer?"
        )
    for dst, src in zip(current, saved, strict=True):
        dst.copy_(src)
