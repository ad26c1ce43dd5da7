"""Probabilistic metrics: ``KLDivergence``, ``Poisson``, ``BinaryCrossentropy``,
``CategoricalCrossentropy`` and ``SparseCategoricalCrossentropy`` (means of the loss functions of
:mod:`kseq.losses`, as in Keras).

Example:
    >>> import torch
    >>> m = BinaryCrossentropy()
    >>> round(float(m(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))), 4)
    0.6931
"""

from __future__ import annotations

from typing import Any

from kseq.losses.probabilistic import (
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from kseq.metrics.reduction_metrics import MeanMetricWrapper


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), axis=-1)``.

    Example:
        >>> import torch
        >>> round(float(KLDivergence()(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]]))), 4)
        0.1438
    """

    def __init__(self, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss ``y_pred - y_true * log(y_pred)``.

    Example:
        >>> import torch
        >>> round(float(Poisson()(torch.tensor([[1.0]]), torch.tensor([[1.0]]))), 4)
        1.0
    """

    def __init__(self, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(poisson, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy between labels and predicted probabilities (or logits).

    Args:
        name: metric name.
        dtype: dtype of the result.
        from_logits: ``y_pred`` holds logits instead of probabilities.
        label_smoothing: squeeze the labels towards 0.5 by this amount.

    Example:
        >>> import torch
        >>> round(float(BinaryCrossentropy(from_logits=True)(torch.tensor([[1.0]]), torch.tensor([[0.0]]))), 4)
        0.6931
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
    ) -> None:
        super().__init__(
            binary_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean crossentropy between one-hot (or soft) labels and predicted distributions.

    Args:
        name: metric name.
        dtype: dtype of the result.
        from_logits: ``y_pred`` holds logits instead of probabilities.
        label_smoothing: mix the labels with the uniform distribution by this amount.
        axis: the class axis.

    Example:
        >>> import torch
        >>> round(float(CategoricalCrossentropy()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))), 4)
        0.6931
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
        axis: int = -1,
    ) -> None:
        super().__init__(
            categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean crossentropy between integer labels and predicted distributions.

    Args:
        name: metric name.
        dtype: dtype of the result.
        from_logits: ``y_pred`` holds logits instead of probabilities.
        ignore_class: a label id whose samples are left out of the mean.
        axis: the class axis.

    Samples whose label is ``ignore_class`` are left out of the mean, with or without sample
    weights. Keras 3 leaves them out only when sample weights are given (without weights they
    count as zeros), which makes its result depend on passing ``sample_weight=ones``; kseq always
    gives the weighted-path value.

    Example:
        >>> import torch
        >>> round(float(SparseCategoricalCrossentropy()(torch.tensor([1]), torch.tensor([[0.5, 0.5]]))), 4)
        0.6931
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
    ) -> None:
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis
