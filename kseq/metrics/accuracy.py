"""Accuracy metrics: ``Accuracy``, ``BinaryAccuracy``, ``CategoricalAccuracy``,
``SparseCategoricalAccuracy`` (element-wise functions + stateful wrappers), Keras semantics.

Example:
    >>> import torch
    >>> m = BinaryAccuracy()
    >>> m.update_state(torch.tensor([1.0, 0.0]), torch.tensor([0.9, 0.8])); float(m.result())
    0.5
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq import config
from kseq.losses.loss import squeeze_or_expand_to_same_rank
from kseq.metrics.metric import MeanMetricWrapper


def accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """1.0 where ``y_true == y_pred`` exactly, else 0.0.

    Example:
        >>> accuracy(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 3.0]))
        tensor([1., 0.])
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(y_pred.dtype), y_pred)
    return (y_true == y_pred).to(config.floatx_dtype())


def binary_accuracy(y_true: Tensor, y_pred: Tensor, threshold: float = 0.5) -> Tensor:
    """1.0 where ``(y_pred > threshold)`` equals ``y_true`` (element-wise).

    Example:
        >>> binary_accuracy(torch.tensor([1.0, 0.0]), torch.tensor([0.7, 0.7]))
        tensor([1., 0.])
    """
    y_true = y_true.to(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == (y_pred > threshold).to(y_true.dtype)).to(config.floatx_dtype())


def categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot targets).

    Example:
        >>> categorical_accuracy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.2, 0.8]]))
        tensor([1.])
    """
    labels = torch.argmax(y_true, dim=-1)
    return _matches(labels, y_pred)


def sparse_categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """1.0 where the integer target equals ``argmax(y_pred)``.

    Example:
        >>> sparse_categorical_accuracy(torch.tensor([1, 0]), torch.tensor([[0.2, 0.8], [0.3, 0.7]]))
        tensor([1., 0.])
    """
    return _matches(y_true, y_pred)


def _matches(labels: Tensor, y_pred: Tensor) -> Tensor:
    shape = labels.shape
    squeezed = labels.ndim == y_pred.ndim and labels.shape[-1] == 1
    if squeezed:
        labels = labels.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1)
    if labels.is_floating_point():
        predicted = predicted.to(labels.dtype)
    matches = (labels == predicted).to(config.floatx_dtype())
    if squeezed:
        matches = matches.reshape(shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly.

    Example:
        >>> float(Accuracy()(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 3.0])))
        0.5
    """

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels.

    Example:
        >>> float(BinaryAccuracy(threshold=0.9)(torch.tensor([1.0]), torch.tensor([0.8])))
        0.0
    """

    def __init__(
        self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5
    ) -> None:
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches the one-hot label.

    Example:
        >>> float(CategoricalAccuracy()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.6, 0.4]])))
        0.0
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches the integer label.

    Example:
        >>> float(SparseCategoricalAccuracy()(torch.tensor([1]), torch.tensor([[0.4, 0.6]])))
        1.0
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}
