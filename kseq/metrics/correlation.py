"""Correlation metrics: ``PearsonCorrelation`` and ``ConcordanceCorrelation`` and their metric
functions, computed per sample along ``axis`` and averaged over samples (Keras's definition).

Example:
    >>> import torch
    >>> round(float(PearsonCorrelation()(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[2.0, 4.0, 7.0]]))), 4)
    0.9934
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from kseq import config
from kseq.losses.loss import convert_pair, squeeze_or_expand_to_same_rank
from kseq.metrics.reduction_metrics import MeanMetricWrapper


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Pearson correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``.

    Example:
        >>> import torch
        >>> pearson_correlation(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[2.0, 4.0, 6.0]])).round(decimals=4)
        tensor([1.])
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    y_true = y_true - y_true.mean(dim=axis, keepdim=True)
    y_pred = y_pred - y_pred.mean(dim=axis, keepdim=True)
    y_true = y_true / y_true.std(dim=axis, keepdim=True, correction=0)
    y_pred = y_pred / y_pred.std(dim=axis, keepdim=True, correction=0)
    return (y_true * y_pred).mean(dim=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Concordance correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``.

    Keras 3 computes the covariance term as ``(y_true - mean(y_pred)) * (y_pred - mean(y_pred))``
    (not ``y_true - mean(y_true)``); kseq reproduces that so results match Keras's.

    Example:
        >>> import torch
        >>> round(concordance_correlation(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[1.0, 2.0, 3.0]])).item(), 4)
        1.0
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = (y_true - true_mean).var(dim=axis, keepdim=True, correction=0)
    pred_var = (y_pred - pred_mean).var(dim=axis, keepdim=True, correction=0)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + (true_mean - pred_mean).square()
    return (2 * covariance / (norm + config.epsilon())).mean(dim=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Mean over samples of the Pearson correlation along ``axis``.

    Example:
        >>> import torch
        >>> round(float(PearsonCorrelation()(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[3.0, 2.0, 1.0]]))), 4)
        -1.0
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self, name: str = "pearson_correlation", dtype: Any = None, axis: int = -1
    ) -> None:
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean over samples of the concordance correlation along ``axis`` (see
    :func:`concordance_correlation`).

    Example:
        >>> import torch
        >>> round(float(ConcordanceCorrelation()(torch.tensor([[1.0, 2.0, 3.0]]),
        ...                                      torch.tensor([[1.0, 2.0, 3.0]]))), 4)
        1.0
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self, name: str = "concordance_correlation", dtype: Any = None, axis: int = -1
    ) -> None:
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
