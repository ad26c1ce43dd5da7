"""Crossentropy losses (binary, categorical, sparse categorical) with Keras numerics.

Probabilities are clipped to ``[epsilon, 1 - epsilon]`` (``1e-7``) as in Keras; categorical inputs
are renormalised first. When the model's last layer ends in the matching activation (sigmoid /
softmax), ``fit`` computes these losses from the logits instead (``_from_logits_variant``): the same
value up to Keras's clipping, faster and numerically safer.

Example:
    >>> import torch
    >>> round(float(binary_crossentropy(torch.tensor([1.0]), torch.tensor([0.5]))), 4)
    0.6931
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq import config
from kseq.losses.loss import LossFunctionWrapper, squeeze_or_expand_to_same_rank


def binary_crossentropy(
    y_true: Tensor,
    y_pred: Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample binary crossentropy (mean over ``axis``).

    Example:
        >>> binary_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 0.0]]), from_logits=True)
        tensor([0.6931])
    """
    y_true = y_true.to(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    if from_logits:
        elementwise = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        eps = config.epsilon()
        elementwise = F.binary_cross_entropy(
            torch.clamp(y_pred, eps, 1.0 - eps), y_true, reduction="none"
        )
    return elementwise.mean(dim=axis)


def categorical_crossentropy(
    y_true: Tensor,
    y_pred: Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample categorical crossentropy for one-hot (or soft) targets.

    Example:
        >>> categorical_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))
        tensor([0.6931])
    """
    y_true = y_true.to(y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=axis)
    else:
        eps = config.epsilon()
        y_pred = y_pred / y_pred.sum(dim=axis, keepdim=True)
        log_prob = torch.log(torch.clamp(y_pred, eps, 1.0 - eps))
    return -(y_true * log_prob).sum(dim=axis)


def sparse_categorical_crossentropy(
    y_true: Tensor,
    y_pred: Tensor,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Tensor:
    """Per-sample crossentropy for integer class targets.

    ``ignore_class`` marks targets (e.g. padding) that contribute zero loss and are masked out of
    the mean.

    Example:
        >>> sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[0.5, 0.5]]))
        tensor([0.6931])
    """
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    target = y_true.long()
    if target.ndim == y_pred.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    if tuple(target.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    valid = None
    if ignore_class is not None:
        valid = target != ignore_class
        target = torch.where(valid, target, torch.zeros_like(target))
        y_pred = torch.where(valid.unsqueeze(-1), y_pred, torch.zeros_like(y_pred))
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=-1)
    else:
        eps = config.epsilon()
        y_pred = y_pred / y_pred.sum(dim=-1, keepdim=True)
        log_prob = torch.log(torch.clamp(y_pred, eps, 1.0 - eps))
    res = -log_prob.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    if valid is not None:
        res = torch.where(valid, res, torch.zeros_like(res))
        res._keras_mask = valid  # type: ignore[attr-defined]
    return res


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy between binary targets and predicted probabilities (or logits).

    Args:
        from_logits: ``y_pred`` holds logits rather than probabilities.
        label_smoothing: Squeeze targets towards 0.5 by this amount.
        axis: Axis the per-sample mean is taken over.
        reduction, name, dtype: As for every ``Loss``.

    Example:
        >>> round(float(BinaryCrossentropy()(torch.tensor([0.0, 1.0]), torch.tensor([0.4, 0.6]))), 4)
        0.5108
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            binary_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def _from_logits_variant(self, activation: str) -> BinaryCrossentropy | None:
        if activation != "sigmoid" or self.from_logits:
            return None
        return BinaryCrossentropy(
            True, self.label_smoothing, self.axis, self.reduction, self.name, self.dtype
        )

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        if (
            sample_weight is None
            and self.from_logits
            and not self.label_smoothing
            and self.reduction in ("sum_over_batch_size", "mean")
            and isinstance(y_pred, Tensor)
            and isinstance(y_true, Tensor)
        ):
            # Fast path (the fused training step): Keras's mean-of-means is the overall mean.
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            if y_true.shape == y_pred.shape:
                return F.binary_cross_entropy_with_logits(y_pred, y_true.to(y_pred.dtype))
        return super().__call__(y_true, y_pred, sample_weight)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between one-hot targets and predicted class probabilities (or logits).

    Example:
        >>> round(float(CategoricalCrossentropy()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.4, 0.6]]))), 4)
        0.5108
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def _from_logits_variant(self, activation: str) -> CategoricalCrossentropy | None:
        if activation != "softmax" or self.from_logits or self.axis != -1:
            return None
        return CategoricalCrossentropy(
            True, self.label_smoothing, self.axis, self.reduction, self.name, self.dtype
        )


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between integer class targets and predicted probabilities (or logits).

    Args:
        from_logits: ``y_pred`` holds logits.
        ignore_class: A target value that contributes no loss (e.g. padding).

    Example:
        >>> round(float(SparseCategoricalCrossentropy()(torch.tensor([1]), torch.tensor([[0.4, 0.6]]))), 4)
        0.5108
    """

    sparse_targets = True

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        # Sparse targets have one axis fewer than predictions: no rank reconciliation.
        return sparse_categorical_crossentropy(y_true, y_pred, **self._fn_kwargs)

    def _from_logits_variant(self, activation: str) -> SparseCategoricalCrossentropy | None:
        if activation != "softmax" or self.from_logits:
            return None
        return SparseCategoricalCrossentropy(
            True, self.ignore_class, self.axis, self.reduction, self.name, self.dtype
        )

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        if (
            sample_weight is None
            and self.from_logits
            and self.ignore_class is None
            and self.reduction in ("sum_over_batch_size", "mean")
            and isinstance(y_pred, Tensor)
            and isinstance(y_true, Tensor)
            and y_pred.ndim == 2
        ):
            # Fast path (the fused training step): one fused kernel.
            target = y_true.squeeze(-1) if y_true.ndim == 2 and y_true.shape[-1] == 1 else y_true
            if target.ndim == 1 and target.shape[0] == y_pred.shape[0]:
                return F.cross_entropy(y_pred, target.long())
        return super().__call__(y_true, y_pred, sample_weight)
