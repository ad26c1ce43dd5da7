"""Overlap losses for segmentation: Dice and Tversky.

With ``axis=None`` (the default) the overlap is computed over the whole batch and the loss is a
single scalar (the reduction then has nothing to reduce); pass e.g. ``axis=(1, 2, 3)`` for one
value per sample.

Example:
    >>> import torch
    >>> round(dice(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]])).item(), 4)
    0.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from kseq import config
from kseq.losses.loss import LossFunctionWrapper, convert_pair


def _sum(x: Tensor, axis: int | Sequence[int] | None) -> Tensor:
    if axis is None:
        return x.sum()
    return x.sum(dim=axis if isinstance(axis, int) else tuple(axis))


def dice(y_true: Any, y_pred: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon)`` over ``axis``.

    Example:
        >>> import torch
        >>> round(dice(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0]])).item(), 4)
        0.3333
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    intersection = _sum(y_true * y_pred, axis)
    return 1.0 - 2.0 * intersection / (_sum(y_true, axis) + _sum(y_pred, axis) + config.epsilon())


def tversky(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.5,
    beta: float = 0.5,
    axis: int | Sequence[int] | None = None,
) -> Tensor:
    """``1 - TP / (TP + alpha * sum((1 - y_pred) * y_true) + beta * sum(y_pred * (1 - y_true)))``.

    ``alpha`` weights the missed positives and ``beta`` the false alarms (Keras's exact terms);
    ``alpha = beta = 0.5`` gives the Dice loss.

    Example:
        >>> import torch
        >>> round(tversky(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0]])).item(), 4)
        0.3333
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    intersection = _sum(y_true * y_pred, axis)
    missed = _sum((1.0 - y_pred) * y_true, axis)
    false_alarms = _sum(y_pred * (1.0 - y_true), axis)
    denominator = intersection + missed * alpha + false_alarms * beta + config.epsilon()
    return 1.0 - intersection / denominator


class Dice(LossFunctionWrapper):
    """Dice loss (``1 -`` the Dice coefficient) between a target mask and predicted probabilities.

    Args:
        reduction, name, dtype: As for every ``Loss``.
        axis: Axes to compute the overlap over (``None``: everything, one scalar per batch).

    Example:
        >>> import torch
        >>> round(float(Dice()(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0]]))), 4)
        0.3333
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "dice",
        axis: int | Sequence[int] | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    """Tversky loss: a Dice loss with separate weights for missed positives and false alarms.

    Args:
        alpha: Weight of missed positives.
        beta: Weight of false alarms.
        reduction, name, dtype: As for every ``Loss``.
        axis: Axes to compute the overlap over (``None``: everything).

    Example:
        >>> import torch
        >>> round(float(Tversky(alpha=0.7, beta=0.3)(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0]]))), 4)
        0.4118
    """

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "tversky",
        axis: int | Sequence[int] | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha, beta=beta, axis=axis
        )
        self.alpha, self.beta, self.axis = alpha, beta, axis
