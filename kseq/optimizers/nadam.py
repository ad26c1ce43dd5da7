"""Nadam (Adam with Nesterov momentum) with Keras's formula, as foreach updates.

Keras (after Dozat, 2016): ``u_t = b1 * (1 - 0.5 * 0.96^t)``, ``U_t = prod(u_1..u_t)``;
``m_hat = u_{t+1} * m / (1 - U_{t+1}) + (1 - u_t) * g / (1 - U_t)``;
``var -= lr * m_hat / (sqrt(v / (1 - b2^t)) + eps)``. The running product ``U_t`` is one scalar,
kept on the host (Keras's ``u_product`` variable); torch's NAdam keeps one per tensor and
parameterizes the decay differently, so kseq writes the update itself.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = Nadam(learning_rate=0.1); opt.build([w])
    >>> w.grad = torch.ones(1); opt.step(); round(w.item(), 4)
    -0.1063
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.moments import MomentOptimizer


class Nadam(MomentOptimizer):
    """Nadam with Keras defaults ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7``.

    Args:
        learning_rate: Float, schedule or callable.
        beta_1, beta_2: Decay rates of the first and second moment estimates.
        epsilon: Added to the denominator.
        **kwargs: Common optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``, ...).

    Example:
        >>> Nadam().get_config()["beta_1"]
        0.9
    """

    _u_product = 1.0  # Keras's u_product variable (the product of u_1..u_t), kept on the host

    def _create_state(self) -> None:
        super()._create_state()
        self._u_product = 1.0

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        m, v = self._moments(params)
        t = self.iterations + 1
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96**t)
        u_next = self.beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product = self._u_product * u_t
        self._u_product = u_product
        torch._foreach_lerp_(m, grads, 1.0 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - self.beta_2)
        m_hat = torch._foreach_mul(m, u_next / (1.0 - u_product * u_next))
        torch._foreach_add_(m_hat, grads, alpha=(1.0 - u_t) / (1.0 - u_product))
        denominator = torch._foreach_div(v, 1.0 - self.beta_2**t)
        torch._foreach_sqrt_(denominator)
        torch._foreach_add_(denominator, self.epsilon)
        torch._foreach_addcdiv_(params, m_hat, denominator, value=-lr)

    def _state_tensors(self) -> list[Tensor]:
        if not self._first:
            return []
        return [
            *super()._state_tensors(),
            torch.tensor(self._u_product, dtype=self._params[0].dtype),
        ]

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if state["state"]:
            self._u_product = float(state["state"][-1])  # host sync: none, a saved CPU scalar
