"""Keras weight/activity regularizers: callables ``tensor -> scalar penalty`` added to the loss.

Layers take them as ``kernel_regularizer=``, ``bias_regularizer=`` and ``activity_regularizer=``;
the penalties appear in ``model.losses`` and are added to the training loss, as in Keras. Weight
penalties are computed on the *Keras-layout* view of a weight (Dense kernel ``(in, out)``).

``get`` resolves ``"l1"``, ``"l2"``, ``"l1_l2"``, a config dict, an instance or a callable;
``serialize`` gives ``{"module", "class_name", "config", "registered_name"}`` (``None`` stays
``None``) and ``deserialize`` is its inverse.

Example:
    >>> import torch
    >>> round(float(get("l2")(torch.ones(2, 2))), 6)
    0.04
    >>> get("l1_l2").get_config(), serialize(L2(0.1))["config"]
    ({'l1': 0.01, 'l2': 0.01}, {'l2': 0.1})
    >>> type(deserialize({"class_name": "L1", "config": {"l1": 0.1}})).__name__
    'L1'
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq import config
from kseq.registry.namespace import Namespace as _Namespace

# Importable from here as before (kseq's public API snapshot lists them).
from kseq.registry.serialization import deserialize_keras_object as deserialize_keras_object
from kseq.registry.serialization import resolve_class as resolve_class
from kseq.registry.serialization import serialize_keras_object as serialize_keras_object


def _validate_float(value: Any, name: str) -> float:
    if not isinstance(value, (float, int)) or math.isinf(value) or math.isnan(value) or value < 0:
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. Received: {name}={value}"
        )
    return float(value)


class Regularizer:
    """Base class: ``__call__(x) -> Tensor`` (a scalar penalty) and ``get_config``.

    Example:
        >>> class Sum(Regularizer):
        ...     def __call__(self, x):
        ...         return x.sum()
        >>> float(Sum()(torch.ones(3)))
        3.0
    """

    def __call__(self, x: Tensor) -> Tensor:
        return torch.zeros((), dtype=x.dtype, device=x.device)

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``.

    Example:
        >>> float(L1L2(l1=0.5, l2=0.5)(torch.ones(2)))
        2.0
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _validate_float(l1, "l1")
        self.l2 = _validate_float(l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        out = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            out = out + self.l1 * x.abs().sum()
        if self.l2:
            out = out + self.l2 * x.square().sum()
        return out

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)`` (default ``l1=0.01``).

    Example:
        >>> float(L1(0.5)(torch.tensor([-2.0, 2.0])))
        2.0
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _validate_float(l1, "l1")

    def __call__(self, x: Tensor) -> Tensor:
        return self.l1 * x.abs().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)`` (default ``l2=0.01``).

    Example:
        >>> float(L2(0.5)(torch.tensor([2.0])))
        2.0
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _validate_float(l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        return self.l2 * x.square().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalise non-orthogonality of the rows (or columns) of a rank-2 weight.

    ``factor * 0.5 * sum(|off-diagonal of N N^T|) / num_pairs`` with ``N`` the L2-normalised rows.

    Example:
        >>> float(OrthogonalRegularizer(factor=1.0)(torch.eye(3)))
        0.0
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _validate_float(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f'Invalid value for argument `mode`. Expected one of {{"rows", "columns"}}. Received: mode={mode}'
            )
        self.mode = mode

    def __call__(self, x: Tensor) -> Tensor:
        if x.ndim != 2:
            raise ValueError(
                f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={tuple(x.shape)}"
            )
        if self.mode == "rows":
            n = F.normalize(x, dim=1, eps=config.epsilon())
            product, size = n @ n.T, x.shape[0]
        else:
            n = F.normalize(x, dim=0, eps=config.epsilon())
            product, size = n.T @ n, x.shape[1]
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        return self.factor * 0.5 * off_diagonal.abs().sum() / (size * (size - 1.0) / 2.0)

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


# Keras's lowercase aliases (``keras.regularizers.l2(1e-3)``).
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

_ALL: dict[str, type[Regularizer]] = {
    "Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer,
    "l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer,
}  # fmt: skip


class _Regularizers(_Namespace):
    """The string ``"l1_l2"`` gives ``L1L2(l1=0.01, l2=0.01)``: Keras documents 0.01 / 0.01 for
    it (Keras 3.15 itself rejects it), while ``L1L2()`` defaults to zeros."""

    def from_name(self, name: str) -> Any:
        """``get("l1_l2")`` is ``L1L2(0.01, 0.01)``; other names as in :class:`Namespace`."""
        if name == "l1_l2":
            return L1L2(l1=0.01, l2=0.01)
        return super().from_name(name)


_REGULARIZERS = _Regularizers(
    "regularizer", "regularizers", "keras.regularizers", table=_ALL, deserialize_none=True
)
get = _REGULARIZERS.get
serialize = _REGULARIZERS.serialize
deserialize = _REGULARIZERS.deserialize
