"""The ``Loss`` base class, reductions and Keras's target/prediction rank reconciliation.

A loss maps ``(y_true, y_pred)`` to per-sample values (``call``) and reduces them with optional
sample weights (``__call__``), exactly as Keras 3 does: ``"sum_over_batch_size"`` divides the
weighted sum by the *number of elements*, not by the sum of the weights.

Example:
    >>> import torch
    >>> class Abs(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return (y_true - y_pred).abs().mean(dim=-1)
    >>> float(Abs()(torch.zeros(2, 1), torch.ones(2, 1)))
    1.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from kseq import mixed_precision
from kseq.core.naming import auto_name
from kseq.registry.namespace import NAMESPACES
from kseq.registry.object_registration import get_registered_name

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def standardize_reduction(reduction: str | None) -> str | None:
    """Validate a reduction name.

    Example:
        >>> standardize_reduction("sum")
        'sum'
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {set(REDUCTIONS)}. "
            f"Received: reduction={reduction}"
        )
    return reduction


def squeeze_or_expand_to_same_rank(
    x1: Tensor, x2: Tensor, expand_rank_1: bool = True
) -> tuple[Tensor, Tensor]:
    """Make ranks agree when they differ by one trailing axis of size 1 (Keras's rule).

    This is what saves ``y_true`` of shape ``(N,)`` against ``y_pred`` of shape ``(N, 1)`` from
    torch's silent ``(N, N)`` broadcast.

    Example:
        >>> a, b = squeeze_or_expand_to_same_rank(torch.zeros(4), torch.zeros(4, 1))
        >>> tuple(a.shape), tuple(b.shape)
        ((4, 1), (4, 1))
    """
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def reduce_values(
    values: Tensor,
    sample_weight: Tensor | None = None,
    reduction: str | None = "sum_over_batch_size",
) -> Tensor:
    """Reduce (already weighted) per-sample ``values``.

    Example:
        >>> float(reduce_values(torch.tensor([1.0, 3.0])))
        2.0
    """
    if reduction is None or reduction == "none" or values.ndim == 0 or tuple(values.shape) == (0,):
        return values
    loss = values.sum()
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = sample_weight.sum().to(loss.dtype)
        else:
            divisor = values.numel()
        loss = (
            loss / divisor
            if isinstance(divisor, int) and divisor
            else _divide_no_nan(loss, divisor)
        )
    return loss


def _divide_no_nan(a: Tensor, b: Tensor | int) -> Tensor:
    b = torch.as_tensor(b, dtype=a.dtype, device=a.device)
    return torch.where(b == 0, torch.zeros_like(a), a / torch.where(b == 0, torch.ones_like(b), b))


def reduce_weighted_values(
    values: Tensor,
    sample_weight: Tensor | None = None,
    reduction: str | None = "sum_over_batch_size",
    mask: Tensor | None = None,
) -> Tensor:
    """Apply ``sample_weight`` (and an optional boolean ``mask``) to per-sample values, then reduce.

    Example:
        >>> float(reduce_weighted_values(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 0.0])))
        0.5
    """
    if mask is not None:
        mask_f = mask.to(values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            # Masked entries are dropped; the others are scaled so the mean is over valid entries.
            valid = mask_f.sum()
            mask_f = mask_f * torch.where(valid > 0, mask.numel() / valid, torch.zeros_like(valid))
        if sample_weight is None:
            sample_weight = mask_f
        else:
            mask_f, sample_weight = squeeze_or_expand_to_same_rank(
                mask_f, sample_weight.to(values.dtype)
            )
            sample_weight = sample_weight * mask_f
    if sample_weight is not None:
        sample_weight = sample_weight.to(values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class of Keras losses: implement ``call(y_true, y_pred) -> per-sample losses``.

    Args:
        name: Loss name (auto-named from the class when omitted).
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None``.
        dtype: Dtype of the computation (default ``floatx()``); inputs are cast to it.

    Example:
        >>> class Sq(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return (y_true - y_pred).square().mean(dim=-1)
        >>> float(Sq(reduction="sum")(torch.zeros(2, 1), torch.ones(2, 1)))
        2.0
    """

    # Whether y_true holds class indices (kept as int64 by fit instead of being cast to float).
    sparse_targets: bool = False

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        self.name = name or auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self.dtype_policy = mixed_precision.get(dtype)
        self._torch_dtype = self.dtype_policy.torch_compute_dtype

    @property
    def dtype(self) -> str:
        return self.dtype_policy.compute_dtype

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        in_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = _as_tensor(y_pred, self._torch_dtype)
        y_true = _as_tensor(
            y_true, None if self.sparse_targets else self._torch_dtype, y_pred.device
        )
        losses = self.call(y_true, y_pred)
        mask = getattr(losses, "_keras_mask", None)
        if in_mask is not None:
            # Keras: the model's output mask (e.g. from Masking/Embedding(mask_zero)) and the mask
            # the loss itself sets (e.g. ignore_class) combine.
            mask = in_mask if mask is None else in_mask & mask
        if sample_weight is not None:
            sample_weight = _as_tensor(sample_weight, losses.dtype, losses.device)
        return reduce_weighted_values(losses, sample_weight, self.reduction, mask)

    def _plain_mean(self, y_true: Any, y_pred: Any, sample_weight: Any) -> bool:
        """Whether this call is an unweighted, unmasked mean over tensors: the case where a
        subclass may compute the whole reduction in one fused torch kernel."""
        return (
            sample_weight is None
            and self.reduction in ("sum_over_batch_size", "mean")
            and isinstance(y_pred, Tensor)
            and isinstance(y_true, Tensor)
            and getattr(y_pred, "_keras_mask", None) is None
        )

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        raise NotImplementedError(
            f"Loss subclass {type(self).__name__} must implement call(y_true, y_pred)."
        )

    def _from_logits_variant(self, activation: str) -> Loss | None:
        """The same loss computed from pre-activation logits, when the model's last activation is
        ``activation`` (``"sigmoid"``/``"softmax"``); ``None`` when no such fusion applies."""
        return None

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """Wrap a function ``fn(y_true, y_pred, **kwargs) -> per-sample losses`` as a ``Loss``.

    Ranks are reconciled first (``(N,)`` targets against ``(N, 1)`` predictions).

    Example:
        >>> mae = LossFunctionWrapper(lambda t, p: (t - p).abs().mean(dim=-1), name="mae")
        >>> float(mae(torch.zeros(3), torch.ones(3, 1)))
        1.0
    """

    def __init__(
        self,
        fn: Callable[..., Tensor],
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            config["fn"] = get_registered_name(self.fn)
        return {**config, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        config = dict(config)
        if isinstance(config.get("fn"), str):
            # The loss table is kseq.losses' namespace (registered when that package loads).
            config["fn"] = NAMESPACES["losses"].get_function(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})>"


def convert_pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    """``y_pred`` as a floating tensor and ``y_true`` cast to its dtype and device.

    What every Keras loss function does first (``convert_to_tensor(y_true, dtype=y_pred.dtype)``),
    so the functions also accept numpy arrays and lists.

    Example:
        >>> t, p = convert_pair([1, 0], [0.5, 0.5])
        >>> t.dtype, p.dtype
        (torch.float32, torch.float32)
    """
    if not isinstance(y_pred, Tensor) or not y_pred.is_floating_point():
        y_pred = _as_tensor(y_pred, None)
        if not y_pred.is_floating_point():
            y_pred = y_pred.to(torch.get_default_dtype())
    return _as_tensor(y_true, y_pred.dtype, y_pred.device), y_pred


def _as_tensor(x: Any, dtype: torch.dtype | None, device: torch.device | None = None) -> Tensor:
    if isinstance(x, Tensor):
        if dtype is not None and x.dtype != dtype:
            x = x.to(dtype)
        return x if device is None or x.device == device else x.to(device)
    return torch.as_tensor(x, dtype=dtype, device=device)
