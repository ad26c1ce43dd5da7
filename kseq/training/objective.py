"""What a step minimizes and records, defined once: the compiled loss, the penalties added to it,
the compiled-metric updates, and the ``add_loss`` scope of a top-level model call.

The fused step (``step.py``), ``Model.compute_loss``/``compute_metrics`` (the custom
``train_step`` path, ``custom_step.py``) and ``train_on_batch`` all go through these functions.
This module is also the only place in training/models that touches the ``add_loss`` bookkeeping of
``kseq.layers.loss_collection`` (:func:`run_model_call` and :func:`added_losses`).

Example:
    >>> import torch
    >>> from kseq.losses import MeanSquaredError
    >>> loss = compiled_loss(MeanSquaredError(), 2.0, torch.zeros(2, 1), torch.ones(2, 1), None)
    >>> float(with_penalties(loss, [torch.tensor(0.5)]))
    2.5
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from kseq.layers.loss_collection import MODEL_CALL_LOSSES
from kseq.losses.loss import Loss
from kseq.metrics.metric import Metric


def run_model_call(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``call`` as a top-level model call: losses layers add (``add_loss``) belong to the
    latest top-level call, as in Keras.

    Example:
        >>> run_model_call(lambda v: v + 1, 1)
        2
    """
    MODEL_CALL_LOSSES.open()
    try:
        return call(*args, **kwargs)
    finally:
        MODEL_CALL_LOSSES.close()


def added_losses() -> list[Tensor]:
    """The losses layers added (``add_loss``, activity regularization) during the current or
    last top-level model call.

    Example:
        >>> added_losses()
        []
    """
    return [loss for layer in MODEL_CALL_LOSSES.layers for loss in layer._losses]


def compiled_loss(loss_fn: Loss, weight: float, y: Any, y_pred: Any, sample_weight: Any) -> Tensor:
    """``loss_fn(y, y_pred, sample_weight)`` times the compiled ``loss_weights`` entry.

    Example:
        >>> from kseq.losses import MeanAbsoluteError
        >>> float(compiled_loss(MeanAbsoluteError(), 1.0, torch.zeros(2), torch.ones(2), None))
        1.0
    """
    loss = loss_fn(y, y_pred, sample_weight)
    return loss * weight if weight != 1.0 else loss


def penalty(terms: Sequence[Tensor]) -> Tensor | None:
    """The sum of penalty terms (weight regularization, added losses) in float32; ``None`` when
    there are none.

    Example:
        >>> penalty([]), float(penalty([torch.tensor(1.0), torch.tensor([2.0])]))
        (None, 3.0)
    """
    if not terms:
        return None
    return torch.stack(
        [(t.reshape(()) if t.numel() == 1 else t.sum()).float() for t in terms]
    ).sum()


def with_penalties(loss: Tensor | None, terms: Sequence[Tensor]) -> Tensor | None:
    """``loss`` plus :func:`penalty` of ``terms`` (in the loss's dtype); either may be absent.

    Example:
        >>> with_penalties(None, []) is None, float(with_penalties(None, [torch.tensor(2.0)]))
        (True, 2.0)
    """
    extra = penalty(terms)
    if extra is None or loss is None:
        return loss if extra is None else extra
    return loss + extra.to(loss.dtype)


def update_metrics(
    metrics: Sequence[Metric],
    weighted_metrics: Sequence[Metric],
    y: Any,
    y_pred: Any,
    sample_weight: Any,
) -> None:
    """Update the compiled metrics (``metrics`` unweighted, ``weighted_metrics`` with
    ``sample_weight``) on device tensors, outside autograd.

    Example:
        >>> from kseq.metrics import MeanAbsoluteError
        >>> m = MeanAbsoluteError()
        >>> update_metrics([m], [], torch.zeros(2), torch.ones(2), None); float(m.result())
        1.0
    """
    with torch.no_grad():
        y_pred = y_pred.detach() if isinstance(y_pred, Tensor) else y_pred
        for metric in metrics:
            metric.update_state(y, y_pred)
        for metric in weighted_metrics:
            metric.update_state(y, y_pred, sample_weight)
