"""Threshold metrics built on confusion counts: ``TruePositives``, ``FalsePositives``,
``TrueNegatives``, ``FalseNegatives``, ``Precision``, ``Recall``, ``PrecisionAtRecall``,
``RecallAtPrecision``, ``SensitivityAtSpecificity`` and ``SpecificityAtSensitivity``.

Counts at every threshold live in ``(num_thresholds,)`` device buffers and are accumulated by
:func:`kseq.metrics.confusion_utils.update_confusion_matrix` (vectorised over thresholds and
samples); the thresholds themselves are a non-persistent buffer that moves with the metric.

Example:
    >>> import torch
    >>> m = Precision()
    >>> m.update_state(torch.tensor([0, 1, 1, 1]), torch.tensor([1.0, 0.0, 1.0, 1.0]))
    >>> round(float(m.result()), 4)
    0.6667
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.metrics.confusion_utils import (
    NEG_INF,
    is_evenly_distributed,
    parse_thresholds,
    update_confusion_matrix,
)
from kseq.metrics.metric import DeviceConstant, Metric, divide_no_nan

_VARIABLE_NAMES = {
    "tp": "true_positives",
    "fp": "false_positives",
    "tn": "true_negatives",
    "fn": "false_negatives",
}


class ConfusionCounts(Metric):
    """Base of the metrics above: thresholds plus one ``(T,)`` count buffer per kept statistic.

    Subclasses call ``super().__init__(thresholds, keys, ...)`` and implement ``result()``.

    Example:
        >>> class TruePositiveRate(ConfusionCounts):
        ...     def __init__(self, **kw):
        ...         super().__init__([0.5], ("tp", "fn"), **kw)
        ...     def result(self):
        ...         return divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)[0]
        >>> float(TruePositiveRate()(torch.tensor([1, 1]), torch.tensor([0.9, 0.1])))
        0.5
    """

    def __init__(
        self,
        thresholds: list[float],
        keys: tuple[str, ...],
        name: str | None = None,
        dtype: Any = None,
        top_k: int | None = None,
        class_id: int | None = None,
        variable_names: dict[str, str] | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self._thresholds_distributed_evenly = is_evenly_distributed(thresholds)
        self._threshold_values = DeviceConstant(torch.tensor(thresholds, dtype=torch.float32))
        names = variable_names or _VARIABLE_NAMES
        self._counts = {key: names[key] for key in keys}
        for key in keys:
            self.add_variable(shape=(len(thresholds),), initializer="zeros", name=names[key])

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the batch's counts at every threshold.

        Example:
            >>> m = TruePositives(); m.update_state(torch.tensor([1, 1]), torch.tensor([0.9, 0.1]))
            >>> float(m.result())
            1.0
        """
        update_confusion_matrix(
            {key: getattr(self, name) for key, name in self._counts.items()},
            y_true,
            y_pred,
            self._threshold_values.on(self._state_device()),
            evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k,
            class_id=self.class_id,
            sample_weight=sample_weight,
        )

    def _per_threshold(self, values: Tensor) -> Tensor:
        """A scalar for one threshold, else the vector (Keras's result shape)."""
        return values[0] if len(self.thresholds) == 1 else values


class _ConditionCount(ConfusionCounts):
    """One weighted count (``accumulator``) per threshold."""

    _key = "tp"

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(
            parse_thresholds(thresholds),
            (self._key,),
            name=name,
            dtype=dtype,
            variable_names={self._key: "accumulator"},
        )
        self.init_thresholds = thresholds

    def result(self) -> Tensor:
        return self._per_threshold(self.accumulator).clone()

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """(Weighted) number of true positives: ``y_true`` non-zero and ``y_pred > threshold``.

    Args:
        thresholds: a float or list of floats in ``[0, 1]`` (default ``0.5``); one value per
            threshold. Use ``0`` for logits.
        name: metric name.
        dtype: dtype of the result.

    Example:
        >>> m = TruePositives(); m.update_state(torch.tensor([0, 1, 1, 1]), torch.tensor([1.0, 0, 1, 1]))
        >>> float(m.result())
        2.0
    """

    _key = "tp"


class FalsePositives(_ConditionCount):
    """(Weighted) number of false positives: ``y_true`` zero and ``y_pred > threshold``.

    Example:
        >>> m = FalsePositives(); m.update_state(torch.tensor([0, 1, 0, 0]), torch.tensor([0.0, 0, 1, 1]))
        >>> float(m.result())
        2.0
    """

    _key = "fp"


class TrueNegatives(_ConditionCount):
    """(Weighted) number of true negatives: ``y_true`` zero and ``y_pred <= threshold``.

    Example:
        >>> m = TrueNegatives(); m.update_state(torch.tensor([0, 1, 0, 0]), torch.tensor([1.0, 1, 0, 0]))
        >>> float(m.result())
        2.0
    """

    _key = "tn"


class FalseNegatives(_ConditionCount):
    """(Weighted) number of false negatives: ``y_true`` non-zero and ``y_pred <= threshold``.

    Example:
        >>> m = FalseNegatives(); m.update_state(torch.tensor([0, 1, 1, 1]), torch.tensor([0.0, 1, 0, 0]))
        >>> float(m.result())
        2.0
    """

    _key = "fn"


