"""Adafactor (Shazeer & Stern, 2018) with Keras's formula.

For a weight of rank >= 2 the second moment is factored into a row and a column running mean
(memory ``O(n + m)`` instead of ``O(nm)``); for lower ranks it is a full running mean::

    rho_t = min(lr, 1 / sqrt(t));   alpha_t = max(epsilon_2, rms(var)) * rho_t
    beta_t = 1 - t^beta_2_decay;    G = g^2 + epsilon_1
    r = beta_t * r + (1 - beta_t) * mean_cols(G);  c = beta_t * c + (1 - beta_t) * mean_rows(G)
    v = r / mean(r) (outer) c      (rank >= 2, else  v = beta_t * v + (1 - beta_t) * G)
    u = g / sqrt(v);  var -= alpha_t * u / max(1, rms(u) / clip_threshold)

Layout: Keras factors a kernel over its last two axes ``(in, out)``. ``v`` does not depend on
which of the two axes is called "row", so kseq factors torch-layout weights over their first two
axes ``(out, in)`` (``nn.Linear``, ``nn.Conv*`` and recurrent weights), which gives Keras's
values for Dense, Conv and recurrent kernels; ``r`` and ``c`` then hold Keras's values with
their axes in torch order. Depthwise kernels (torch ``(in * multiplier, 1, kh, kw)``) are factored
differently from Keras's ``(in, multiplier)``. Torch's own ``Adafactor`` clamps ``v`` instead of
adding ``epsilon_1`` to ``g^2``, so kseq writes the update itself (a loop over weight tensors:
the factored shapes differ per tensor).

Example:
    >>> import torch
    >>> w = torch.nn.Parameter(torch.ones(2, 2))
    >>> opt = Adafactor(learning_rate=0.5); opt.build([w])
    >>> w.grad = torch.ones(2, 2); opt.step(); w.detach()[0].tolist()
    [0.5, 0.5]
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.optimizers.optimizer import Optimizer


def _rms(x: Tensor) -> Tensor:
    return x.square().mean().sqrt()


class Adafactor(Optimizer):
    """Adafactor with Keras defaults.

    Args:
        learning_rate: Float, schedule or callable (the step is ``min(learning_rate, 1/sqrt(t))``
            times the weight's RMS).
        beta_2_decay: Exponent of the second-moment decay schedule ``1 - t^beta_2_decay``.
        epsilon_1: Added to the squared gradients.
        epsilon_2: Lower bound of the weight RMS that scales the step.
        clip_threshold: Bound on the RMS of the normalized update.
        relative_step: Cap the learning rate at ``1 / sqrt(t)`` (with a float learning rate; the
            cap is applied in any case, as in Keras).
        **kwargs: Common optimizer arguments (``weight_decay``, ``clipnorm``, ``use_ema``, ...).

    Example:
        >>> Adafactor().get_config()["beta_2_decay"]
        -0.8
    """

    _keras_interleaved = 3  # Keras creates r, c and velocity weight by weight

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
        weight_decay: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step
        self._r: list[Tensor] = []
        self._c: list[Tensor] = []
        self._v: list[Tensor] = []

    def _create_state(self) -> None:
        self._r, self._c = [], []
        for p in self._params:
            factored = p.ndim >= 2
            self._r.append(p.new_zeros(p.shape[1:] if factored else ()))  # mean over axis 0
            self._c.append(p.new_zeros(p.shape[:1] + p.shape[2:] if factored else ()))  # axis 1
        self._v = self._zeros_like_params()

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        t = self.iterations + 1
        rho_t = min(lr, t**-0.5)
        keep = 1.0 - t**self.beta_2_decay  # Keras's beta_2_t
        slots = zip(
            self._slots(self._r, params),
            self._slots(self._c, params),
            self._slots(self._v, params),
            strict=True,
        )
        for p, g, (r, c, v) in zip(params, grads, slots, strict=True):
            alpha_t = torch.clamp(_rms(p), min=self.epsilon_2) * rho_t
            g2 = g.square().add_(self.epsilon_1)
            if p.ndim >= 2:
                r.mul_(keep).add_(g2.mean(dim=0), alpha=1.0 - keep)
                c.mul_(keep).add_(g2.mean(dim=1), alpha=1.0 - keep)
                v.copy_((r / r.mean(dim=0, keepdim=True)).unsqueeze(0) * c.unsqueeze(1))
            else:
                v.mul_(keep).add_(g2, alpha=1.0 - keep)
            u = g / v.sqrt()
            u.div_(torch.clamp(_rms(u) / self.clip_threshold, min=1.0))
            p.sub_(alpha_t * u)

    def _state_tensors(self) -> list[Tensor]:
        return self._r + self._c + self._v

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}  # fmt: skip
