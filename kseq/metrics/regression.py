"""Regression metrics: ``MeanSquaredError``, ``RootMeanSquaredError``, ``MeanAbsoluteError``,
``MeanAbsolutePercentageError``, ``MeanSquaredLogarithmicError``, ``CosineSimilarity``,
``LogCoshError`` and ``R2Score``, plus the ``cosine_similarity`` metric function.

The mean metrics wrap the loss functions of :mod:`kseq.losses` (as Keras does) in
``MeanMetricWrapper``; ``R2Score`` keeps per-output sums in device buffers.

Example:
    >>> import torch
    >>> m = RootMeanSquaredError()
    >>> m.update_state(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]])); round(float(m.result()), 4)
    0.7071
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.core.compile import eager_only
from kseq.losses.loss import convert_pair, squeeze_or_expand_to_same_rank
from kseq.losses.regression import (
    l2_normalize,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from kseq.metrics.metric import Metric, check_2d_inputs
from kseq.metrics.reduction_metrics import Mean, MeanMetricWrapper


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Cosine similarity of ``y_true`` and ``y_pred`` along ``axis`` (1 for equal directions).

    Unlike the *loss* ``kseq.losses.cosine_similarity``, this is not negated.

    Example:
        >>> cosine_similarity(torch.tensor([[0.0, 1.0], [1.0, 1.0]]),
        ...                   torch.tensor([[1.0, 0.0], [1.0, 1.0]])).round(decimals=4)
        tensor([0., 1.])
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(*convert_pair(y_true, y_pred))
    return (l2_normalize(y_true, axis) * l2_normalize(y_pred, axis)).sum(dim=axis)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``square(y_true - y_pred)``.

    Example:
        >>> float(MeanSquaredError()(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]])))
        0.5
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``abs(y_true - y_pred)``.

    Example:
        >>> float(MeanAbsoluteError()(torch.tensor([[0.0, 1.0]]), torch.tensor([[2.0, 1.0]])))
        1.0
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of ``100 * abs((y_true - y_pred) / y_true)`` (denominator at least ``epsilon``).

    Example:
        >>> float(MeanAbsolutePercentageError()(torch.tensor([[2.0, 4.0]]), torch.tensor([[1.0, 5.0]])))
        37.5
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean of ``square(log(y_true + 1) - log(y_pred + 1))``.

    Example:
        >>> round(float(MeanSquaredLogarithmicError()(torch.tensor([[0.0]]), torch.tensor([[1.0]]))), 4)
        0.4805
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """Square root of the (weighted) mean of ``square(y_true - y_pred)``.

    Example:
        >>> m = RootMeanSquaredError()
        >>> round(float(m(torch.tensor([[0.0, 1.0], [0.0, 0.0]]), torch.tensor([[1.0, 1.0], [1.0, 0.0]]))), 4)
        0.7071
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = torch.as_tensor(y_pred, device=self.total.device).to(self.total.dtype)
        y_true = torch.as_tensor(y_true, device=y_pred.device).to(self.total.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state((y_pred - y_true).square(), sample_weight=sample_weight)

    def result(self) -> Tensor:
        return torch.sqrt(super().result())


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along ``axis``.

    Example:
        >>> round(float(CosineSimilarity()(torch.tensor([[0.0, 1.0], [1.0, 1.0]]),
        ...                                torch.tensor([[1.0, 0.0], [1.0, 1.0]]))), 4)
        0.5
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self) -> dict[str, Any]:
        # As in Keras, ``axis`` is not part of the config (a restored metric uses axis=-1).
        return {"name": self.name, "dtype": self.dtype}


class LogCoshError(MeanMetricWrapper):
    """Mean of ``log(cosh(y_pred - y_true))``; its default name is ``"logcosh"``, as in Keras.

    Example:
        >>> round(float(LogCoshError()(torch.tensor([[0.0]]), torch.tensor([[1.0]]))), 4)
        0.4338
    """

    _direction = "down"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(log_cosh, name=name, dtype=dtype)


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot`` per output, aggregated.

    Args:
        class_aggregation: ``"uniform_average"`` (mean over outputs),
            ``"variance_weighted_average"`` (weighted by each output's variance) or ``None``
            (one score per output).
        num_regressors: number of independent variables, for the adjusted R2 score (0: plain).
        name: metric name.
        dtype: dtype of the result.

    Unlike Keras, the adjusted score does not warn when ``num_regressors`` is too large for the
    number of samples seen (checking would read the count back to the host); it falls back to
    the plain score as Keras does.

    Example:
        >>> m = R2Score()
        >>> m.update_state(torch.tensor([[1.0], [4.0], [3.0]]), torch.tensor([[2.0], [4.0], [4.0]]))
        >>> round(float(m.result()), 4)
        0.5714
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str = "r2_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {valid}. "
                f"Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), "zeros", name="num_samples")
        self._built = False

    @eager_only  # lazily created state: built eagerly, outside any compiled graph
    def _build(
        self, y_true_shape: tuple[int, ...], y_pred_shape: tuple[int, ...], device: Any
    ) -> None:
        check_2d_inputs("R2Score", y_true_shape, y_pred_shape)
        outputs = y_pred_shape[-1]
        for name in ("squared_sum", "sum", "residual", "count"):
            self.add_variable((outputs,), "zeros", name=name, device=device)
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate the per-output sums.

        Example:
            >>> m = R2Score(); m.update_state(torch.tensor([[1.0], [2.0]]), torch.tensor([[1.0], [2.0]]))
            >>> float(m.result())
            1.0
        """
        dtype = self._torch_dtype
        y_pred = torch.as_tensor(y_pred, device=self.num_samples.device).to(dtype)
        y_true = torch.as_tensor(y_true, device=y_pred.device).to(dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(tuple(y_true.shape), tuple(y_pred.shape), y_pred.device)
        if sample_weight is None:
            weight = torch.ones_like(y_true)
        else:
            weight = torch.as_tensor(sample_weight, device=y_true.device).to(dtype)
            if weight.ndim == 1:
                weight = weight.unsqueeze(1)
            weight = torch.broadcast_to(weight, y_true.shape)
        weighted_y_true = y_true * weight
        self.sum.add_(weighted_y_true.sum(dim=0))
        self.squared_sum.add_((y_true * weighted_y_true).sum(dim=0))
        self.residual.add_(((y_true - y_pred).square() * weight).sum(dim=0))
        self.count.add_(weight.sum(dim=0))
        self.num_samples.add_(y_true.numel())

    def result(self) -> Tensor:
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw_scores = 1 - self.residual / total
        raw_scores = torch.where(torch.isinf(raw_scores), torch.zeros_like(raw_scores), raw_scores)
        if self.class_aggregation == "uniform_average":
            score = raw_scores.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw_scores).sum() / total.sum()
        else:
            score = raw_scores
        if self.num_regressors == 0:
            return score
        n, p = self.num_samples, float(self.num_regressors)
        adjusted = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        # Keras falls back to the plain score when p >= n - 1.
        return torch.where(p < n - 1, adjusted, score)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
