"""SGD with Keras's momentum formula, as ``torch._foreach_*`` updates.

Keras: ``m = momentum * m - lr * g; var += m`` (Nesterov: ``var += momentum * m - lr * g``). Torch's
SGD keeps ``lr`` outside its buffer, which differs from Keras whenever the learning rate changes
(schedules, ReduceLROnPlateau), so kseq writes the three foreach ops itself.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = SGD(learning_rate=0.1, momentum=0.9); opt.build([w])
    >>> for _ in range(2):
    ...     w.grad = torch.ones(1); opt.step()
    >>> round(w.item(), 4)
    -0.29
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum. Keras defaults: ``learning_rate=0.01``.

    Example:
        >>> SGD().get_config()["learning_rate"]
        0.01
    """

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        if not isinstance(momentum, (int, float)) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum, self.nesterov = float(momentum), nesterov
        self._momentums: list[Tensor] = []

    def _create_state(self) -> None:
        self._momentums = self._zeros_like_params() if self.momentum else []

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        if not self.momentum:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        m = self._slots(self._momentums, params)
        torch._foreach_mul_(m, self.momentum)
        torch._foreach_add_(m, grads, alpha=-lr)
        if self.nesterov:
            torch._foreach_add_(params, m, alpha=self.momentum)
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            torch._foreach_add_(params, m)

    def _state_tensors(self) -> list[Tensor]:
        return list(self._momentums)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
