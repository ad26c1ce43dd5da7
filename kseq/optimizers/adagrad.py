"""Adagrad with Keras's formula (epsilon inside the square root), as foreach updates.

Keras: ``acc += g^2; var -= lr * g / sqrt(acc + eps)`` with the accumulators starting at
``initial_accumulator_value``. Torch's Adagrad adds epsilon outside the root, so kseq writes the
three ``torch._foreach_*`` ops itself.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0); opt.build([w])
    >>> w.grad = torch.ones(1); opt.step(); round(w.item(), 4)
    -0.1
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad: per-coordinate learning rates scaled by the history of squared gradients.

    Args:
        learning_rate: Float, schedule or callable (Keras default ``0.001``).
        initial_accumulator_value: Starting value of the squared-gradient sums.
        epsilon: Added inside the square root.
        **kwargs: Common optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``, ...).

    Example:
        >>> Adagrad().get_config()["initial_accumulator_value"]
        0.1
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon
        self._accumulated: list[Tensor] = []

    def _create_state(self) -> None:
        self._accumulated = self._zeros_like_params(self.initial_accumulator_value)

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        acc = self._slots(self._accumulated, params)
        torch._foreach_addcmul_(acc, grads, grads)
        denominator = torch._foreach_add(acc, self.epsilon)
        torch._foreach_sqrt_(denominator)
        torch._foreach_addcdiv_(params, grads, denominator, value=-lr)

    def _state_tensors(self) -> list[Tensor]:
        return list(self._accumulated)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}  # fmt: skip
