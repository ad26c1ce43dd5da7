"""Regression losses: mean squared error and mean absolute error.

Example:
    >>> import torch
    >>> mean_squared_error(torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 3.0]]))
    tensor([5.])
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from kseq.losses.loss import LossFunctionWrapper, squeeze_or_expand_to_same_rank


def mean_squared_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``mean(square(y_true - y_pred), axis=-1)``.

    Example:
        >>> import torch
        >>> mean_squared_error(torch.tensor([1.0]), torch.tensor([3.0]))
        tensor(4.)
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(y_pred.dtype), y_pred)
    return (y_true - y_pred).square().mean(dim=-1)


def mean_absolute_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``mean(abs(y_true - y_pred), axis=-1)``.

    Example:
        >>> import torch
        >>> mean_absolute_error(torch.tensor([1.0]), torch.tensor([3.0]))
        tensor(2.)
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(y_pred.dtype), y_pred)
    return (y_true - y_pred).abs().mean(dim=-1)


class _MeanElementwise(LossFunctionWrapper):
    """Shared fast path: with no weights, Keras's mean-of-means equals torch's one-kernel mean."""

    _fused: Any = None

    def __init__(self, reduction: str | None, name: str, dtype: Any) -> None:
        fn = type(self)._fn
        super().__init__(fn, name=name, reduction=reduction, dtype=dtype)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        if (
            sample_weight is None
            and self.reduction in ("sum_over_batch_size", "mean")
            and isinstance(y_pred, Tensor)
            and isinstance(y_true, Tensor)
            and y_pred.dtype == self._torch_dtype
        ):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            if y_true.shape == y_pred.shape:
                return type(self)._fused(y_pred, y_true.to(y_pred.dtype))
        return super().__call__(y_true, y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}


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
