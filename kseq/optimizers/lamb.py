"""LAMB (layer-wise adaptive moments, You et al. 2019) with Keras's formula, as foreach updates.

Keras: the Adam direction ``r = m_hat / (sqrt(v_hat) + eps)`` is rescaled per weight tensor by the
trust ratio ``||var|| / ||r||`` (1 when either norm is 0): ``var -= lr * ratio * r``. The norms
are device tensors (``torch._foreach_norm``); the ratio is chosen with ``torch.where``, no sync.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.full((4,), 2.0))
    >>> opt = Lamb(learning_rate=0.1); opt.build([w])
    >>> w.grad = torch.ones(4); opt.step(); round(w[0].item(), 4)  # ||w|| / ||r|| = 2
    1.8
"""

from __future__ import annotations

import torch
from torch import Tensor

from kseq.optimizers.moments import MomentOptimizer


class Lamb(MomentOptimizer):
    """LAMB with Keras defaults ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7``.

    Args:
        learning_rate: Float, schedule or callable.
        beta_1, beta_2: Decay rates of the first and second moment estimates.
        epsilon: Added to the denominator.
        **kwargs: Common optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``, ...).

    Example:
        >>> Lamb().get_config()["epsilon"]
        1e-07
    """

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        m, v = self._moments(params)
        t = self.iterations + 1
        torch._foreach_lerp_(m, grads, 1.0 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - self.beta_2)
        update = torch._foreach_div(m, 1.0 - self.beta_1**t)
        denominator = torch._foreach_div(v, 1.0 - self.beta_2**t)
        torch._foreach_sqrt_(denominator)
        torch._foreach_add_(denominator, self.epsilon)
        torch._foreach_div_(update, denominator)
        w_norm = torch.stack(torch._foreach_norm(params))
        u_norm = torch.stack(torch._foreach_norm(update))
        ratio = torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, torch.ones_like(w_norm))
        torch._foreach_mul_(update, list(ratio.unbind()))
        torch._foreach_add_(params, update, alpha=-lr)
