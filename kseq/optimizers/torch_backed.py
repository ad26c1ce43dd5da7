"""``TorchBackedOptimizer``: a Keras optimizer whose update *is* a ``torch.optim`` kernel.

Used where torch's formula equals Keras's (Adam/AdamW with a per-step epsilon, Adadelta). The torch
optimizer runs with ``lr=0`` placeholders, ``weight_decay=0`` (kseq's base class applies Keras's
decoupled decay) and the fastest implementation torch offers (``fused``, else ``foreach``); the
learning rate and any per-step hyperparameter are written into its parameter group before each
step, as host floats. Its state is created eagerly so it can be counted, saved and restored.

Example:
    >>> import torch
    >>> from kseq.optimizers import Adadelta
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = Adadelta(learning_rate=1.0); opt.build([w])
    >>> isinstance(opt.torch_optimizer, torch.optim.Adadelta)
    True
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


def make_torch_optimizer(
    cls: type[torch.optim.Optimizer], params: list[Tensor], **options: Any
) -> torch.optim.Optimizer:
    """``cls(params, lr=0.0, **options)`` with ``fused=True`` when torch supports it for these
    tensors, else ``foreach=True``.

    Example:
        >>> w = torch.nn.Parameter(torch.zeros(2))
        >>> opt = make_torch_optimizer(torch.optim.Adam, [w], eps=1e-7)
        >>> bool(opt.defaults.get("fused") or opt.defaults.get("foreach"))
        True
    """
    if "fused" in inspect.signature(cls).parameters:
        try:
            return cls(params, lr=0.0, fused=True, **options)  # type: ignore[call-arg]
        except (RuntimeError, ValueError):
            pass
    return cls(params, lr=0.0, foreach=True, **options)  # type: ignore[call-arg]


class TorchBackedOptimizer(Optimizer):
    """Base class: subclasses set ``_torch_class`` and ``_slot_groups`` and implement
    ``_torch_options()`` (and ``_step_options(t)`` for per-step hyperparameters).

    ``_slot_groups`` lists torch's state keys with their initial values, grouped as Keras creates
    its variables: Keras interleaves the keys of the first group weight by weight (``m0, v0, m1,
    v1``), the other groups follow.

    Example:
        >>> class HeavyBall(TorchBackedOptimizer):  # torch's SGD: m = 0.9 m + g; var -= lr m
        ...     _torch_class = torch.optim.SGD
        ...     _slot_groups = ((("momentum_buffer", 0.0),),)
        ...     def _torch_options(self):
        ...         return {"momentum": 0.9}
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> opt = HeavyBall(learning_rate=0.1); opt.build([w])
        >>> for _ in range(2):
        ...     w.grad = torch.ones(1); opt.step()
        >>> round(w.item(), 4), len(opt.variables)  # iteration, learning_rate, one buffer
        (-0.29, 3)
    """

    _torch_class: type[torch.optim.Optimizer]
    _slot_groups: tuple[tuple[tuple[str, float], ...], ...] = ()

    _update_needs_no_grad = False  # torch's step() runs under no_grad itself

    def __init__(self, learning_rate: Any, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.torch_optimizer: torch.optim.Optimizer | None = None

    def _torch_options(self) -> dict[str, Any]:
        """Constructor hyperparameters of the torch optimizer (besides ``lr``)."""
        return {}

    def _step_options(self, t: int) -> dict[str, Any]:
        """Parameter-group values to set before update number ``t`` (1-based)."""
        return {}

    def _active_slot_groups(self) -> tuple[tuple[tuple[str, float], ...], ...]:
        return self._slot_groups

    @property
    def _keras_interleaved(self) -> int:  # type: ignore[override]
        groups = self._active_slot_groups()
        return len(groups[0]) if groups else 1

    def _create_state(self) -> None:
        opt = make_torch_optimizer(self._torch_class, self._params, **self._torch_options())
        step_device = None if opt.defaults.get("fused") else torch.device("cpu")
        for p in self._params:
            state = opt.state[p]
            state["step"] = torch.zeros((), dtype=torch.float32, device=step_device or p.device)
            for group in self._active_slot_groups():
                for key, value in group:
                    state[key] = torch.full_like(p, value, memory_format=torch.preserve_format)
        self.torch_optimizer = opt

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        # ``params``' gradients were clipped/accumulated in place: torch reads them from ``.grad``.
        assert self.torch_optimizer is not None
        group = self.torch_optimizer.param_groups[0]
        group["lr"] = lr
        group.update(self._step_options(self.iterations + 1))
        self.torch_optimizer.step()

    def move_state(self, device: torch.device) -> None:
        super().move_state(device)
        if self.torch_optimizer is not None and self.torch_optimizer.defaults.get("fused"):
            for state in self.torch_optimizer.state.values():  # fused kernels keep `step` on device
                step = state.get("step")
                if isinstance(step, Tensor) and step.device != device:
                    step.data = step.data.to(device)

    def _state_tensors(self) -> list[Tensor]:
        if self.torch_optimizer is None:
            return []
        states = [self.torch_optimizer.state[p] for p in self._params]
        keys = [key for group in self._active_slot_groups() for key, _ in group]
        return [state[key] for key in keys for state in states]

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if self.torch_optimizer is not None:
            for p in self._params:
                self.torch_optimizer.state[p]["step"].fill_(float(self.iterations))
