"""Vectorised, device-resident confusion-matrix accumulation (Keras's ``metrics_utils``).

``update_confusion_matrix`` adds the (weighted) true/false positive/negative counts of one batch
at every threshold to the metric's buffers, in place:

* thresholds evenly spaced over ``[0, 1]`` (AUC, the ``...At...`` metrics): each prediction falls
  in one bucket (``ceil(p * (T - 1)) - 1``, Keras's formula, so ties land where Keras puts them);
  one ``index_add_`` per count and a reversed cumulative sum give every threshold at once, in
  ``O(T + N)``;
* any other thresholds: one ``(T, N)`` comparison ``y_pred > thresholds`` and a matrix product
  with the weighted labels.

No Python loop runs over thresholds or samples, and nothing is read back to the host.

Example:
    >>> import torch
    >>> tp = torch.zeros(3); thresholds = torch.tensor([0.0, 0.5, 1.0])
    >>> update_confusion_matrix({"tp": tp}, torch.tensor([0.0, 1.0, 1.0]),
    ...                         torch.tensor([0.2, 0.4, 0.9]), thresholds, evenly=True)
    >>> tp
    tensor([2., 1., 0.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kseq import config
from kseq.losses.loss import squeeze_or_expand_to_same_rank

NEG_INF = -1e10
CONFUSION_KEYS = ("tp", "fp", "tn", "fn")


def parse_thresholds(thresholds: Any, default: float = 0.5) -> list[float]:
    """Validate user thresholds (a float or a list of floats in ``[0, 1]``) into a list.

    Example:
        >>> parse_thresholds(None), parse_thresholds([0.2, 0.8])
        ([0.5], [0.2, 0.8])
    """
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    invalid = [t for t in values if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def is_evenly_distributed(thresholds: Sequence[float]) -> bool:
    """Whether ``thresholds`` are ``[0, 1/(T-1), ..., 1]`` (at least 3 of them), as Keras checks.

    Example:
        >>> is_evenly_distributed([0.0, 0.5, 1.0]), is_evenly_distributed([0.1, 0.5, 1.0])
        (True, False)
    """
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(np.asarray(thresholds, dtype=np.float64), even, atol=config.epsilon()))


def _filter_top_k(x: Tensor, k: int) -> Tensor:
    """Keep the ``k`` largest values of the last axis; set the others to ``NEG_INF``."""
    top = torch.topk(x, k, dim=-1).indices
    mask = torch.zeros_like(x).scatter_(-1, top, 1.0)
    return x * mask + NEG_INF * (1 - mask)


def update_confusion_matrix(
    variables: dict[str, Tensor],
    y_true: Any,
    y_pred: Any,
    thresholds: Tensor,
    evenly: bool = False,
    with_epsilon: bool = False,
    top_k: int | None = None,
    class_id: int | None = None,
    sample_weight: Any = None,
    multi_label: bool = False,
    label_weights: Tensor | None = None,
) -> None:
    """Add one batch's confusion counts at each threshold to ``variables`` (in place).

    Args:
        variables: buffers keyed ``"tp"``, ``"fp"``, ``"tn"``, ``"fn"`` (any subset), of shape
            ``(T,)`` or ``(T, num_labels)`` when ``multi_label``.
        y_true: labels, cast to bool (non-zero is positive).
        y_pred: scores; a prediction is positive at threshold ``t`` when ``y_pred > t``.
        thresholds: ``(T,)`` tensor on the buffers' device.
        evenly: ``thresholds`` are evenly spaced (possibly with ``-eps``/``1+eps`` endpoints).
        with_epsilon: the endpoints are ``-eps``/``1+eps`` (AUC), so a prediction of exactly 0
            counts as positive at the first threshold.
        top_k: only the ``top_k`` highest scores of the last axis can be positive.
        class_id: restrict labels and predictions to this column of the last axis.
        sample_weight: broadcastable to ``y_true``.
        multi_label: keep the last axis separate (one curve per label).
        label_weights: per-label weights of the flattened data (not with ``multi_label``).

    Example:
        >>> fp = torch.zeros(1)
        >>> update_confusion_matrix({"fp": fp}, torch.tensor([0, 0, 1]),
        ...                         torch.tensor([0.7, 0.2, 0.9]), torch.tensor([0.5]))
        >>> fp
        tensor([1.])
    """
    if multi_label and label_weights is not None:
        raise ValueError(
            "`label_weights` for multilabel data should be handled outside of "
            "`update_confusion_matrix` when `multi_label` is True."
        )
    invalid = [key for key in variables if key not in CONFUSION_KEYS]
    if invalid or not variables:
        raise ValueError(
            f"Invalid confusion matrix keys: {invalid or list(variables)}. "
            f"Valid keys are {list(CONFUSION_KEYS)}."
        )
    first = next(iter(variables.values()))
    dtype, device = first.dtype, first.device
    y_pred = _as(y_pred, device, dtype)
    y_true = _as(y_true, device, dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = _as(sample_weight, device, dtype).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(
            y_true, sample_weight, expand_rank_1=False
        )
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}"
            )
        y_true = y_true[..., class_id : class_id + 1]
        y_pred = y_pred[..., class_id : class_id + 1]

    # (N, 2) (or (N, L, 2) per label): the weight each sample adds to "positive" / "negative".
    labels = (y_true != 0).to(dtype)
    pair = torch.stack([labels, 1 - labels], dim=-1)
    if sample_weight is not None:
        pair = pair * sample_weight.unsqueeze(-1)
    if label_weights is not None:
        pair = pair * label_weights.to(device, dtype).unsqueeze(-1)
    pair = torch.broadcast_to(pair, (*y_pred.shape, 2))
    if multi_label:  # one curve per label (last axis); samples are the reduction axis
        preds, pair = y_pred.reshape(-1, y_pred.shape[-1]), pair.reshape(-1, y_pred.shape[-1], 2)
    else:
        preds, pair = y_pred.reshape(-1), pair.reshape(-1, 2)

    if evenly:
        counts = _bucketed_counts(preds, pair, thresholds.shape[0], with_epsilon)
    else:
        # (T, N) comparison; the reduction over samples is a matrix product.
        above = (preds.unsqueeze(0) > _expand_thresholds(thresholds, preds)).to(dtype)
        counts = above @ pair if preds.ndim == 1 else torch.einsum("tnl,nlk->tlk", above, pair)
    # counts[..., 0] = true positives, counts[..., 1] = false positives at each threshold.
    if "tp" in variables:
        variables["tp"].add_(counts[..., 0])
    if "fp" in variables:
        variables["fp"].add_(counts[..., 1])
    if "fn" in variables or "tn" in variables:
        below = pair.sum(dim=0) - counts  # [false negatives, true negatives]
        if "fn" in variables:
            variables["fn"].add_(below[..., 0])
        if "tn" in variables:
            variables["tn"].add_(below[..., 1])


def _as(value: Any, device: torch.device, dtype: torch.dtype) -> Tensor:
    """``value`` as a tensor on ``device`` with ``dtype`` (no copy when it already is one)."""
    if isinstance(value, Tensor) and value.device == device and value.dtype == dtype:
        return value
    return torch.as_tensor(value, device=device).to(dtype)


def _expand_thresholds(thresholds: Tensor, preds: Tensor) -> Tensor:
    return thresholds.reshape(-1, *([1] * preds.ndim)).to(preds.dtype)


def _bucketed_counts(
    preds: Tensor, pair: Tensor, num_thresholds: int, with_epsilon: bool
) -> Tensor:
    """``(T, [L,] 2)`` positive/negative weight above ``T`` evenly spaced thresholds, from one
    bucket index per prediction and one histogram."""
    # Keras's bucket is ceil(p * (T - 1)) - 1, raised to 0 with the -eps endpoint. Bucket -1 (a
    # prediction of exactly 0 without that endpoint) is positive nowhere, so bins are shifted by
    # one and bin 0 is dropped after counting: the shifted index is just the ceil.
    index = torch.ceil(preds.clamp(0.0, 1.0) * (num_thresholds - 1))
    if with_epsilon:
        index = index.clamp_min(1.0)
    # A NaN prediction (a diverged model) is positive nowhere, as in the comparison path.
    index = torch.nan_to_num(index, nan=0.0).long()
    labels = preds.shape[1] if preds.ndim == 2 else 1
    if preds.ndim == 2:  # multi-label: bin (bucket, label) pairs in one flat histogram
        index = index * labels + torch.arange(labels, device=preds.device)
    binned = torch.zeros((num_thresholds + 1) * labels, 2, dtype=preds.dtype, device=preds.device)
    binned.index_add_(0, index.reshape(-1), pair.reshape(-1, 2))
    binned = binned.reshape(num_thresholds + 1, labels, 2)[1:]
    # Positive at threshold i <=> bucket >= i: a reversed cumulative sum over the buckets.
    counts = binned.flip(0).cumsum(0).flip(0)
    return counts.squeeze(1) if preds.ndim == 1 else counts
