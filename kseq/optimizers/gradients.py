"""The gradient transforms an optimizer applies before its update: accumulation and clipping.

Keras's order (``keras/src/optimizers/base_optimizer.py``): accumulate ``gradient_accumulation_steps``
gradients into their mean, then clip (``clipnorm`` per tensor, ``global_clipnorm`` over all, or
``clipvalue``). Both work in place on lists of tensors with ``torch._foreach_*`` kernels.

Example:
    >>> import torch
    >>> grads = [torch.tensor([3.0, 4.0])]
    >>> clip_gradients(grads, clipnorm=1.0); [round(g, 4) for g in grads[0].tolist()]
    [0.6, 0.8]
"""

from __future__ import annotations

import torch
from torch import Tensor


def clip_gradients(
    grads: list[Tensor],
    clipnorm: float | None = None,
    global_clipnorm: float | None = None,
    clipvalue: float | None = None,
) -> None:
    """Clip ``grads`` in place: per-tensor norm, else global norm, else value (the first one set).

    Example:
        >>> grads = [torch.tensor([-2.0, 0.5])]
        >>> clip_gradients(grads, clipvalue=1.0); grads[0].tolist()
        [-1.0, 0.5]
    """
    if clipnorm and clipnorm > 0:
        norms = torch._foreach_norm(grads)
        # Keras: g * clipnorm / max(norm, clipnorm), per tensor.
        scales = torch._foreach_div(torch._foreach_maximum(norms, clipnorm), clipnorm)
        torch._foreach_div_(grads, scales)
    elif global_clipnorm and global_clipnorm > 0:
        total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        torch._foreach_mul_(grads, global_clipnorm / torch.clamp(total, min=global_clipnorm))
    elif clipvalue and clipvalue > 0:
        torch._foreach_clamp_min_(grads, -clipvalue)
        torch._foreach_clamp_max_(grads, clipvalue)


def accumulate_gradients(
    accumulators: list[Tensor], grads: list[Tensor], iteration: int, steps: int
) -> bool:
    """Gradient accumulation at call ``iteration`` (0-based) of every ``steps``: add ``grads`` to
    the accumulators, or, every ``steps``-th call, replace ``grads`` (in place) by the mean of the
    last ``steps``, zero the accumulators and return ``True`` (an update step).

    Example:
        >>> accs, g = [torch.zeros(1)], [torch.ones(1)]
        >>> accumulate_gradients(accs, g, iteration=0, steps=2), accs[0].tolist()
        (False, [1.0])
        >>> g = [torch.full((1,), 3.0)]
        >>> accumulate_gradients(accs, g, iteration=1, steps=2), g[0].tolist(), accs[0].tolist()
        (True, [2.0], [0.0])
    """
    if (iteration + 1) % steps != 0:
        torch._foreach_add_(accumulators, grads)
        return False
    torch._foreach_add_(grads, accumulators)
    torch._foreach_div_(grads, steps)
    torch._foreach_zero_(accumulators)
    return True
