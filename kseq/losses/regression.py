"""Regression losses: squared, absolute, percentage, squared-log errors, Huber, log-cosh, cosine.

Each loss exists as a function returning per-sample values (the mean over the last axis) and as a
``Loss`` class that reduces them. With no sample weights, MSE/MAE/Huber reduce in one fused torch
kernel (``F.mse_loss``...): Keras's mean of per-sample means is the overall mean.

Example:
    >>> import torch
    >>> mean_squared_error(torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 3.0]]))
    tensor([5.])
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq import config
from kseq.losses.loss import LossFunctionWrapper, convert_pair, squeeze_or_expand_to_same_rank


def _reconciled(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    return squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(square(y_true - y_pred), axis=-1)``.

    Example:
        >>> import torch
        >>> mean_squared_error(torch.tensor([1.0]), torch.tensor([3.0]))
        tensor(4.)
    """
    y_true, y_pred = _reconciled(y_true, y_pred)
    return (y_true - y_pred).square().mean(dim=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(abs(y_true - y_pred), axis=-1)``.

    Example:
        >>> import torch
        >>> mean_absolute_error(torch.tensor([1.0]), torch.tensor([3.0]))
        tensor(2.)
    """
    y_true, y_pred = _reconciled(y_true, y_pred)
    return (y_true - y_pred).abs().mean(dim=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``.

    Example:
        >>> import torch
        >>> mean_absolute_percentage_error(torch.tensor([[2.0, 4.0]]), torch.tensor([[1.0, 5.0]]))
        tensor([37.5000])
    """
    y_true, y_pred = _reconciled(y_true, y_pred)
    diff = ((y_true - y_pred) / y_true.abs().clamp(min=config.epsilon())).abs()
    return 100.0 * diff.mean(dim=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``.

    Example:
        >>> import torch
        >>> round(mean_squared_logarithmic_error(torch.tensor([0.0]), torch.tensor([math.e - 1])).item(), 4)
        1.0
    """
    y_true, y_pred = _reconciled(y_true, y_pred)
    eps = config.epsilon()
    first_log = torch.log(y_pred.clamp(min=eps) + 1.0)
    second_log = torch.log(y_true.clamp(min=eps) + 1.0)
    return (first_log - second_log).square().mean(dim=-1)


def l2_normalize(x: Tensor, axis: int | tuple[int, ...] = -1) -> Tensor:
    """``x / max(norm(x), epsilon)`` along ``axis`` (Keras's ``normalize``: ``x * min(rsqrt(sum(x^2)),
    1/epsilon)``).

    Example:
        >>> import torch
        >>> l2_normalize(torch.tensor([3.0, 4.0]))
        tensor([0.6000, 0.8000])
    """
    inv_norm = torch.rsqrt(x.square().sum(dim=axis, keepdim=True)).clamp(max=1.0 / config.epsilon())
    return x * inv_norm


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Negative cosine similarity along ``axis`` (``-1`` for identical directions, ``1`` for
    opposite ones, ``0`` when either vector is zero).

    Example:
        >>> import torch
        >>> cosine_similarity(torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0], [1.0, 1.0]])).round(decimals=4).abs()
        tensor([0., 1.])
    """
    y_true, y_pred = _reconciled(y_true, y_pred)
    return -(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis)).sum(dim=axis)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Huber loss: quadratic for ``|error| <= delta``, linear beyond; mean over the last axis.

    Example:
        >>> import torch
        >>> huber(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 3.0]]))
        tensor([1.3125])
    """
    y_true, y_pred = _reconciled(y_true, y_pred)
    return F.huber_loss(y_pred, y_true, reduction="none", delta=float(delta)).mean(dim=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed overflow-free as
    ``x + softplus(-2x) - log(2)``.

    Example:
        >>> import torch
        >>> round(log_cosh(torch.tensor([0.0]), torch.tensor([1.0])).item(), 4)
        0.4338
    """
    y_true, y_pred = _reconciled(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(x * -2.0) - math.log(2.0)).mean(dim=-1)


class _MeanElementwise(LossFunctionWrapper):
    """Shared fast path: with no weights or mask, Keras's mean of per-sample means is the mean of
    one elementwise torch loss (``_fused``), computed in a single kernel."""

    _fn: Any = None
    _fused: Any = None

    def __init__(self, reduction: str | None, name: str, dtype: Any, **kwargs: Any) -> None:
        super().__init__(type(self)._fn, name=name, reduction=reduction, dtype=dtype, **kwargs)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        if self._plain_mean(y_true, y_pred, sample_weight) and y_pred.dtype == self._torch_dtype:
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            if y_true.shape == y_pred.shape and y_pred.ndim:
                return type(self)._fused(y_pred, y_true.to(y_pred.dtype), **self._fn_kwargs)
        return super().__call__(y_true, y_pred, sample_weight)


class MeanSquaredError(_MeanElementwise):
    """Mean of squares of errors between targets and predictions.

    Example:
        >>> import torch
        >>> float(MeanSquaredError()(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 3.0])))
        5.0
    """

    _fn = staticmethod(mean_squared_error)
    _fused = staticmethod(F.mse_loss)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class MeanAbsoluteError(_MeanElementwise):
    """Mean of absolute errors between targets and predictions.

    Example:
        >>> import torch
        >>> float(MeanAbsoluteError()(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 3.0])))
        2.0
    """

    _fn = staticmethod(mean_absolute_error)
    _fused = staticmethod(F.l1_loss)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class Huber(_MeanElementwise):
    """Huber loss: ``0.5 * x^2`` for ``|x| <= delta``, ``delta * (|x| - 0.5 * delta)`` beyond.

    Args:
        delta: Where the loss turns from quadratic to linear.
        reduction, name, dtype: As for every ``Loss`` (the default name is ``"huber_loss"``).

    Keras's ``get_config`` omits ``delta`` (so a saved ``Huber(delta=2.0)`` reloads with
    ``delta=1.0``); kseq includes it.

    Example:
        >>> import torch
        >>> float(Huber(delta=1.0)(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.5, 3.0]])))
        1.3125
    """

    _fn = staticmethod(huber)
    _fused = staticmethod(F.huber_loss)

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction, name, dtype, delta=delta)
        self.delta = delta


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error: ``100 * mean(|(y_true - y_pred) / y_true|)``.

    Example:
        >>> import torch
        >>> float(MeanAbsolutePercentageError()(torch.tensor([[2.0, 4.0]]), torch.tensor([[1.0, 5.0]])))
        37.5
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_percentage_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            mean_absolute_percentage_error, name=name, reduction=reduction, dtype=dtype
        )


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared error between ``log(1 + y_true)`` and ``log(1 + y_pred)``.

    Example:
        >>> import torch
        >>> round(float(MeanSquaredLogarithmicError()(torch.tensor([0.0]), torch.tensor([math.e - 1]))), 4)
        1.0
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_logarithmic_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            mean_squared_logarithmic_error, name=name, reduction=reduction, dtype=dtype
        )


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity between targets and predictions along ``axis``.

    Keras's ``get_config`` omits ``axis``; kseq includes it so the loss round-trips.

    Example:
        >>> import torch
        >>> round(float(CosineSimilarity()(torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0], [1.0, 1.0]]))), 4)
        -0.5
    """

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
        dtype: Any = None,
    ) -> None:
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the prediction error.

    Example:
        >>> import torch
        >>> round(float(LogCosh()(torch.tensor([[0.0]]), torch.tensor([[1.0]]))), 4)
        0.4338
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "log_cosh",
        dtype: Any = None,
    ) -> None:
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)
