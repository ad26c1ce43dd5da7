"""Adamax (Adam with the infinity norm) with Keras's formula, as foreach updates.

Keras: ``m = b1 * m + (1 - b1) * g``; ``u = max(b2 * u, |g|)``;
``var -= lr / (1 - b1^t) * m / (u + eps)``. Torch's Adamax folds epsilon into the running maximum
(``max(b2 * u, |g| + eps)``), which drifts from Keras's values, so kseq writes the update itself.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = Adamax(learning_rate=0.1); opt.build([w])
    >>> w.grad = torch.ones(1); opt.step(); round(w.item(), 4)
    -0.1
"""

from __future__ import annotations

import torch
from torch import Tensor

from kseq.optimizers.moments import MomentOptimizer


class Adamax(MomentOptimizer):
    """Adamax with Keras defaults ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7``.

    Args:
        learning_rate: Float, schedule or callable.
        beta_1: Decay rate of the first moment.
        beta_2: Decay rate of the exponentially weighted infinity norm.
        epsilon: Added to the norm.
        **kwargs: Common optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``, ...).

    Example:
        >>> Adamax().get_config()["beta_2"]
        0.999
    """

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        m, u = self._moments(params)
        t = self.iterations + 1
        torch._foreach_lerp_(m, grads, 1.0 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominator = torch._foreach_add(u, self.epsilon)
        torch._foreach_addcdiv_(params, m, denominator, value=-lr / (1.0 - self.beta_1**t))
