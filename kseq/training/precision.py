"""Mixed precision for the training step: autocast and (for float16) dynamic loss scaling.

The global dtype policy (``kseq.mixed_precision.set_global_policy``) picks it:

* ``float32`` (default): no autocast, no scaling.
* ``mixed_bfloat16``: ``torch.autocast(dtype=torch.bfloat16)``; no scaling needed.
* ``mixed_float16``: ``torch.autocast(dtype=torch.float16)`` plus dynamic loss scaling with Keras's
  ``LossScaleOptimizer`` constants (initial scale ``2**15``, doubled after 2000 finite steps,
  halved and the step skipped on overflow). Checking for overflow costs one host sync per step,
  as torch's ``GradScaler`` does; prefer ``mixed_bfloat16`` where the hardware has it.

Example:
    >>> p = Precision(mixed_precision.DTypePolicy("float32"), torch.device("cpu"))
    >>> p.autocast_dtype is None, p.loss_scale is None
    (True, True)
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import Tensor

from kseq import mixed_precision

_NO_AUTOCAST = contextlib.nullcontext()


class Precision:
    """Autocast context and loss scaling for one device and dtype policy."""

    def __init__(
        self,
        policy: mixed_precision.DTypePolicy,
        device: torch.device,
        initial_scale: float = 2.0**15,
        growth_steps: int = 2000,
    ) -> None:
        self.device_type = device.type
        self.autocast_dtype = policy.torch_compute_dtype if policy.is_mixed else None
        self.loss_scale: float | None = initial_scale if policy.compute_dtype == "float16" else None
        self.growth_steps = growth_steps
        self._good_steps = 0

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """``torch.autocast`` for mixed policies, else a no-op context (reused: free per step)."""
        if self.autocast_dtype is None:
            return _NO_AUTOCAST
        return torch.autocast(self.device_type, dtype=self.autocast_dtype)

    def scale(self, loss: Tensor) -> Tensor:
        return loss if self.loss_scale is None else loss * self.loss_scale

    def unscale_and_check(self, params: list[Tensor]) -> bool:
        """Divide gradients by the loss scale; return False (and back off) on inf/nan gradients."""
        if self.loss_scale is None:
            return True
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
