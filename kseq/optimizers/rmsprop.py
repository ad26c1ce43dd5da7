"""RMSprop with Keras's formula (epsilon inside the square root, ``rho=0.9``), as foreach updates.

Keras: ``v = rho * v + (1 - rho) * g^2``; ``var -= lr * g / sqrt(v + eps)`` (centered: subtract the
squared mean gradient inside the root; momentum: accumulate the increment). Torch's RMSprop puts
epsilon outside the root and defaults to ``alpha=0.99``, so kseq writes the update itself.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = RMSprop(learning_rate=0.1); opt.build([w])
    >>> w.grad = torch.ones(1); opt.step(); round(w.item(), 4)
    -0.3162
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop with Keras defaults ``learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7``.

    Example:
        >>> RMSprop().get_config()["rho"]
        0.9
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered
        self._velocities: list[Tensor] = []
        self._momentums: list[Tensor] = []
        self._average_gradients: list[Tensor] = []

    def _create_state(self) -> None:
        self._velocities = self._zeros_like_params()
        self._momentums = self._zeros_like_params() if self.momentum > 0 else []
        self._average_gradients = self._zeros_like_params() if self.centered else []

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        v = self._slots(self._velocities, params)
        torch._foreach_mul_(v, self.rho)
        torch._foreach_addcmul_(v, grads, grads, value=1.0 - self.rho)
        if self.centered:
            a = self._slots(self._average_gradients, params)
            torch._foreach_mul_(a, self.rho)
            torch._foreach_add_(a, grads, alpha=1.0 - self.rho)
            denominator = torch._foreach_addcmul(v, a, a, value=-1.0)
            torch._foreach_add_(denominator, self.epsilon)
        else:
            denominator = torch._foreach_add(v, self.epsilon)
        torch._foreach_sqrt_(denominator)
        if self.momentum > 0:
            m = self._slots(self._momentums, params)
            increment = torch._foreach_div(grads, denominator)
            torch._foreach_mul_(m, self.momentum)
            torch._foreach_add_(m, increment, alpha=lr)
            torch._foreach_sub_(params, m)
        else:
            torch._foreach_addcdiv_(params, grads, denominator, value=-lr)

    def _state_tensors(self) -> list[Tensor]:
        return self._velocities + self._momentums + self._average_gradients

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}  # fmt: skip