class _PrecisionRecallBase(ConfusionCounts):
    _second = "fp"
    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self,
        thresholds: Any = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        default = 0.5 if top_k is None else NEG_INF
        parsed = [default] if thresholds is None else parse_thresholds(thresholds)
        super().__init__(
            parsed, ("tp", self._second), name=name, dtype=dtype, top_k=top_k, class_id=class_id
        )
        self.init_thresholds = thresholds

    def result(self) -> Tensor:
        other = getattr(self, _VARIABLE_NAMES[self._second])
        return self._per_threshold(divide_no_nan(self.true_positives, self.true_positives + other))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecallBase):
    """``tp / (tp + fp)``: how many predicted positives are real positives.

    Args:
        thresholds: a float or list of floats in ``[0, 1]``; one result per threshold (default
            ``0.5``, or "in the top k" when ``top_k`` is set). Use ``0`` for logits.
        top_k: only the ``top_k`` highest scores per sample count as predicted positives.
        class_id: compute the metric for this class (column) only.
        name: metric name.
        dtype: dtype of the result.

    Example:
        >>> m = Precision(top_k=2)
        >>> m.update_state(torch.tensor([[0, 0, 1, 1]]), torch.tensor([[0.9, 0.8, 0.7, 0.6]]))
        >>> float(m.result())
        0.0
    """

    _second = "fp"


class Recall(_PrecisionRecallBase):
    """``tp / (tp + fn)``: how many real positives are predicted positive.

    Takes the same arguments as :class:`Precision`.

    Example:
        >>> m = Recall(); m.update_state(torch.tensor([0, 1, 1, 1]), torch.tensor([1.0, 0, 1, 1]))
        >>> round(float(m.result()), 4)
        0.6667
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    _second = "fn"


class _AtConstraint(ConfusionCounts):
    """Best value of one rate among the thresholds where another rate reaches ``value``.

    Subclasses name the constraint (``_arg``, also their first constructor argument) and say which
    rate is constrained and which is maximised (``_rates``).
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    _arg = "value"

    def __init__(
        self,
        value: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        if value < 0 or value > 1:
            raise ValueError(
                f"Argument `{self._arg}` must be in the range [0, 1]. Received: {self._arg}={value}"
            )
        if num_thresholds <= 0:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={num_thresholds}"
            )
        if num_thresholds == 1:
            thresholds = [0.5]
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            thresholds = [0.0, *inner, 1.0]
        super().__init__(
            thresholds, ("tp", "fp", "tn", "fn"), name=name, dtype=dtype, class_id=class_id
        )
        self.value = value
        self.num_thresholds = num_thresholds

    def _rates(self) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def result(self) -> Tensor:
        constrained, dependent = self._rates()
        feasible = constrained >= self.value
        return torch.where(feasible, dependent, torch.zeros_like(dependent)).amax().clamp_min(0.0)

    def _sensitivity(self) -> Tensor:
        return divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)

    def _specificity(self) -> Tensor:
        return divide_no_nan(self.true_negatives, self.true_negatives + self.false_positives)

    def _precision(self) -> Tensor:
        return divide_no_nan(self.true_positives, self.true_positives + self.false_positives)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "class_id": self.class_id,
            "num_thresholds": self.num_thresholds,
            self._arg: self.value,
        }


class SensitivityAtSpecificity(_AtConstraint):
    """Best sensitivity (recall) over the thresholds whose specificity is ``>= specificity``.

    Args:
        specificity: the required specificity, in ``[0, 1]``.
        num_thresholds: number of evenly spaced thresholds in ``[0, 1]`` (default 200).
        class_id: compute the metric for this class (column) only.
        name: metric name.
        dtype: dtype of the result.

    Example:
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m.update_state(torch.tensor([0, 0, 0, 1, 1]), torch.tensor([0.0, 0.3, 0.8, 0.3, 0.8]))
        >>> float(m.result())
        0.5
    """

    _arg = "specificity"

    def __init__(
        self,
        specificity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(specificity, num_thresholds, class_id, name, dtype)
        self.specificity = specificity

    def _rates(self) -> tuple[Tensor, Tensor]:
        return self._specificity(), self._sensitivity()


class SpecificityAtSensitivity(_AtConstraint):
    """Best specificity over the thresholds whose sensitivity is ``>= sensitivity``.

    Takes ``sensitivity`` and the other arguments of :class:`SensitivityAtSpecificity`.

    Example:
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m.update_state(torch.tensor([0, 0, 0, 1, 1]), torch.tensor([0.0, 0.3, 0.8, 0.3, 0.8]))
        >>> round(float(m.result()), 4)
        0.6667
    """

    _arg = "sensitivity"

    def __init__(
        self,
        sensitivity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)
        self.sensitivity = sensitivity

    def _rates(self) -> tuple[Tensor, Tensor]:
        return self._sensitivity(), self._specificity()


class PrecisionAtRecall(_AtConstraint):
    """Best precision over the thresholds whose recall is ``>= recall``.

    Takes ``recall`` and the other arguments of :class:`SensitivityAtSpecificity`.

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state(torch.tensor([0, 0, 0, 1, 1]), torch.tensor([0.0, 0.3, 0.8, 0.3, 0.8]))
        >>> float(m.result())
        0.5
    """

    _arg = "recall"

    def __init__(
        self,
        recall: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(recall, num_thresholds, class_id, name, dtype)
        self.recall = recall

    def _rates(self) -> tuple[Tensor, Tensor]:
        return self._sensitivity(), self._precision()


class RecallAtPrecision(_AtConstraint):
    """Best recall over the thresholds whose precision is ``>= precision`` (0 if none reaches it).

    Takes ``precision`` and the other arguments of :class:`SensitivityAtSpecificity`.

    Example:
        >>> m = RecallAtPrecision(0.8)
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0.0, 0.5, 0.3, 0.9]))
        >>> float(m.result())
        0.5
    """

    _arg = "precision"

    def __init__(
        self,
        precision: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(precision, num_thresholds, class_id, name, dtype)
        self.precision = precision

    def _rates(self) -> tuple[Tensor, Tensor]:
        return self._precision(), self._sensitivity()
