"""Adadelta on torch's foreach Adadelta kernel, whose formula equals Keras's.

Both compute ``acc_g = rho * acc_g + (1 - rho) * g^2``,
``delta = sqrt(acc_d + eps) / sqrt(acc_g + eps) * g``, ``acc_d = rho * acc_d + (1 - rho) * delta^2``
and ``var -= lr * delta``; only the defaults differ (Keras: ``learning_rate=0.001, rho=0.95,
epsilon=1e-7``).

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = Adadelta(learning_rate=1.0, epsilon=1e-2); opt.build([w])
    >>> w.grad = torch.ones(1); opt.step(); round(w.item(), 4)
    -0.4082
"""

from __future__ import annotations

from typing import Any

import torch

from kseq.optimizers.torch_backed import TorchBackedOptimizer


class Adadelta(TorchBackedOptimizer):
    """Adadelta: step sizes from running averages of squared gradients and squared updates.

    Args:
        learning_rate: Float, schedule or callable (Keras default ``0.001``; the original paper
            uses ``1.0``).
        rho: Decay rate of both running averages.
        epsilon: Added inside both square roots.
        **kwargs: Common optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``, ...).

    Example:
        >>> Adadelta().get_config()["rho"]
        0.95
    """

    _torch_class = torch.optim.Adadelta
    # Keras: accumulated_grad, accumulated_delta_var per weight.
    _slot_groups = ((("square_avg", 0.0), ("acc_delta", 0.0)),)

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.rho, self.epsilon = rho, epsilon

    def _torch_options(self) -> dict[str, Any]:
        return {"rho": self.rho, "eps": self.epsilon}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
