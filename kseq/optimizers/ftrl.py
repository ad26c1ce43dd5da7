"""FTRL-Proximal (McMahan et al., 2013) with Keras's formula, as foreach updates.

Per coordinate, with ``p = -learning_rate_power`` (``0.5`` by default) and ``n`` the sum of squared
gradients::

    sigma = (n_new^p - n^p) / lr
    z += g + 2 * l2_shrinkage * var - sigma * var
    var = (clip(z, -l1, l1) - z) / (n_new^p / lr + 2 * (l2 + beta / (2 * lr)))

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = Ftrl(learning_rate=0.1, initial_accumulator_value=0.0); opt.build([w])
    >>> w.grad = torch.ones(1); opt.step(); round(w.item(), 4)
    -0.1
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


class Ftrl(Optimizer):
    """FTRL-Proximal with L1/L2 regularization, as used for large sparse linear models.

    Args:
        learning_rate: Float, schedule or callable (Keras default ``0.001``).
        learning_rate_power: How the per-coordinate rate shrinks with the squared-gradient sum
            (``<= 0``; ``-0.5`` is Adagrad-like, ``0`` a constant rate).
        initial_accumulator_value: Starting squared-gradient sum (``>= 0``).
        l1_regularization_strength: L1 strength (``>= 0``): gives exact zeros.
        l2_regularization_strength: L2 strength (``>= 0``) of the stabilized objective.
        l2_shrinkage_regularization_strength: L2 shrinkage on the gradient (``>= 0``).
        beta: The paper's beta (adds ``beta / (2 * lr)`` to the L2 strength).
        **kwargs: Common optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``, ...).

    Example:
        >>> Ftrl().get_config()["learning_rate_power"]
        -0.5
    """

    _keras_interleaved = 2  # Keras creates both slots of a weight together

    def __init__(
        self,
        learning_rate: Any = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        weight_decay: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        if initial_accumulator_value < 0.0:
            raise ValueError(
                "`initial_accumulator_value` needs to be positive or zero. Received: "
                f"initial_accumulator_value={initial_accumulator_value}."
            )
        if learning_rate_power > 0.0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. Received: "
                f"learning_rate_power={learning_rate_power}."
            )
        for arg, value in (
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        ):
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. Received: {arg}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta
        self._squared_sums: list[Tensor] = []
        self._linears: list[Tensor] = []

    def _create_state(self) -> None:
        self._squared_sums = self._zeros_like_params(self.initial_accumulator_value)
        self._linears = self._zeros_like_params()

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        accum, linear = self._slots(self._squared_sums, params), self._slots(self._linears, params)
        power = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        new_accum = torch._foreach_addcmul(accum, grads, grads)
        new_scaled = torch._foreach_pow(new_accum, power)
        sigma = torch._foreach_sub(new_scaled, torch._foreach_pow(accum, power))
        torch._foreach_div_(sigma, lr)
        torch._foreach_add_(linear, grads)
        if self.l2_shrinkage_regularization_strength:
            torch._foreach_add_(
                linear, params, alpha=2.0 * self.l2_shrinkage_regularization_strength
            )
        torch._foreach_sub_(linear, torch._foreach_mul(sigma, params))
        quadratic = torch._foreach_div(new_scaled, lr)
        torch._foreach_add_(quadratic, 2.0 * l2)
        new_params = torch._foreach_clamp_min(linear, -l1)
        torch._foreach_clamp_max_(new_params, l1)
        torch._foreach_sub_(new_params, linear)
        torch._foreach_div_(new_params, quadratic)
        torch._foreach_copy_(params, new_params)
        torch._foreach_copy_(accum, new_accum)

    def _state_tensors(self) -> list[Tensor]:
        return self._squared_sums + self._linears

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }
