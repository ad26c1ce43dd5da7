"""Lion (EvoLved Sign Momentum, Chen et al. 2023) as foreach updates.

Keras: ``var -= lr * sign(b1 * m + (1 - b1) * g)``, then ``m = b2 * m + (1 - b2) * g``.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> opt = Lion(learning_rate=0.1); opt.build([w])
    >>> w.grad = torch.tensor([2.0, -0.5]); opt.step(); w.detach().tolist()
    [-0.10000000149011612, 0.10000000149011612]
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


class Lion(Optimizer):
    """Lion with Keras defaults ``learning_rate=0.001, beta_1=0.9, beta_2=0.99``.

    Every coordinate moves by exactly ``learning_rate`` per step, so Lion wants a learning rate
    3-10x smaller than Adam's (and a larger ``weight_decay``).

    Args:
        learning_rate: Float, schedule or callable.
        beta_1: Interpolation between momentum and gradient for the update's sign.
        beta_2: Decay rate of the momentum.
        **kwargs: Common optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``, ...).

    Example:
        >>> Lion().get_config()["beta_2"]
        0.99
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        weight_decay: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )
        self.beta_1, self.beta_2 = beta_1, beta_2
        self._momentums: list[Tensor] = []

    def _create_state(self) -> None:
        self._momentums = self._zeros_like_params()

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        m = self._slots(self._momentums, params)
        direction = torch._foreach_mul(m, self.beta_1)
        torch._foreach_add_(direction, grads, alpha=1.0 - self.beta_1)
        torch._foreach_sign_(direction)
        torch._foreach_add_(params, direction, alpha=-lr)
        torch._foreach_mul_(m, self.beta_2)
        torch._foreach_add_(m, grads, alpha=1.0 - self.beta_2)

    def _state_tensors(self) -> list[Tensor]:
        return list(self._momentums)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
