"""Keras weight constraints: projections applied to a weight after every optimizer step.

A constraint sees the weight in *Keras layout* (Dense kernel ``(in, out)``, Conv2D kernel
``(kh, kw, in, out)``), so ``axis`` arguments mean what they mean in Keras.

``get`` resolves a name (``"max_norm"``, ``"NonNeg"``), a config dict, an instance or a callable;
``serialize`` gives ``{"module", "class_name", "config", "registered_name"}`` (``None`` stays
``None``) and ``deserialize`` is its inverse.

Example:
    >>> import torch
    >>> get("non_neg")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> type(get("unit_norm")).__name__, serialize(MaxNorm(3))["config"]
    ('UnitNorm', {'max_value': 3, 'axis': 0})
    >>> type(deserialize({"class_name": "NonNeg", "config": {}})).__name__
    'NonNeg'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq import config
from kseq.registry.namespace import Namespace as _Namespace

# Importable from here as before (kseq's public API snapshot lists them).
from kseq.registry.serialization import deserialize_keras_object as deserialize_keras_object
from kseq.registry.serialization import resolve_class as resolve_class
from kseq.registry.serialization import serialize_keras_object as serialize_keras_object

Axis = int | Sequence[int]


def _norms(w: Tensor, axis: Axis) -> Tensor:
    dims = tuple(axis) if isinstance(axis, Sequence) else (axis,)
    return torch.sqrt(torch.sum(w.square(), dim=dims, keepdim=True))


class Constraint:
    """Base class: ``__call__(w) -> projected w`` and ``get_config``.

    Example:
        >>> Constraint()(torch.tensor([1.0]))
        tensor([1.])
    """

    def __call__(self, w: Tensor) -> Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


class MaxNorm(Constraint):
    """Rescale so the norm along ``axis`` is at most ``max_value`` (default 2, axis 0).

    Example:
        >>> MaxNorm(1.0)(torch.tensor([[3.0], [4.0]])).squeeze()
        tensor([0.6000, 0.8000])
    """

    def __init__(self, max_value: float = 2, axis: Axis = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def __call__(self, w: Tensor) -> Tensor:
        norms = _norms(w, self.axis)
        return w * (torch.clamp(norms, 0, self.max_value) / (config.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Clip negative weights to zero.

    Example:
        >>> NonNeg()(torch.tensor([-1.0, 1.0]))
        tensor([0., 1.])
    """

    def __call__(self, w: Tensor) -> Tensor:
        return torch.clamp(w, min=0.0)


class UnitNorm(Constraint):
    """Rescale to unit norm along ``axis`` (default 0).

    Example:
        >>> UnitNorm()(torch.tensor([[3.0], [4.0]])).squeeze()
        tensor([0.6000, 0.8000])
    """

    def __init__(self, axis: Axis = 0) -> None:
        self.axis = axis

    def __call__(self, w: Tensor) -> Tensor:
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move the norm along ``axis`` towards ``[min_value, max_value]`` at ``rate``.

    Example:
        >>> MinMaxNorm(0.0, 1.0)(torch.tensor([[3.0], [4.0]])).squeeze()
        tensor([0.6000, 0.8000])
    """

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0
    ) -> None:
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w: Tensor) -> Tensor:
        norms = _norms(w, self.axis)
        desired = (
            self.rate * torch.clamp(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        )
        return w * (desired / (config.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


_ALL: dict[str, type[Constraint]] = {
    "Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
    "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
}  # fmt: skip


_CONSTRAINTS = _Namespace(
    "constraint", "constraints", "keras.constraints", table=_ALL, deserialize_none=True
)
get = _CONSTRAINTS.get
serialize = _CONSTRAINTS.serialize
# Keras's lower-case aliases: the classes themselves (``keras.constraints.max_norm is MaxNorm``).
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
deserialize = _CONSTRAINTS.deserialize
