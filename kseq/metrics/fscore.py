"""``FBetaScore`` and ``F1Score`` for multi-class / multi-label predictions of shape
``(batch, num_classes)``.

Per-class (or, with ``average="micro"``, global) weighted true positive, false positive and false
negative counts live in device buffers created at the first update, once ``num_classes`` is known.

Example:
    >>> import torch
    >>> m = F1Score(average="micro", threshold=0.5)
    >>> m.update_state(torch.tensor([[1, 0], [0, 1]]), torch.tensor([[0.9, 0.2], [0.6, 0.4]]))
    >>> round(float(m.result()), 4)
    0.5
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq import config
from kseq.core.compile import eager_only
from kseq.metrics.metric import Metric, check_2d_inputs

AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """F-beta score: ``(1 + beta**2) * precision * recall / (beta**2 * precision + recall)``.

    Args:
        average: ``None`` (one score per class), ``"micro"`` (global counts), ``"macro"``
            (unweighted mean of the class scores) or ``"weighted"`` (mean weighted by support).
        beta: weight of recall relative to precision (a float > 0).
        threshold: predictions above it are positive; ``None`` makes the arg-max of each row
            the (only) positive.
        name: metric name.
        dtype: dtype of the state and result.

    Example:
        >>> m = FBetaScore(beta=2.0, threshold=0.5)
        >>> m.update_state(torch.tensor([[1, 0, 1]]), torch.tensor([[0.9, 0.7, 0.2]]))
        >>> [round(v, 4) for v in m.result().tolist()]
        [1.0, 0.0, 0.0]
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if average not in AVERAGES:
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(
                f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}"
            )
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    @eager_only  # lazily created state: built eagerly, outside any compiled graph
    def _build(
        self, y_true_shape: tuple[int, ...], y_pred_shape: tuple[int, ...], device: Any
    ) -> None:
        check_2d_inputs("FBetaScore", y_true_shape, y_pred_shape)
        shape = (y_pred_shape[-1],) if self.average != "micro" else ()
        for name in (
            "true_positives",
            "false_positives",
            "false_negatives",
            "intermediate_weights",
        ):
            self.add_variable(shape, "zeros", dtype=self.dtype, name=name, device=device)
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate the weighted counts.

        Example:
            >>> m = F1Score(); m.update_state(torch.tensor([[0, 1]]), torch.tensor([[0.3, 0.7]]))
            >>> [round(v, 4) for v in m.result().tolist()]
            [0.0, 1.0]
        """
        dtype = self._torch_dtype
        y_pred = torch.as_tensor(y_pred, device=self._state_device() if self._built else None)
        y_pred = y_pred.to(dtype)
        y_true = torch.as_tensor(y_true, device=y_pred.device).to(dtype)
        if not self._built:
            self._build(tuple(y_true.shape), tuple(y_pred.shape), y_pred.device)
        if self.threshold is None:
            row_max = y_pred.amax(dim=-1, keepdim=True)
            predicted = (y_pred >= row_max) & (y_pred.abs() > 1e-9)
        else:
            predicted = y_pred > self.threshold
        y_pred = predicted.to(dtype)
        weight = None
        if sample_weight is not None:
            weight = torch.as_tensor(sample_weight, device=y_pred.device).to(dtype)
            if weight.ndim < y_true.ndim:
                weight = weight.reshape(*weight.shape, *([1] * (y_true.ndim - weight.ndim)))

        def weighted_sum(values: Tensor) -> Tensor:
            if weight is not None:
                values = values * weight
            return values.sum() if self.axis is None else values.sum(dim=self.axis)

        self.true_positives.add_(weighted_sum(y_pred * y_true))
        self.false_positives.add_(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.add_(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.add_(weighted_sum(y_true))

    def result(self) -> Tensor:
        eps = config.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        beta_sq = self.beta**2
        score = (precision * recall) / (beta_sq * precision + recall + eps) * (1 + beta_sq)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum() + eps)
            return (score * weights).sum()
        if self.average is not None:
            return score.mean()
        return score

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 score, the harmonic mean of precision and recall (``FBetaScore`` with ``beta=1``).

    Args:
        average: ``None``, ``"micro"``, ``"macro"`` or ``"weighted"`` (see :class:`FBetaScore`).
        threshold: predictions above it are positive; ``None`` uses each row's arg-max.
        name: metric name.
        dtype: dtype of the state and result.

    Example:
        >>> m = F1Score(threshold=0.5)
        >>> m.update_state(torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
        ...                torch.tensor([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
        >>> [round(v, 4) for v in m.result().tolist()]
        [0.5, 0.8, 0.6667]
    """

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config
