"""Intersection-over-union metrics: ``IoU``, ``BinaryIoU``, ``MeanIoU``, ``OneHotIoU`` and
``OneHotMeanIoU``.

Each keeps a ``(num_classes, num_classes)`` confusion matrix (rows: true class, columns: predicted
class) in a device buffer, updated with one ``index_add_`` per batch. As in Keras, its dtype
defaults to ``int32``, so float sample weights are truncated (with Keras's warning); pass
``dtype="float32"`` for fractional weights.

Example:
    >>> import torch
    >>> m = MeanIoU(num_classes=2)
    >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1]))
    >>> round(float(m.result()), 4)
    0.3333
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq import config
from kseq.metrics.metric import DeviceConstant, Metric


class _IoUBase(Metric):
    """The accumulated confusion matrix shared by the IoU metrics."""

    _direction = "up"  # for EarlyStopping/ModelCheckpoint mode="auto", as in Keras

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        super().__init__(name=name, dtype=dtype or "int")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            (num_classes, num_classes), "zeros", dtype=self.dtype, name="total_confusion_matrix"
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the batch's (weighted) class pairs to the confusion matrix.

        Example:
            >>> m = MeanIoU(2); m.update_state(torch.tensor([0, 1]), torch.tensor([0, 1]))
            >>> m.total_cm.tolist()
            [[1, 0], [0, 1]]
        """
        cm = self.total_cm
        y_pred = torch.as_tensor(y_pred, device=cm.device)
        y_true = torch.as_tensor(y_true, device=cm.device)
        if not self.sparse_y_true:
            y_true = torch.argmax(y_true, dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = torch.argmax(y_pred, dim=self.axis)
        y_true = y_true.to(cm.dtype).reshape(-1)
        y_pred = y_pred.to(cm.dtype).reshape(-1)
        if sample_weight is None:
            weight = torch.ones((), dtype=cm.dtype, device=cm.device)
        else:
            weight = torch.as_tensor(sample_weight, device=cm.device)
            if weight.is_floating_point() and not cm.is_floating_point():
                warnings.warn(
                    "You are passing weight as `float`, but dtype is `int`. This may result in an "
                    "incorrect weight due to type casting Consider using integer weights.",
                    stacklevel=2,
                )
            weight = weight.to(cm.dtype).reshape(-1) if weight.ndim > 1 else weight.to(cm.dtype)
        weight = torch.broadcast_to(weight, y_true.shape)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        zero = torch.zeros((), dtype=cm.dtype, device=cm.device)
        index = (torch.where(valid, y_true, zero) * n + torch.where(valid, y_pred, zero)).long()
        cm.view(-1).index_add_(0, index, torch.where(valid, weight, zero))

    def _iou(self, target_class_ids: Tensor) -> Tensor:
        """Mean IoU over ``target_class_ids`` whose union is not empty."""
        cm = self.total_cm
        true_positives = torch.diagonal(cm)
        union = cm.sum(dim=0) + cm.sum(dim=1) - true_positives
        union = union[target_class_ids].to(torch.float32)
        true_positives = true_positives[target_class_ids].to(torch.float32)
        valid = union > 1e-9
        iou = torch.where(
            valid, true_positives / (union + config.epsilon()), torch.zeros_like(union)
        )
        return iou.sum(dim=-1) / (valid.to(torch.float32).sum() + config.epsilon())

    def reset_state(self) -> None:
        self.total_cm.zero_()


class IoU(_IoUBase):
    """Mean intersection-over-union ``tp / (tp + fp + fn)`` of the ``target_class_ids``.

    Args:
        num_classes: number of classes (the confusion matrix is ``num_classes`` squared).
        target_class_ids: the classes whose IoU is averaged.
        name: metric name.
        dtype: dtype of the confusion matrix (``"int32"`` by default, as in Keras).
        ignore_class: a label id to leave out (e.g. a "void" class).
        sparse_y_true: labels are class ids (else one-hot/scores reduced by arg-max).
        sparse_y_pred: predictions are class ids (else scores reduced by arg-max).
        axis: the class axis for the arg-max.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1]))
        >>> round(float(m.result()), 4)
        0.3333
    """

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Sequence[int],
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"Target class id {max(target_class_ids)} is out of range, which is "
                f"[0, {num_classes})."
            )
        self.target_class_ids = list(target_class_ids)
        self._target_ids = DeviceConstant(torch.tensor(self.target_class_ids, dtype=torch.long))

    def result(self) -> Tensor:
        return self._iou(self._target_ids.on(self.total_cm.device))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of a binary task: predictions ``>= threshold`` are class 1, the others class 0.

    Args:
        target_class_ids: ``[0]``, ``[1]`` or ``[0, 1]`` (the mean of both).
        threshold: the score from which a prediction is class 1.
        name: metric name.
        dtype: dtype of the confusion matrix (``"int32"`` by default).

    Example:
        >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> m.update_state(torch.tensor([0, 1, 0, 1]), torch.tensor([0.1, 0.2, 0.4, 0.7]))
        >>> round(float(m.result()), 4)
        0.3333
    """

    def __init__(
        self,
        target_class_ids: Sequence[int] = (0, 1),
        threshold: float = 0.5,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = torch.as_tensor(y_pred, device=self.total_cm.device).to(torch.float32)
        super().update_state(
            y_true, (y_pred >= self.threshold).to(self.total_cm.dtype), sample_weight
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }


class MeanIoU(IoU):
    """Mean IoU over all ``num_classes`` classes (those never seen nor predicted are skipped).

    Takes the arguments of :class:`IoU` except ``target_class_ids``.

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1]),
        ...                sample_weight=torch.tensor([3, 3, 3, 1]))
        >>> round(float(m.result()), 4)
        0.2381
    """

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            list(range(num_classes)),
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels (and, by default, score predictions), via arg-max.

    Takes the arguments of :class:`IoU` except ``sparse_y_true`` (always ``False``).

    Example:
        >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
        >>> m.update_state(torch.eye(3)[[0, 2, 1]], torch.tensor([[0.8, 0.1, 0.1],
        ...                [0.1, 0.1, 0.8], [0.1, 0.1, 0.8]]))
        >>> round(float(m.result()), 4)
        0.75
    """

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Sequence[int],
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels (and, by default, score predictions), via arg-max.

    Example:
        >>> m = OneHotMeanIoU(num_classes=3)
        >>> m.update_state(torch.eye(3)[[0, 2, 1]], torch.tensor([[0.8, 0.1, 0.1],
        ...                [0.1, 0.1, 0.8], [0.1, 0.1, 0.8]]))
        >>> round(float(m.result()), 4)
        0.5
    """

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config
