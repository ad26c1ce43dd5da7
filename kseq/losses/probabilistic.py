"""Crossentropy losses (binary, categorical, sparse categorical), KL divergence and Poisson.

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

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq import config
from kseq.losses.loss import LossFunctionWrapper, convert_pair, squeeze_or_expand_to_same_rank


def check_same_shape(y_true: Tensor, y_pred: Tensor) -> None:
    """Keras's error for crossentropy targets and outputs of different shapes.

    Example:
        >>> check_same_shape(torch.zeros(2, 1), torch.zeros(2, 3))
        Traceback (most recent call last):
        ...
        ValueError: Arguments `target` and `output` must have the same shape. Received: target.shape=(2, 1), output.shape=(2, 3)
    """
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}"
        )


def smooth_binary_labels(y_true: Tensor, label_smoothing: float) -> Tensor:
    """Squeeze binary targets towards 0.5: ``y * (1 - s) + 0.5 * s``.

    Example:
        >>> smooth_binary_labels(torch.tensor([0.0, 1.0]), 0.2)
        tensor([0.1000, 0.9000])
    """
    return y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true


def check_categorical(name: str, y_pred: Tensor, axis: Any) -> None:
    """Keras's checks of a categorical loss's ``axis`` and its warning for a single class.

    Example:
        >>> check_categorical("categorical_crossentropy", torch.zeros(2, 3), True)
        Traceback (most recent call last):
        ...
        ValueError: `axis` must be of type `int`. Received: axis=True of type <class 'bool'>
    """
    if isinstance(axis, bool):
        raise ValueError(
            f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}"
        )
    if y_pred.ndim and y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {name}, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. Consider using "
            "'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )


def smooth_categorical_labels(y_true: Tensor, label_smoothing: float) -> Tensor:
    """Mix one-hot targets with the uniform distribution: ``y * (1 - s) + s / num_classes``.

    Example:
        >>> smooth_categorical_labels(torch.tensor([0.0, 1.0]), 0.2)
        tensor([0.1000, 0.9000])
    """
    if not label_smoothing:
        return y_true
    return y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]


def clip_probabilities(y_pred: Tensor) -> Tensor:
    """Clip to ``[epsilon, 1 - epsilon]`` as Keras does before taking logarithms.

    Example:
        >>> clip_probabilities(torch.tensor([0.0, 0.5]))
        tensor([1.0000e-07, 5.0000e-01])
    """
    eps = config.epsilon()
    return torch.clamp(y_pred, eps, 1.0 - eps)


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample binary crossentropy (mean over ``axis``).

    Example:
        >>> binary_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 0.0]]), from_logits=True)
        tensor([0.6931])
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    y_true = smooth_binary_labels(y_true, label_smoothing)
    check_same_shape(y_true, y_pred)
    if from_logits:
        elementwise = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        elementwise = F.binary_cross_entropy(clip_probabilities(y_pred), y_true, reduction="none")
    return elementwise.mean(dim=axis)


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample categorical crossentropy for one-hot (or soft) targets.

    Example:
        >>> categorical_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))
        tensor([0.6931])
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    check_categorical("categorical_crossentropy", y_pred, axis)
    y_true = smooth_categorical_labels(y_true, label_smoothing)
    check_same_shape(y_true, y_pred)
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=axis)
    else:
        log_prob = torch.log(clip_probabilities(y_pred / y_pred.sum(dim=axis, keepdim=True)))
    return -(y_true * log_prob).sum(dim=axis)


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Tensor:
    """Per-sample crossentropy for integer class targets (classes along ``axis`` of ``y_pred``).

    ``ignore_class`` marks targets (e.g. padding) that contribute zero loss and are masked out of
    the mean.

    Example:
        >>> sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[0.5, 0.5]]))
        tensor([0.6931])
    """
    y_pred = y_pred if isinstance(y_pred, Tensor) else torch.as_tensor(y_pred)
    target = torch.as_tensor(y_true, device=y_pred.device).long()
    if y_pred.ndim and axis not in (-1, y_pred.ndim - 1):
        y_pred = y_pred.movedim(axis, -1)
    if target.ndim == y_pred.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    if tuple(target.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last dimension: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(y_pred.shape)}"
        )
    valid = None
    if ignore_class is not None:
        valid = target != ignore_class
        target = torch.where(valid, target, torch.zeros_like(target))
        y_pred = torch.where(valid.unsqueeze(-1), y_pred, torch.zeros_like(y_pred))
    if from_logits:
        log_prob = torch.log_softmax(y_pred, dim=-1)
    else:
        log_prob = torch.log(clip_probabilities(y_pred / y_pred.sum(dim=-1, keepdim=True)))
    res = -log_prob.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    if valid is not None:
        res = torch.where(valid, res, torch.zeros_like(res))
        res._keras_mask = valid  # type: ignore[attr-defined]
    return res


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to
    ``[epsilon, 1]``.

    Example:
        >>> round(kl_divergence(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]])).item(), 4)
        0.1438
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    y_true = y_true.clamp(config.epsilon(), 1.0)
    y_pred = y_pred.clamp(config.epsilon(), 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(dim=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """Poisson loss ``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``.

    Example:
        >>> round(poisson(torch.tensor([[1.0]]), torch.tensor([[1.0]])).item(), 4)
        1.0
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + config.epsilon())).mean(dim=-1)


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
            self.from_logits
            and not self.label_smoothing
            and self._plain_mean(y_true, y_pred, sample_weight)
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
        reduction, name, dtype: As for every ``Loss``.
        axis: The class axis of ``y_pred``.

    Keras's ``get_config`` omits ``axis``; kseq includes it so the loss round-trips.

    Example:
        >>> round(float(SparseCategoricalCrossentropy()(torch.tensor([1]), torch.tensor([[0.4, 0.6]]))), 4)
        0.5108
    """

    sparse_targets = True

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
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
        if activation != "softmax" or self.from_logits or self.axis != -1:
            return None
        return SparseCategoricalCrossentropy(
            True, self.ignore_class, self.reduction, self.axis, self.name, self.dtype
        )

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        if (
            self.from_logits
            and self.ignore_class is None
            and self._plain_mean(y_true, y_pred, sample_weight)
            and y_pred.ndim == 2
            and self.axis in (-1, 1)
        ):
            # Fast path (the fused training step): one fused kernel.
            target = y_true.squeeze(-1) if y_true.ndim == 2 and y_true.shape[-1] == 1 else y_true
            if target.ndim == 1 and target.shape[0] == y_pred.shape[0]:
                return F.cross_entropy(y_pred, target.long())
        return super().__call__(y_true, y_pred, sample_weight)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence between target and predicted distributions.

    Example:
        >>> round(float(KLDivergence()(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]]))), 4)
        0.1438
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "kl_divergence",
        dtype: Any = None,
    ) -> None:
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """Poisson loss: ``y_pred - y_true * log(y_pred)`` (for count targets).

    Example:
        >>> round(float(Poisson()(torch.tensor([[1.0]]), torch.tensor([[1.0]]))), 4)
        1.0
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "poisson",
        dtype: Any = None,
    ) -> None:
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)
