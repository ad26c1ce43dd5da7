"""Adam and AdamW on torch's fused (or foreach) Adam kernel, with Keras's numerics.

Keras's Adam uses the "epsilon-hat" form ``var -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``;
torch's Adam matches it exactly when its ``eps`` is ``eps / sqrt(1 - b2^t)``, which is set before
every step (a host-side float, no sync). Weight decay is Keras's decoupled decay for both classes.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = Adam(learning_rate=0.1); opt.build([w])
    >>> w.grad = torch.ones(1); opt.step(); round(w.item(), 4)
    -0.1
"""

from __future__ import annotations

from typing import Any

import torch

from kseq.optimizers.torch_backed import TorchBackedOptimizer


class Adam(TorchBackedOptimizer):
    """Adam (Kingma & Ba) with Keras defaults: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7``.

    Args:
        learning_rate: Float, schedule or callable.
        beta_1, beta_2: Decay rates of the first and second moment estimates.
        epsilon: Keras's epsilon-hat (``1e-7``; torch's default is ``1e-8`` in another form).
        amsgrad: Use the AMSGrad variant.
        **kwargs: Common optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``, ...).

    Example:
        >>> Adam().get_config()["epsilon"]
        1e-07
    """

    _torch_class = torch.optim.Adam

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def _torch_options(self) -> dict[str, Any]:
        return {"betas": (self.beta_1, self.beta_2), "eps": 1.0, "amsgrad": self.amsgrad}

    def _step_options(self, t: int) -> dict[str, Any]:
        return {"eps": self.epsilon / (1.0 - self.beta_2**t) ** 0.5}

    def _active_slot_groups(self) -> tuple[tuple[tuple[str, float], ...], ...]:
        # Keras: momentum and velocity per weight, then the velocity_hat of every weight.
        moments = (("exp_avg", 0.0), ("exp_avg_sq", 0.0))
        return (moments, (("max_exp_avg_sq", 0.0),)) if self.amsgrad else (moments,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}  # fmt: skip


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras default ``weight_decay=0.004``).

    Example:
        >>> AdamW().weight_decay
        0.004
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            name=name,
            **kwargs,
        )
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
