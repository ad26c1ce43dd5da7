"""Precision of the training step: a small object with ``autocast``, ``backward`` and ``step``.

The step calls the same three methods whatever the dtype policy
(``kseq.mixed_precision.set_global_policy``); :func:`for_policy` picks the object:

* ``float32`` (default): :class:`Precision`, a no-op (a reused null context, a plain
  ``backward`` and ``optimizer.step()``), so the float32 step pays nothing for the other cases.
* ``mixed_bfloat16``: :class:`Autocast`, ``torch.autocast(dtype=torch.bfloat16)``; no scaling.
* ``mixed_float16``: :class:`LossScaling`, autocast plus dynamic loss scaling with Keras's
  ``LossScaleOptimizer`` constants (initial scale ``2**15``, doubled after 2000 finite steps,
  halved and the step skipped on overflow). Checking for overflow costs one host sync per step,
  as torch's ``GradScaler`` does; prefer ``mixed_bfloat16`` where the hardware has it.

Example:
    >>> p = for_policy(mixed_precision.DTypePolicy("float32"), torch.device("cpu"))
    >>> type(p).__name__, p.autocast_dtype is None, p.loss_scale is None
    ('Precision', True, True)
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import Tensor

from kseq import mixed_precision
from kseq.optimizers.optimizer import Optimizer

_NO_AUTOCAST = contextlib.nullcontext()


class Precision:
    """float32: no autocast, no loss scaling. The base of the mixed-precision variants.

    Example:
        >>> p = Precision()
        >>> loss = torch.ones((), requires_grad=True) * 2
        >>> with p.autocast():
        ...     p.backward(loss)
    """

    autocast_dtype: torch.dtype | None = None
    loss_scale: float | None = None

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The context the forward and loss run in (here a reused no-op context: free per step)."""
        return _NO_AUTOCAST

    def backward(self, loss: Tensor) -> None:
        """Backpropagate ``loss`` (scaled first, when this precision scales losses)."""
        loss.backward()

    def step(self, optimizer: Optimizer) -> bool:
        """Apply the gradients with ``optimizer``; returns whether a step was taken."""
        optimizer.step()
        return True


class Autocast(Precision):
    """Mixed precision without loss scaling (bfloat16): the forward runs under ``torch.autocast``.

    Example:
        >>> Autocast(torch.bfloat16, torch.device("cpu")).autocast_dtype
        torch.bfloat16
    """

    def __init__(self, dtype: torch.dtype | None, device: torch.device) -> None:
        self.autocast_dtype = dtype
        self.device_type = device.type

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.autocast_dtype is None:  # a plain float16 policy: scaling without autocast
            return _NO_AUTOCAST
        return torch.autocast(self.device_type, dtype=self.autocast_dtype)


class LossScaling(Autocast):
    """float16: autocast plus Keras's dynamic loss scaling (skips the step on inf/nan gradients).

    Example:
        >>> LossScaling(torch.float16, torch.device("cpu")).loss_scale
        32768.0
    """

    def __init__(
        self,
        dtype: torch.dtype | None,
        device: torch.device,
        initial_scale: float = 2.0**15,
        growth_steps: int = 2000,
    ) -> None:
        super().__init__(dtype, device)
        self.loss_scale = initial_scale
        self.growth_steps = growth_steps
        self._good_steps = 0

    def backward(self, loss: Tensor) -> None:
        (loss * self.loss_scale).backward()

    def step(self, optimizer: Optimizer) -> bool:
        if not self._unscale_and_check(optimizer._params):
            return False
        optimizer.step()
        return True

    def _unscale_and_check(self, params: list[Tensor]) -> bool:
        """Divide gradients by the loss scale; return False (and back off) on inf/nan gradients."""
        assert self.loss_scale is not None
        grads = [p.grad for p in params if p.grad is not None]
        found_inf = torch.zeros(1, device=grads[0].device)
        inv = torch.full((1,), 1.0 / self.loss_scale, device=grads[0].device)
        torch._amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv)
        if bool(found_inf.item()):  # host sync: float16 loss scaling must know whether to skip
            self.loss_scale /= 2.0
            self._good_steps = 0
            return False
        self._good_steps += 1
        if self._good_steps >= self.growth_steps:
            self.loss_scale *= 2.0
            self._good_steps = 0
        return True


def for_policy(policy: mixed_precision.DTypePolicy, device: torch.device) -> Precision:
    """The precision object for a dtype policy on ``device``.

    Example:
        >>> type(for_policy(mixed_precision.DTypePolicy("mixed_float16"), torch.device("cpu"))).__name__
        'LossScaling'
    """
    dtype = policy.torch_compute_dtype if policy.is_mixed else None
    if policy.compute_dtype == "float16":
        return LossScaling(dtype, device)
    return Precision() if dtype is None else Autocast(dtype, device)
