"""Hinge metrics: ``Hinge``, ``SquaredHinge`` and ``CategoricalHinge`` (means of the loss functions
of :mod:`kseq.losses`, as in Keras). Binary 0/1 labels are mapped to -1/1 first.

Example:
    >>> import torch
    >>> round(float(Hinge()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.6, 0.4]]))), 4)
    1.1
"""

from __future__ import annotations

from typing import Any

from kseq.losses.hinge import categorical_hinge, hinge, squared_hinge
from kseq.metrics.reduction_metrics import MeanMetricWrapper


class Hinge(MeanMetricWrapper):
    """Mean of ``maximum(1 - y_true * y_pred, 0)`` (labels -1/1, or 0/1 mapped to -1/1).

    Example:
        >>> import torch
        >>> float(Hinge()(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.25, -2.0]])))
        0.375
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean of ``square(maximum(1 - y_true * y_pred, 0))``.

    Example:
        >>> import torch
        >>> float(SquaredHinge()(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5, -2.0]])))
        0.125
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean of ``maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``.

    Example:
        >>> import torch
        >>> round(float(CategoricalHinge()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.3, 0.6]]))), 4)
        0.7
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(categorical_hinge, name=name, dtype=dtype)
