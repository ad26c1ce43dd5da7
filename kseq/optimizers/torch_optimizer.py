"""``TorchOptimizer``: a ready-made ``torch.optim.Optimizer`` passed to ``compile(optimizer=...)``.

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.ones(1))
    >>> TorchOptimizer(torch.optim.SGD([w], lr=0.5)).learning_rate
    0.5
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


class TorchOptimizer(Optimizer):
    """Adapter: a ready-made ``torch.optim.Optimizer`` passed to ``compile(optimizer=...)``.

    Its parameter groups are used as they are; ``learning_rate`` reads and writes every group's
    ``lr`` (so ``ReduceLROnPlateau`` and friends work).

    Example:
        >>> import torch
        >>> w = torch.nn.Parameter(torch.ones(1))
        >>> opt = TorchOptimizer(torch.optim.SGD([w], lr=0.5))
        >>> opt.learning_rate
        0.5
    """

    def __init__(self, optimizer: torch.optim.Optimizer, name: str | None = None) -> None:
        super().__init__(learning_rate=float(optimizer.param_groups[0]["lr"]), name=name)
        self.torch_optimizer = optimizer

    @property
    def learning_rate(self) -> float:
        return float(self.torch_optimizer.param_groups[0]["lr"])

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        for group in self.torch_optimizer.param_groups:
            group["lr"] = float(value)

    def build(self, variables: Iterable[Tensor]) -> None:
        self._params = [p for g in self.torch_optimizer.param_groups for p in g["params"]]
        self.built = True

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.torch_optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.torch_optimizer.step()
        self._iterations += 1

    def _state_tensors(self) -> list[Tensor]:
        return [
            t for state in self.torch_optimizer.state.values() for k, t in state.items()
            if isinstance(t, Tensor) and k != "step"
        ]  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        return {"iterations": self._iterations, "torch": self.torch_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._iterations = int(state["iterations"])
        self.torch_optimizer.load_state_dict(state["torch"])

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            "A raw torch.optim optimizer cannot be saved in a model config; pass a kseq optimizer "
            "(e.g. kseq.optimizers.Adam) to compile() to save the optimizer with the model."
        )
