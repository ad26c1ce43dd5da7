"""``kseq.optimizers``: Keras optimizers (arguments, defaults, numerics) on torch kernels.

SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Ftrl, Lion, Adafactor and Lamb follow
Keras's update formulas and variable order (Adam/AdamW/Adadelta run torch's fused/foreach
kernels, whose formulas equal Keras's; the others are ``torch._foreach_*`` updates). A raw
``torch.optim.Optimizer`` passed to ``compile`` is wrapped in :class:`TorchOptimizer`. Not ported:
``LossScaleOptimizer`` (kseq's mixed precision scales the loss itself), ``MultiOptimizer``,
``Muon`` and ``ScheduleFreeAdamW``. Unlike Keras, an ``int`` learning rate is accepted and
``"lamb"`` resolves by name.

Example:
    >>> type(get("adam")).__name__, get("adam").epsilon
    ('Adam', 1e-07)
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from kseq.optimizers import schedules as schedules
from kseq.optimizers.adadelta import Adadelta as Adadelta
from kseq.optimizers.adafactor import Adafactor as Adafactor
from kseq.optimizers.adagrad import Adagrad as Adagrad
from kseq.optimizers.adam import Adam as Adam
from kseq.optimizers.adam import AdamW as AdamW
from kseq.optimizers.adamax import Adamax as Adamax
from kseq.optimizers.ftrl import Ftrl as Ftrl
from kseq.optimizers.lamb import Lamb as Lamb
from kseq.optimizers.lion import Lion as Lion
from kseq.optimizers.nadam import Nadam as Nadam
from kseq.optimizers.optimizer import Optimizer as Optimizer
from kseq.optimizers.rmsprop import RMSprop as RMSprop
from kseq.optimizers.sgd import SGD as SGD
from kseq.optimizers.torch_backed import TorchBackedOptimizer as TorchBackedOptimizer
from kseq.optimizers.torch_optimizer import TorchOptimizer as TorchOptimizer
from kseq.registry.serialization import (
    deserialize_keras_object,
    resolve_class,
    serialize_keras_object,
)

_ALL: dict[str, Any] = {}


def register_builtin(*classes: type[Optimizer]) -> None:
    """Add built-in optimizer classes (looked up case-insensitively by class name)."""
    for cls in classes:
        _ALL[cls.__name__.lower()] = cls
        _ALL[cls.__name__] = cls


# "lamb" resolves too, although Keras 3.15's lookup table misses it.
register_builtin(
    Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, Ftrl, Lamb, Lion, Nadam, RMSprop, SGD
)


def names() -> list[str]:
    """Valid optimizer strings (lower-case class names; lookup is case-insensitive).

    Example:
        >>> "rmsprop" in names()
        True
    """
    return sorted(k for k in _ALL if k.islower())


def get(identifier: Any) -> Optimizer:
    """Resolve an optimizer name (case-insensitive), config dict, instance, class, or a raw
    ``torch.optim.Optimizer`` (wrapped in :class:`TorchOptimizer`).

    Example:
        >>> get("SGD").get_config()["learning_rate"]
        0.01
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, torch.optim.Optimizer):
        return TorchOptimizer(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _ALL.get(identifier.lower()) or resolve_class(
            "optimizer", identifier, {k: v for k, v in _ALL.items() if k.islower()}
        )
        return cls()
    if inspect.isclass(identifier) and issubclass(identifier, Optimizer):
        return identifier()
    if inspect.isclass(identifier) and issubclass(identifier, torch.optim.Optimizer):
        raise TypeError(
            f"compile() received the torch optimizer class {identifier.__name__}; pass an instance "
            f"(e.g. {identifier.__name__}(model.parameters(), lr=1e-3)) or a kseq optimizer such as 'adam'."
        )
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


def serialize(optimizer: Optimizer) -> dict[str, Any] | None:
    """Config dict of an optimizer.

    Example:
        >>> serialize(SGD())["class_name"]
        'SGD'
    """
    return serialize_keras_object(optimizer, "keras.optimizers", _ALL)


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
    """Inverse of :func:`serialize`.

    Example:
        >>> deserialize({"class_name": "Adam", "config": {"learning_rate": 0.01}}).learning_rate
        0.01
    """
    return deserialize_keras_object(config, "optimizer", _ALL, custom_objects)
