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

import inspect
from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


def _torch_adam(
    params: list[Tensor], amsgrad: bool, betas: tuple[float, float]
) -> torch.optim.Adam:
    """The fastest torch Adam available for these params: fused, else foreach."""
    if "fused" in inspect.signature(torch.optim.Adam).parameters:
        try:
            return torch.optim.Adam(
                params, lr=0.0, betas=betas, eps=1.0, amsgrad=amsgrad, fused=True
            )
        except (RuntimeError, ValueError):
            pass
    return torch.optim.Adam(params, lr=0.0, betas=betas, eps=1.0, amsgrad=amsgrad, foreach=True)


class Adam(Optimizer):
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

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        name: str = "adam",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad
        self._torch: torch.optim.Adam | None = None

    def _create_state(self) -> None:
        self._torch = _torch_adam(self._params, self.amsgrad, (self.beta_1, self.beta_2))
        # Create the moments now (torch creates them lazily), so they can be counted, saved and loaded.
        for p in self._params:
            state = self._torch.state[p]
            state["step"] = torch.zeros(
                (), dtype=torch.float32, device=p.device if self._fused() else "cpu"
            )
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if self.amsgrad:
                state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def _fused(self) -> bool:
        return bool(self._torch is not None and self._torch.defaults.get("fused"))

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        assert self._torch is not None
        t = self._iterations // (self.gradient_accumulation_steps or 1) + 1
        group = self._torch.param_groups[0]
        group["lr"] = lr
        group["eps"] = self.epsilon / (1.0 - self.beta_2**t) ** 0.5
        self._torch.step()

    def _state_tensors(self) -> list[Tensor]:
        if self._torch is None:
            return []
        keys = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if self.amsgrad else ())
        states = [self._torch.state[p] for p in self._params]
        return [s[k] for k in keys for s in states]

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if self._torch is not None:
            t = float(self._iterations // (self.gradient_accumulation_steps or 1))
            for p in self._params:
                self._torch.state[p]["step"].fill_(t)

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
        name: str = "adamw",
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
        if not weight_decay:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
