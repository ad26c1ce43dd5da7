"""Metric-learning loss: Circle loss (Sun et al., 2020) over a batch of embeddings.

``y_true`` holds integer class labels ``(N,)`` and ``y_pred`` L2-normalised embeddings ``(N, D)``.
Every pair with equal labels is a positive, every other pair a negative; the per-sample loss is
masked out of the mean where it is zero (a sample without positives or with all pairs well
separated), as in Keras.

Example:
    >>> import torch
    >>> emb = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]), dim=-1)
    >>> round(circle(torch.tensor([0, 0, 1]), emb).sum().item(), 3)
    0.0
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq.losses.loss import LossFunctionWrapper


def positive_negative_masks(
    query_labels: Tensor, key_labels: Tensor, remove_diagonal: bool = True
) -> tuple[Tensor, Tensor]:
    """Boolean ``(Nq, Nk)`` masks of same-label (positive) and different-label (negative) pairs;
    ``remove_diagonal`` drops each query's pairing with itself from the positives.

    Example:
        >>> pos, neg = positive_negative_masks(torch.tensor([0, 0, 1]), torch.tensor([0, 0, 1]))
        >>> pos.int().tolist(), neg.int().tolist()
        ([[0, 1, 0], [1, 0, 0], [0, 0, 0]], [[0, 0, 1], [0, 0, 1], [1, 1, 0]])
    """
    positive = query_labels.reshape(-1, 1) == key_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        eye = torch.eye(
            positive.shape[0], positive.shape[1], dtype=torch.bool, device=positive.device
        )
        positive = positive & ~eye
    return positive, negative


def circle(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any = None,
    ref_embeddings: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80.0,
    margin: float = 0.4,
) -> Tensor:
    """Per-sample Circle loss of embeddings ``y_pred`` with labels ``y_true`` against reference
    embeddings/labels (default: the batch itself).

    Example:
        >>> emb = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), dim=-1)
        >>> [round(v, 2) for v in circle(torch.tensor([0, 0, 1]), emb, gamma=1.0).tolist()]
        [1.45, 1.45, 0.0]
    """
    y_pred = y_pred if isinstance(y_pred, Tensor) else torch.as_tensor(y_pred)
    labels = torch.as_tensor(y_true, device=y_pred.device).long()
    ref_embeddings = y_pred if ref_embeddings is None else torch.as_tensor(ref_embeddings)
    ref_labels = labels if ref_labels is None else torch.as_tensor(ref_labels).long()
    distances = (1.0 - y_pred @ ref_embeddings.T).clamp(min=0.0)
    positive, negative = positive_negative_masks(labels, ref_labels, remove_diagonal)
    pos_weights = ((margin + distances) * positive).clamp(min=0.0)
    neg_weights = ((1.0 + margin - distances) * negative).clamp(min=0.0)
    pos_terms = -gamma * pos_weights * (margin - distances)
    neg_terms = gamma * neg_weights * (1.0 - margin - distances)
    # Keras fills excluded pairs with -inf; the most negative finite float gives the same values
    # without NaN gradients for rows that have no positive (or no negative) pair.
    lowest = torch.full_like(distances, torch.finfo(distances.dtype).min)
    p_loss = torch.logsumexp(torch.where(positive, pos_terms, lowest), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_terms, lowest), dim=1)
    loss = F.softplus(p_loss + n_loss)
    loss._keras_mask = loss > 0  # type: ignore[attr-defined]
    return loss


class Circle(LossFunctionWrapper):
    """Circle loss: pulls same-label embeddings together and pushes the others apart, weighting
    each pair by how far it is from its optimum.

    Args:
        gamma: Scale of the pair similarities.
        margin: Relaxation margin (optima ``1 + margin`` / ``-margin``, decision margins
            ``1 - margin`` / ``margin``).
        remove_diagonal: Do not pair a sample with itself.
        reduction, name, dtype: As for every ``Loss``.

    Example:
        >>> emb = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), dim=-1)
        >>> round(float(Circle(gamma=1.0)(torch.tensor([0, 0, 1]), emb)), 2)  # mean over the 2 non-zero
        1.45
    """

    sparse_targets = True

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction: str | None = "sum_over_batch_size",
        name: str = "circle",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            circle,
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal
