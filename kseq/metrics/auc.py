"""``AUC``: area under the ROC or precision-recall curve, approximated by a Riemann sum over
``num_thresholds`` thresholds (Keras's algorithm, so results match Keras's).

The four confusion counts at every threshold are ``(T,)`` buffers (``(T, num_labels)`` with
``multi_label=True``) accumulated on the device with one bucketing pass per batch; ``result()``
computes the area from them with tensor ops.

Example:
    >>> import torch
    >>> m = AUC(num_thresholds=3)
    >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0.0, 0.5, 0.3, 0.9]))
    >>> float(m.result())
    0.75
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq import config
from kseq.core.compile import eager_only
from kseq.metrics.confusion_utils import is_evenly_distributed, update_confusion_matrix
from kseq.metrics.metric import DeviceConstant, Metric, divide_no_nan

CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
SUMMATION_METHODS = ("interpolation", "majoring", "minoring")
_COUNTS = {
    "tp": "true_positives",
    "fp": "false_positives",
    "tn": "true_negatives",
    "fn": "false_negatives",
}


def _parse_curve(curve: Any) -> str:
    key = getattr(curve, "value", curve)
    if str(key).lower() not in CURVES or str(key) not in (str(key).lower(), str(key).upper()):
        raise ValueError(
            f'Invalid AUC curve value: "{key}". Expected values are ["PR", "ROC", "PRGAIN"]'
        )
    return CURVES[str(key).lower()]


def _parse_summation(method: Any) -> str:
    key = str(getattr(method, "value", method))
    if key.lower() not in SUMMATION_METHODS or key not in (key.lower(), key.capitalize()):
        raise ValueError(
            f'Invalid AUC summation method value: "{key}". '
            'Expected values are ["interpolation", "majoring", "minoring"]'
        )
    return key.lower()


class AUC(Metric):
    """Area under the ROC (default) or PR curve.

    Predictions are counted at ``num_thresholds`` thresholds evenly spaced over ``[0, 1]`` (plus
    ``-epsilon``/``1 + epsilon`` endpoints so that 0 and 1 are counted), and the curve through
    those operating points is integrated.

    Args:
        num_thresholds: number of thresholds (> 1). Ignored when ``thresholds`` is given.
        curve: ``"ROC"``, ``"PR"`` (precision-recall) or ``"PRGAIN"``.
        summation_method: ``"interpolation"`` (trapezoids for ROC, Davis & Goadrich for PR),
            ``"minoring"`` (lower bound) or ``"majoring"`` (upper bound).
        name: metric name.
        dtype: dtype of the result.
        thresholds: explicit thresholds in ``[0, 1]`` instead of ``num_thresholds``.
        multi_label: one curve per label (last axis), averaged, instead of flattening the labels.
        num_labels: number of labels with ``multi_label`` (else known at the first update).
        label_weights: per-label weights: weights of the flattened data, or of the per-label
            areas in the average when ``multi_label``.
        from_logits: apply a sigmoid to ``y_pred`` first.

    Example:
        >>> m = AUC(curve="PR", num_thresholds=3)
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0.0, 0.5, 0.3, 0.9]))
        >>> round(float(m.result()), 4)
        0.8207
    """

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: Any = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ) -> None:
        self.curve = _parse_curve(curve)
        self.summation_method = _parse_summation(summation_method)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
            self._thresholds_distributed_evenly = is_evenly_distributed([0.0, *inner, 1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        epsilon = config.epsilon()
        self._thresholds = [0.0 - epsilon, *inner, 1.0 + epsilon]
        super().__init__(name=name, dtype=dtype)
        self._threshold_values = DeviceConstant(torch.tensor(self._thresholds, dtype=torch.float32))
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (
            None
            if label_weights is None
            else torch.as_tensor(label_weights, dtype=self._torch_dtype).clone()
        )
        self._label_weights = None if label_weights is None else DeviceConstant(self.label_weights)
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build((None, num_labels))
        elif num_labels:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        else:
            self._build(None)

    @property
    def thresholds(self) -> list[float]:
        """The thresholds used for evaluating AUC (with the ``-eps``/``1 + eps`` endpoints)."""
        return list(self._thresholds)

    @eager_only  # lazily created state: built eagerly, outside any compiled graph
    def _build(self, shape: Any, device: torch.device | None = None) -> None:
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. "
                    f"Full shape received for `y_pred`: {tuple(shape)}"
                )
            self._num_labels = shape[1]
            variable_shape: tuple[int, ...] = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for name in _COUNTS.values():
            self.add_variable(variable_shape, "zeros", name=name, device=device)
        self._built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate the confusion counts at every threshold.

        Example:
            >>> m = AUC(); m.update_state(torch.tensor([0, 1]), torch.tensor([0.2, 0.8]))
            >>> float(m.result())
            1.0
        """
        device = self._state_device() if self._built else None
        y_pred = torch.as_tensor(y_pred, device=device)
        if not self._built:
            self._build(tuple(y_pred.shape), device=y_pred.device)
        device = y_pred.device
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        update_confusion_matrix(
            {key: getattr(self, name) for key, name in _COUNTS.items()},
            y_true,
            y_pred,
            self._threshold_values.on(device),
            evenly=self._thresholds_distributed_evenly,
            with_epsilon=True,
            sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self._label_weights_on(device),
        )

    def _label_weights_on(self, device: torch.device) -> Tensor | None:
        return None if self._label_weights is None else self._label_weights.on(device)

    def _average_labels(self, by_threshold: Tensor) -> Tensor:
        """Sum the per-interval terms; with ``multi_label``, average the per-label areas."""
        if not self.multi_label:
            return by_threshold.sum()
        by_label = by_threshold.sum(dim=0)
        weights = self._label_weights_on(by_label.device)
        if weights is None:
            return by_label.mean()
        return divide_no_nan((by_label * weights).sum(), weights.sum())

    def interpolate_pr_auc(self) -> Tensor:
        """PR-AUC with precision interpolated between thresholds (Davis & Goadrich 2006).

        Example:
            >>> m = AUC(curve="PR", num_thresholds=3)
            >>> m.update_state(torch.tensor([0, 1]), torch.tensor([0.2, 0.8]))
            >>> float(m.interpolate_pr_auc())
            1.0
        """
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, dp.clamp_min(0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        safe_p_ratio = torch.where(
            both_positive, divide_no_nan(p[:-1], p[1:].clamp_min(0)), torch.ones_like(p[1:])
        )
        increments = divide_no_nan(
            prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
            (tp[1:] + fn[1:]).clamp_min(0),
        )
        return self._average_labels(increments)

    def _curve_points(self) -> tuple[Tensor, Tensor]:
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            return divide_no_nan(fp, fp + tn), recall
        if self.curve == "PR":
            return recall, divide_no_nan(tp, tp + fp)
        scaling = divide_no_nan(tp + fn, tn + fp)
        no_tp = tp == 0
        recall_gain = torch.where(
            no_tp, torch.zeros_like(tp), 1.0 - scaling * divide_no_nan(fn, tp)
        ).clamp_min(0.0)
        precision_gain = torch.where(
            no_tp, torch.ones_like(tp), 1.0 - scaling * divide_no_nan(fp, tp)
        )
        return recall_gain, precision_gain

    def result(self) -> Tensor:
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        x, y = self._curve_points()
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._average_labels((x[:-1] - x[1:]) * heights)

    def get_config(self) -> dict[str, Any]:
        """Keras's keys; ``label_weights`` is a list of floats (Keras puts a tensor there).

        Example:
            >>> AUC(thresholds=[0.3, 0.6]).get_config()["thresholds"]
            [0.3, 0.6]
        """
        label_weights = self.label_weights
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if label_weights is None else label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
