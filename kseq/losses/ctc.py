"""Connectionist Temporal Classification loss (``keras.losses.CTC``) on ``torch.nn.functional.ctc_loss``.

Keras's conventions: ``y_true`` is ``(batch, max_label_length)`` integer labels padded with ``0``,
which is also the blank class; ``y_pred`` is ``(batch, time, num_classes)`` *logits* (a log-softmax
is applied inside). Every sequence uses all ``time`` steps, and each label length is the number of
non-zero labels. The loss is the per-sample negative log-likelihood (not divided by the label
length).

Example:
    >>> import torch
    >>> logits = torch.zeros(1, 3, 2)
    >>> round(ctc(torch.tensor([[1]]), logits).item(), 4)  # -log(6/8) for 3 steps, 2 classes
    0.2877
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq.losses.loss import LossFunctionWrapper


def ctc(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample CTC loss for zero-padded integer labels and ``(batch, time, classes)`` logits.

    Example:
        >>> ctc(torch.tensor([[1, 1]]), torch.zeros(1, 3, 2)).shape
        torch.Size([1])
    """
    y_pred = y_pred if isinstance(y_pred, Tensor) else torch.as_tensor(y_pred)
    labels = torch.as_tensor(y_true, device=y_pred.device)
    if labels.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
            f"integer format. Received: y_true.shape={tuple(labels.shape)}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape "
            f"`(batch_size, max_length, num_classes)`. Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    labels = labels.long()
    batch, time = y_pred.shape[0], y_pred.shape[1]
    if y_pred.dtype != torch.float64:
        y_pred = y_pred.float()  # as Keras: at least float32
    log_probs = torch.log_softmax(y_pred.transpose(0, 1), dim=-1)
    input_lengths = torch.full((batch,), time, dtype=torch.long, device=y_pred.device)
    label_lengths = (labels != 0).sum(dim=-1)
    return F.ctc_loss(log_probs, labels, input_lengths, label_lengths, blank=0, reduction="none")


class CTC(LossFunctionWrapper):
    """CTC loss for unsegmented sequence labelling (speech, handwriting).

    Example:
        >>> round(float(CTC()(torch.tensor([[1]]), torch.zeros(1, 3, 2))), 4)
        0.2877
    """

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "ctc", dtype: Any = None
    ) -> None:
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        # Labels (batch, length) and logits (batch, time, classes) never need rank reconciliation.
        return ctc(y_true, y_pred)
