"""``BatchNormalization`` with Keras's semantics on torch's fused batch-norm kernel.

What differs from ``torch.nn.BatchNorm*`` and why this layer does not wrap one:

* **Moving statistics** follow Keras's rule ``moving = moving * momentum + batch * (1 - momentum)``
  (``momentum=0.99``) with the *biased* batch variance; torch's ``running_var`` uses the unbiased
  one. The training step runs ``torch.native_batch_norm`` without running buffers, which returns the
  output *and* the batch mean and ``1 / sqrt(var + eps)``, then updates the buffers itself: one
  pass over the data, as fast as ``nn.BatchNorm`` (measured on CPU).
* **Any rank and axis**: the normalized axis (``-1`` for channels_last images) is moved to position
  1 as a view; a channels_last image then is an NCHW tensor in ``torch.channels_last`` memory
  format, which the kernel takes without a copy.
* **Frozen** (``trainable=False``) means inference mode, also inside ``fit``, as in Keras.
* Keras extras: a ``mask`` argument (masked timesteps do not count in the batch statistics),
  batch renormalization (``renorm=True``) and ``synchronized=True`` (batch statistics all-reduced
  over the ``torch.distributed`` group, a DDP-ready SyncBatchNorm; Keras on torch rejects it).

Weights, in Keras order: ``gamma``, ``beta`` (trainable parameters), ``moving_mean``,
``moving_variance`` (buffers; with ``renorm`` also ``moving_stddev``, ``renorm_mean``,
``renorm_stddev``).

Example:
    >>> import torch
    >>> bn = BatchNormalization()
    >>> y = bn(torch.tensor([[0.0], [2.0]]), training=True)
    >>> [round(v, 4) for v in y[:, 0].tolist()], round(bn.moving_mean.item(), 4)
    ([-0.9995, 0.9995], 0.01)
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from kseq import config, initializers
from kseq.layers.layer import InputSpec, Shape
from kseq.layers.normalization import AffineNormalization, compute_float
from kseq.variables import Variable

__all__ = ["BatchNormalization"]

_RENORM_KEYS = ("rmax", "rmin", "dmax")


class BatchNormalization(AffineNormalization):
    """Normalize with batch statistics in training and moving statistics in inference.

    Training (``fit``, ``model.train()``, ``training=True``) returns
    ``gamma * (x - mean(batch)) / sqrt(var(batch) + epsilon) + beta`` and updates
    ``moving_mean``/``moving_variance``; inference (``evaluate``/``predict``, ``model.eval()``)
    uses the moving statistics. A frozen layer (``trainable = False``) always runs in inference
    mode and never updates its statistics.

    Args:
        axis: The feature axis (default ``-1``; ``1`` after a channels_first convolution).
        momentum: Momentum of the moving averages (default ``0.99``; torch's ``momentum`` is
            ``1 - momentum``).
        epsilon: Added to the variance (default ``1e-3``; torch's default is ``1e-5``).
        center, scale: Whether to learn ``beta`` / ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: Initializers (zeros, ones, zeros, ones).
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: As in Keras.
        renorm: Batch renormalization (Ioffe, 2017): the training output is corrected by
            ``r = stddev / renorm_stddev`` and ``d = (mean - renorm_mean) / renorm_stddev``.
        renorm_clipping: Dict with optional ``"rmax"``, ``"rmin"``, ``"dmax"`` clipping ``r``/``d``.
        renorm_momentum: Momentum of the renorm moving averages (default ``0.99``).
        synchronized: All-reduce the batch statistics over the default ``torch.distributed``
            group in training (effective when a process group with more than one rank is
            initialized, e.g. under ``torchrun``; otherwise local statistics are used). The
            all-reduce is differentiable, so gradients are exact as with ``nn.SyncBatchNorm``.

    Call arguments:
        inputs: Tensor of any rank.
        training: Whether to use batch statistics (default: ``self.training``).
        mask: Optional boolean tensor of the input's rank minus one; masked positions are left out
            of the batch statistics.

    Example:
        >>> bn = BatchNormalization(momentum=0.5)
        >>> _ = bn(torch.tensor([[1.0], [3.0]]), training=True)
        >>> bn.moving_mean.item(), bn.moving_variance.item()
        (1.0, 1.0)
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        renorm: bool = False,
        renorm_clipping: dict[str, float] | None = None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            center, scale, beta_initializer, gamma_initializer, beta_regularizer,
            gamma_regularizer, beta_constraint, gamma_constraint, **kwargs,
        )  # fmt: skip
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = synchronized
        self.renorm = renorm
        self.renorm_clipping = (renorm_clipping or {}) if renorm else renorm_clipping
        self.renorm_momentum = renorm_momentum
        self._clipping = _check_renorm_clipping(renorm_clipping) if renorm else {}

    # ----------------------------------------------------------------- build
    def build(self, input_shape: Shape) -> None:
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {input_shape}. "
                f"Received: axis={self.axis}"
            )
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of the input to BatchNormalization layer '{self.name}' should have "
                f"a defined dimension, but the layer received an input with shape {input_shape}."
            )
        self._build_affine((dim,))
        names = ["moving_mean", "moving_variance"]
        if self.renorm:
            names += ["moving_stddev", "renorm_mean", "renorm_stddev"]
        for name in names:
            self.register_buffer(name, torch.empty(dim))
        self._channel_axis = self.axis % len(input_shape)
        self._reduction_axes = [a for a in range(len(input_shape)) if a != self._channel_axis]
        self._broadcast_shape = [1] * len(input_shape)
        self._broadcast_shape[self._channel_axis] = dim
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw ``gamma``/``beta`` and reset the moving statistics from their initializers."""
        super().reset_parameters()
        with torch.no_grad():
            shape = tuple(self._stat("moving_mean").shape)
            self._stat("moving_mean").copy_(self.moving_mean_initializer(shape))
            self._stat("moving_variance").copy_(self.moving_variance_initializer(shape))
            if self.renorm:
                self._stat("moving_stddev").copy_(self.moving_variance_initializer(shape).sqrt())
                self._stat("renorm_mean").copy_(self.moving_mean_initializer(shape))
                self._stat("renorm_stddev").copy_(self.moving_variance_initializer(shape).sqrt())

    # ------------------------------------------------------------------ call
    def call(
        self, inputs: Tensor, training: bool | None = None, mask: Tensor | None = None
    ) -> Tensor:
        training = self.training if training is None else training
        if mask is not None and mask.ndim != inputs.ndim - 1:
            raise ValueError(
                "The mask provided should be one dimension less than the inputs. Received: "
                f"mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}"
            )
        x = compute_float(inputs)
        if not (training and self._trainable):
            out = F.batch_norm(
                x.movedim(self._channel_axis, 1),
                self._stat("moving_mean").to(x.dtype),
                self._stat("moving_variance").to(x.dtype),
                self._cast(self.gamma, x),
                self._cast(self.beta, x),
                False,
                0.0,
                self.epsilon,
            ).movedim(1, self._channel_axis)
        elif (
            mask is None
            and not self.renorm
            and not self._synchronizing()
            and x.numel() > x.shape[self._channel_axis]
        ):
            out = self._fused_training_forward(x)
        else:
            out = self._training_forward(x, mask)
        return out.to(inputs.dtype)

    def _fused_training_forward(self, x: Tensor) -> Tensor:
        out, mean, invstd = torch.native_batch_norm(
            x.movedim(self._channel_axis, 1),
            self._cast(self.gamma, x),
            self._cast(self.beta, x),
            None,
            None,
            True,
            0.0,
            self.epsilon,
        )
        with torch.no_grad():
            variance = invstd.pow(-2) - self.epsilon  # the biased batch variance
            self._update(self._stat("moving_mean"), mean, self.momentum)
            self._update(self._stat("moving_variance"), variance, self.momentum)
        return out.movedim(1, self._channel_axis)

    def _training_forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        mean, variance = self._moments(x, mask)
        gamma, beta = self._cast(self.gamma, x), self._cast(self.beta, x)
        if self.renorm:
            gamma, beta = self._renorm(mean, variance, gamma, beta)
        else:
            with torch.no_grad():
                self._update(self._stat("moving_mean"), mean, self.momentum)
                self._update(self._stat("moving_variance"), variance, self.momentum)
        return self._normalize(x, mean, variance, gamma, beta)

    def _moments(self, x: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """Batch mean and biased variance per channel (masked / all-reduced when asked)."""
        dims = self._reduction_axes
        if mask is None and not self._synchronizing():
            variance, mean = torch.var_mean(x, dim=dims, correction=0)
            return mean, variance
        weights = (
            torch.ones((), dtype=x.dtype, device=x.device)
            if mask is None
            else mask.unsqueeze(-1).to(x.dtype).expand_as(x)
        )
        count = (weights.expand_as(x)).sum(dim=dims)
        total, square_total = (x * weights).sum(dim=dims), (x.square() * weights).sum(dim=dims)
        if self._synchronizing():
            # Differentiable all-reduce (its backward all-reduces the gradients), as SyncBatchNorm.
            import torch.distributed._functional_collectives as collectives

            sums = collectives.all_reduce(
                torch.stack([count, total, square_total]), "sum", dist.group.WORLD
            )
            count, total, square_total = collectives.wait_tensor(sums).unbind(0)
        if mask is None:  # Keras's moments: E[x^2] - E[x]^2
            mean = total / count
            return mean, square_total / count - mean.square()
        # Keras's masked moments: sums over the unmasked positions, divided by (count + epsilon).
        mean = total / (count + config.epsilon())
        centered = (x - mean.reshape(self._broadcast_shape)) * weights
        return mean, centered.square().sum(dim=dims) / (count + config.epsilon())

    def _renorm(
        self, mean: Tensor, variance: Tensor, gamma: Tensor | None, beta: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """Batch renormalization: fold the ``(r, d)`` correction into gamma/beta, update stats."""
        with torch.no_grad():
            stddev = torch.sqrt(variance + self.epsilon)
            renorm_stddev = torch.clamp(self._stat("renorm_stddev"), min=math.sqrt(self.epsilon))
            r = stddev / renorm_stddev
            d = (mean - self._stat("renorm_mean")) / renorm_stddev
            if "rmin" in self._clipping:
                r = torch.clamp(r, min=self._clipping["rmin"])
            if "rmax" in self._clipping:
                r = torch.clamp(r, max=self._clipping["rmax"])
            if "dmax" in self._clipping:
                d = torch.clamp(d, -self._clipping["dmax"], self._clipping["dmax"])
            self._update(self._stat("renorm_mean"), mean, self.renorm_momentum)
            self._update(self._stat("renorm_stddev"), stddev, self.renorm_momentum)
            self._update(self._stat("moving_mean"), mean, self.momentum)
            self._update(self._stat("moving_stddev"), stddev, self.momentum)
            self._stat("moving_variance").copy_(
                F.relu(self._stat("moving_stddev").square() - self.epsilon)
            )
        new_gamma = r if gamma is None else r * gamma
        new_beta = d if gamma is None else d * gamma
        return new_gamma, new_beta if beta is None else new_beta + beta

    def _normalize(
        self, x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor | None, beta: Tensor | None
    ) -> Tensor:
        shape = self._broadcast_shape
        inv = torch.rsqrt(variance + self.epsilon)
        if gamma is not None:
            inv = inv * gamma
        out = (x - mean.reshape(shape)) * inv.reshape(shape)
        return out if beta is None else out + beta.reshape(shape)

    @staticmethod
    def _update(moving: Tensor, batch: Tensor, momentum: float) -> None:
        moving.copy_(moving * momentum + batch.to(moving.dtype) * (1.0 - momentum))

    @staticmethod
    def _cast(weight: Tensor | None, x: Tensor) -> Tensor | None:
        return None if weight is None else weight.to(x.dtype)

    def _synchronizing(self) -> bool:
        return (
            self.synchronized
            and dist.is_available()
            and dist.is_initialized()
            and dist.get_world_size() > 1
        )

    # ---------------------------------------------------------------- config
    # ------------------------------------------------------------------ Keras face
    def _stat(self, name: str) -> Tensor:
        """The statistics buffer ``name`` itself (the step reads these, never the variables)."""
        return self._buffers[name]  # type: ignore[return-value]

    @property
    def moving_mean(self) -> Variable:
        """Keras's ``moving_mean``: a :class:`kseq.Variable` over the ``moving_mean`` buffer."""
        return self._keras_weight("moving_mean")

    @property
    def moving_variance(self) -> Variable:
        """Keras's ``moving_variance``: a :class:`kseq.Variable` over its buffer."""
        return self._keras_weight("moving_variance")

    @property
    def moving_stddev(self) -> Variable:
        """With ``renorm``: Keras's ``moving_stddev`` over its buffer."""
        return self._keras_weight("moving_stddev")

    @property
    def renorm_mean(self) -> Variable:
        """With ``renorm``: Keras's ``renorm_mean`` over its buffer."""
        return self._keras_weight("renorm_mean")

    @property
    def renorm_stddev(self) -> Variable:
        """With ``renorm``: Keras's ``renorm_stddev`` over its buffer."""
        return self._keras_weight("renorm_stddev")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            **self._affine_config(),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


def _check_renorm_clipping(clipping: dict[str, float] | None) -> dict[str, float]:
    clipping = dict(clipping or {})
    if set(clipping) - set(_RENORM_KEYS):
        raise ValueError(
            f"Received invalid keys for `renorm_clipping` argument: {clipping}. "
            f"Supported values: {list(_RENORM_KEYS)}."
        )
    clipping = {k: float(v) for k, v in clipping.items() if v is not None}
    rmax, rmin, dmax = (clipping.get(k) for k in _RENORM_KEYS)
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError(
            "rmax should be greater than rmin in the `renorm_clipping` argument. "
            f"Received: rmax={rmax}, rmin={rmin}."
        )
    if dmax is not None and dmax < 0:
        raise ValueError(
            f"dmax should be non-negative in the `renorm_clipping` argument. Received: dmax={dmax}."
        )
    return clipping
