"""Accuracy metrics: ``Accuracy``, ``BinaryAccuracy``, ``CategoricalAccuracy``,
``SparseCategoricalAccuracy``, ``TopKCategoricalAccuracy`` and ``SparseTopKCategoricalAccuracy``
(element-wise functions + stateful wrappers), Keras semantics.

Example:
    >>> import torch
    >>> m = BinaryAccuracy()
    >>> m.update_state(torch.tensor([1.0, 0.0]), torch.tensor([0.9, 0.8])); float(m.result())
    0.5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from kseq import config
from kseq.losses.loss import squeeze_or_expand_to_same_rank
from kseq.metrics.reduction_metrics import MeanMetricWrapper


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
    return _binary_matches(y_true, y_pred, threshold).to(config.floatx_dtype())


def _binary_matches(y_true: Tensor, y_pred: Tensor, threshold: float = 0.5) -> Tensor:
    # Booleans: the metrics sum them straight into float state (one cast fewer per step).
    if y_true.dtype != y_pred.dtype:
        y_true = y_true.to(y_pred.dtype)
    if y_true.ndim != y_pred.ndim:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_pred > threshold).to(y_true.dtype) == y_true


def categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot targets).

    Example:
        >>> categorical_accuracy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.2, 0.8]]))
        tensor([1.])
    """
    return _matches(torch.argmax(y_true, dim=-1), y_pred).to(config.floatx_dtype())


def sparse_categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """1.0 where the integer target equals ``argmax(y_pred)``.

    Example:
        >>> sparse_categorical_accuracy(torch.tensor([1, 0]), torch.tensor([[0.2, 0.8], [0.3, 0.7]]))
        tensor([1., 0.])
    """
    return _matches(y_true, y_pred).to(config.floatx_dtype())


def _categorical_matches(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return _matches(torch.argmax(y_true, dim=-1), y_pred)


def _matches(labels: Tensor, y_pred: Tensor) -> Tensor:
    """Booleans where ``labels`` equals ``argmax(y_pred)`` (Keras's reshaping rules)."""
    shape = labels.shape
    squeezed = labels.ndim == y_pred.ndim and labels.shape[-1] == 1
    if squeezed:
        labels = labels.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1)
    if labels.is_floating_point():
        predicted = predicted.to(labels.dtype)
    matches = labels == predicted
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

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

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

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5
    ) -> None:
        super().__init__(_binary_matches, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches the one-hot label.

    Example:
        >>> float(CategoricalAccuracy()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.6, 0.4]])))
        0.0
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(_categorical_matches, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches the integer label.

    Example:
        >>> float(SparseCategoricalAccuracy()(torch.tensor([1]), torch.tensor([[0.4, 0.6]])))
        1.0
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(_matches, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


def _in_top_k(targets: Tensor, y_pred: Tensor, k: int) -> Tensor:
    """Whether the score of each target class is among the ``k`` largest (ties count as in)."""
    num_classes = y_pred.shape[-1]
    if k > num_classes:
        raise ValueError(
            f"Top-k accuracy needs `k` <= the number of classes, but received k={k} for predictions "
            f"with {num_classes} classes (shape {tuple(y_pred.shape)}). Pass a smaller `k`."
        )
    kth_largest = torch.topk(y_pred, k, dim=-1).values[..., -1]
    target_score = torch.gather(y_pred, -1, targets.long().unsqueeze(-1)).squeeze(-1)
    return target_score >= kth_largest


def _flat_top_k_matches(
    labels: Tensor, y_pred: Tensor, match: Callable[[Tensor, Tensor], Tensor]
) -> Tensor:
    """Flatten ``(batch, ..., classes)`` predictions, match, and restore the labels' shape."""
    shape = labels.shape
    if y_pred.ndim > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    matches = match(labels.reshape(-1) if labels.ndim > 1 else labels, y_pred)
    return matches.to(config.floatx_dtype()).reshape(shape)


def top_k_categorical_accuracy(y_true: Tensor, y_pred: Tensor, k: int = 5) -> Tensor:
    """1.0 where the one-hot target's class is among the ``k`` highest scores.

    Example:
        >>> top_k_categorical_accuracy(torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
        ...                            torch.tensor([[0.1, 0.9, 0.8], [0.05, 0.0, 0.95]]), k=2)
        tensor([1., 0.])
    """
    labels = torch.argmax(torch.as_tensor(y_true), dim=-1)
    return _flat_top_k_matches(labels, y_pred, lambda t, p: _in_top_k(t, p, k))


def sparse_top_k_categorical_accuracy(
    y_true: Tensor, y_pred: Tensor, k: int = 5, from_sorted_ids: bool = False
) -> Tensor:
    """1.0 where the integer target is among the ``k`` highest scores.

    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by decreasing score (at least
    ``k`` per sample) instead of scores.

    Example:
        >>> sparse_top_k_categorical_accuracy(torch.tensor([2, 1]),
        ...                                   torch.tensor([[0.1, 0.9, 0.8], [0.05, 0.0, 0.95]]), k=2)
        tensor([1., 0.])
    """
    y_true = torch.as_tensor(y_true)
    if from_sorted_ids:

        def match(t: Tensor, p: Tensor) -> Tensor:
            return (t.to(p.dtype).unsqueeze(1) == p[:, :k]).any(dim=1)

    else:

        def match(t: Tensor, p: Tensor) -> Tensor:
            return _in_top_k(t, p, k)

    return _flat_top_k_matches(y_true, y_pred, match)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is among the ``k`` highest predictions.

    Example:
        >>> m = TopKCategoricalAccuracy(k=1)
        >>> float(m(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.3, 0.7]])))
        1.0
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None
    ) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is among the ``k`` highest predictions.

    Example:
        >>> m = SparseTopKCategoricalAccuracy(k=1)
        >>> float(m(torch.tensor([0, 1]), torch.tensor([[0.3, 0.7], [0.4, 0.6]])))
        0.5
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self,
        k: int = 5,
        name: str = "sparse_top_k_categorical_accuracy",
        dtype: Any = None,
        from_sorted_ids: bool = False,
    ) -> None:
        super().__init__(
            sparse_top_k_categorical_accuracy,
            name=name,
            dtype=dtype,
            k=k,
            from_sorted_ids=from_sorted_ids,
        )
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self) -> dict[str, Any]:
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
