"""Maximum-margin losses: hinge, squared hinge and categorical hinge.

Binary targets may be given as ``{0, 1}`` or ``{-1, 1}``: when every target is 0 or 1 they are
mapped to ``-1``/``1``, as Keras does. The check is a device-side ``torch.where`` (no host sync).

Example:
    >>> import torch
    >>> hinge(torch.tensor([[0.0, 1.0]]), torch.tensor([[-0.5, 0.5]]))
    tensor([0.5000])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.losses.loss import LossFunctionWrapper, convert_pair


def signed_binary_labels(y_true: Tensor) -> Tensor:
    """``2 * y - 1`` when every target is 0 or 1, else the targets unchanged.

    Example:
        >>> signed_binary_labels(torch.tensor([0.0, 1.0])), signed_binary_labels(torch.tensor([-1.0, 1.0]))
        (tensor([-1.,  1.]), tensor([-1.,  1.]))
    """
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def _margins(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = convert_pair(y_true, y_pred)
    return torch.clamp(1.0 - signed_binary_labels(y_true) * y_pred, min=0.0)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(maximum(1 - y_true * y_pred, 0), axis=-1)``.

    Example:
        >>> hinge(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.25, -2.0]]))
        tensor([0.3750])
    """
    return _margins(y_true, y_pred).mean(dim=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)``.

    Example:
        >>> squared_hinge(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5, -2.0]]))
        tensor([0.1250])
    """
    return _margins(y_true, y_pred).square().mean(dim=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """``maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` for one-hot targets.

    Example:
        >>> categorical_hinge(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.3, 0.6]]))
        tensor([0.7000])
    """
    y_true, y_pred = convert_pair(y_true, y_pred)
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


class Hinge(LossFunctionWrapper):
    """Hinge loss for ``{-1, 1}`` (or ``{0, 1}``) targets and real-valued scores.

    Example:
        >>> float(Hinge()(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.25, -2.0]])))
        0.375
    """

    def __init__(
        self, reduction: str | None = "sum_over_batch_size", name: str = "hinge", dtype: Any = None
    ) -> None:
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss for ``{-1, 1}`` (or ``{0, 1}``) targets.

    Example:
        >>> float(SquaredHinge()(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5, -2.0]])))
        0.125
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "squared_hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss for one-hot targets: the margin of the true class over the best
    wrong one.

    Example:
        >>> round(float(CategoricalHinge()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.3, 0.6]]))), 4)
        0.7
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)
