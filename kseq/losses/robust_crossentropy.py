"""Crossentropy variants for imbalanced classes and noisy labels: binary and categorical focal
crossentropy, and the generalized crossentropy.

Keras's ``from_logits=True`` path for the focal losses applies sigmoid/softmax and then the same
clipped probability formula, so computing them "from logits" gains nothing: unlike
``BinaryCrossentropy``/``CategoricalCrossentropy``, these losses have no ``_from_logits_variant``
and ``fit`` keeps the model's final activation.

Example:
    >>> import torch
    >>> round(binary_focal_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.5]])).item(), 4)
    0.1733
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq.losses.loss import LossFunctionWrapper, convert_pair
from kseq.losses.probabilistic import (
    check_categorical,
    check_same_shape,
    clip_probabilities,
    smooth_binary_labels,
    smooth_categorical_labels,
)


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample binary focal crossentropy: ``(1 - p_t) ** gamma * bce`` (mean over ``axis``),
    weighted by ``alpha`` / ``1 - alpha`` for positives / negatives when ``apply_class_balancing``.

    Example:
        >>> round(binary_focal_crossentropy(torch.tensor([[1.0]]), torch.tensor([[0.0]]), from_logits=True).item(), 4)
        0.1733
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    y_true = smooth_binary_labels(y_true, label_smoothing)
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    check_same_shape(y_true, y_pred)
    bce = F.binary_cross_entropy(clip_probabilities(y_pred), y_true, reduction="none")
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal_bce = (1.0 - p_t).pow(gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal_bce
    return focal_bce.mean(dim=axis)


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample categorical focal crossentropy: ``sum(alpha * (1 - p) ** gamma * -y * log(p))``
    over ``axis``.

    Example:
        >>> round(categorical_focal_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]])).item(), 4)
        0.0433
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    check_categorical("categorical_focal_crossentropy", y_pred, axis)
    y_true = smooth_categorical_labels(y_true, label_smoothing)
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    output = clip_probabilities(y_pred / y_pred.sum(dim=axis, keepdim=True))
    cce = -y_true * torch.log(output)
    return ((1.0 - output).pow(gamma) * alpha * cce).sum(dim=axis)


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Tensor:
    """Generalized crossentropy (Zhang & Sabuncu, 2018) for integer labels: ``(1 - p_y ** q) / q``,
    where ``p_y`` is the predicted probability of the true class. ``q -> 0`` gives crossentropy,
    ``q = 1`` mean absolute error.

    Labels of shape ``(N, 1)`` are squeezed to ``(N,)`` (Keras broadcasts them into an
    ``(N, N)`` loss, which is a bug).

    Example:
        >>> round(categorical_generalized_cross_entropy(torch.tensor([1]), torch.tensor([[0.75, 0.25]]), q=0.5).item(), 4)
        1.0
    """
    y_pred = y_pred if isinstance(y_pred, Tensor) else torch.as_tensor(y_pred)
    labels = torch.as_tensor(y_true, device=y_pred.device).long()
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    if tuple(labels.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            "Integer labels `y_true` must have the shape of `y_pred` without its last (class) axis. "
            f"Received: y_true.shape={tuple(labels.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    p = y_pred.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    return (1.0 - p.pow(q)) / q


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary crossentropy down-weighting easy examples by ``(1 - p_t) ** gamma`` (Lin et al.).

    Args:
        apply_class_balancing: Weight positives by ``alpha`` and negatives by ``1 - alpha``.
        alpha: The class-balancing weight.
        gamma: The focusing parameter (``0`` gives binary crossentropy).
        from_logits: ``y_pred`` holds logits rather than probabilities.
        label_smoothing: Squeeze targets towards 0.5 by this amount.
        axis: Axis the per-sample mean is taken over.
        reduction, name, dtype: As for every ``Loss``.

    Example:
        >>> round(float(BinaryFocalCrossentropy(gamma=2.0)(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.4, 0.6]]))), 4)
        0.0817
    """

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            binary_focal_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical crossentropy down-weighting easy examples by ``alpha * (1 - p) ** gamma``.

    Args:
        alpha: Weight of every class term.
        gamma: The focusing parameter.
        from_logits: ``y_pred`` holds logits rather than probabilities.
        label_smoothing: Mix one-hot targets with the uniform distribution by this amount.
        axis: The class axis.
        reduction, name, dtype: As for every ``Loss``.

    Example:
        >>> round(float(CategoricalFocalCrossentropy()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.4, 0.6]]))), 4)
        0.0204
    """

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            categorical_focal_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized crossentropy for integer labels, robust to label noise (``0 < q < 1``).

    Args:
        q: Interpolates between crossentropy (``q -> 0``) and mean absolute error (``q = 1``).
        reduction, name, dtype: As for every ``Loss``.

    Example:
        >>> round(float(CategoricalGeneralizedCrossEntropy(q=0.5)(torch.tensor([0, 1]), torch.tensor([[0.25, 0.75], [0.25, 0.75]]))), 4)
        0.634
    """

    sparse_targets = True

    def __init__(
        self,
        q: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_generalized_cross_entropy",
        dtype: Any = None,
    ) -> None:
        if not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q}")
        super().__init__(
            categorical_generalized_cross_entropy, name=name, reduction=reduction, dtype=dtype, q=q
        )
        self.q = q

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        # Integer labels have one axis fewer than predictions: no rank reconciliation.
        return categorical_generalized_cross_entropy(y_true, y_pred, q=self.q)
