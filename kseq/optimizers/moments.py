"""``MomentOptimizer``: the shared face of Adamax, Nadam and Lamb.

All three take Keras's Adam-style arguments (``learning_rate=0.001, beta_1=0.9, beta_2=0.999,
epsilon=1e-7``) and keep two slots per weight that Keras creates together (a first moment and a
second moment or norm): subclasses only write ``_update``.

Example:
    >>> from kseq.optimizers import Lamb
    >>> isinstance(Lamb(), MomentOptimizer), Lamb().get_config()["beta_1"]
    (True, 0.9)
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


class MomentOptimizer(Optimizer):
    """Base class: Adam-style arguments and two per-weight slots, ``_first`` and ``_second``.

    Args:
        learning_rate: Float, schedule or callable.
        beta_1: Decay rate of the first moment.
        beta_2: Decay rate of the second moment (Adamax: of the infinity norm).
        epsilon: Added to the denominator for numerical stability.
        weight_decay: Decoupled weight decay.
        name: Optimizer name (auto-named from the class when omitted).
        **kwargs: Common optimizer arguments (``clipnorm``, ``use_ema``, ...).

    Example:
        >>> import torch
        >>> class SignAdam(MomentOptimizer):
        ...     def _update(self, params, grads, lr):
        ...         m, _ = self._moments(params)
        ...         torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        ...         torch._foreach_add_(params, torch._foreach_sign(m), alpha=-lr)
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> opt = SignAdam(learning_rate=0.1); opt.build([w])
        >>> w.grad = torch.ones(1); opt.step(); round(w.item(), 4), len(opt.variables)
        (-0.1, 4)
    """

    _keras_interleaved = 2  # Keras creates both slots of a weight together

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._first: list[Tensor] = []
        self._second: list[Tensor] = []

    def _create_state(self) -> None:
        self._first, self._second = self._zeros_like_params(), self._zeros_like_params()

    def _moments(self, params: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """The two slots of ``params``."""
        return self._slots(self._first, params), self._slots(self._second, params)

    def _state_tensors(self) -> list[Tensor]:
        return self._first + self._second

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}  # fmt: skip
