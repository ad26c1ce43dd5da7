"""``kseq.optimizers``: Keras optimizers (arguments, defaults, numerics) on torch kernels.

SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Ftrl, Lion, Adafactor and Lamb follow
Keras's update formulas and variable order (Adam/AdamW/Adadelta run torch's fused/foreach
kernels, whose formulas equal Keras's; the others are ``torch._foreach_*`` updates). A raw
``torch.optim.Optimizer`` passed to ``compile`` is wrapped in :class:`TorchOptimizer`. Not ported:
``LossScaleOptimizer`` (kseq's mixed precision scales the loss itself), ``MultiOptimizer``,
``Muon`` and ``ScheduleFreeAdamW``. Unlike Keras, an ``int`` learning rate is accepted and
``"lamb"`` resolves by name.

``get`` resolves an optimizer name (case-insensitive), config dict, instance, class, or a raw
``torch.optim.Optimizer`` (wrapped in :class:`TorchOptimizer`); ``names()`` lists the valid
strings (lower-case class names); ``serialize`` gives an optimizer's config dict and
``deserialize`` is its inverse.

Example:
    >>> type(get("adam")).__name__, get("adam").epsilon
    ('Adam', 1e-07)
    >>> get("SGD").get_config()["learning_rate"], "rmsprop" in names()
    (0.01, True)
    >>> serialize(SGD())["class_name"]
    'SGD'
    >>> deserialize({"class_name": "Adam", "config": {"learning_rate": 0.01}}).learning_rate
    0.01
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch

from kseq.core.not_ported import missing as _missing
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
from kseq.registry.namespace import Namespace as _Namespace

# Importable from here as before (kseq's public API snapshot lists them).
from kseq.registry.serialization import deserialize_keras_object as deserialize_keras_object
from kseq.registry.serialization import resolve_class as resolve_class
from kseq.registry.serialization import serialize_keras_object as serialize_keras_object


class _Optimizers(_Namespace):
    """Names are case-insensitive and built-ins win over registered objects (Keras's lookup); an
    optimizer instance is returned as is, a raw ``torch.optim.Optimizer`` is wrapped in
    :class:`TorchOptimizer`, and a torch optimizer *class* is a ``TypeError`` saying what to pass."""

    def names(self) -> list[str]:
        """Valid optimizer strings (lower-case class names; lookup is case-insensitive)."""
        return sorted(k for k in self.table if k.islower())

    def lookup(self, name: str, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """The built-in optimizer class ``name`` names in any case, else a registered object."""
        lower = {k: v for k, v in self.table.items() if k.islower()}
        return self.table.get(name.lower()) or resolve_class(self.kind, name, lower, custom_objects)

    def get(self, identifier: Any) -> Optimizer:
        """Resolve an optimizer name, config dict, instance, class or raw ``torch.optim.Optimizer``."""
        if isinstance(identifier, Optimizer):
            return identifier
        if isinstance(identifier, torch.optim.Optimizer):
            return TorchOptimizer(identifier)
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, str):
            return self.from_name(identifier)
        if inspect.isclass(identifier) and issubclass(identifier, Optimizer):
            return identifier()
        if inspect.isclass(identifier) and issubclass(identifier, torch.optim.Optimizer):
            raise TypeError(
                f"compile() received the torch optimizer class {identifier.__name__}; pass an instance "
                f"(e.g. {identifier.__name__}(model.parameters(), lr=1e-3)) or a kseq optimizer such as 'adam'."
            )
        raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


_OPTIMIZERS = _Optimizers("optimizer", "optimizers", "keras.optimizers")
_ALL = _OPTIMIZERS.table


def register_builtin(*classes: type[Optimizer]) -> None:
    """Add built-in optimizer classes (looked up case-insensitively by class name).

    Example:
        >>> register_builtin(SGD); "sgd" in names()
        True
    """
    _OPTIMIZERS.register(*classes, aliases={cls.__name__.lower(): cls for cls in classes})


# "lamb" resolves too, although Keras 3.15's lookup table misses it.
register_builtin(
    Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, Ftrl, Lamb, Lion, Nadam, RMSprop, SGD
)

names = _OPTIMIZERS.names
get = _OPTIMIZERS.get
serialize = _OPTIMIZERS.serialize
deserialize = _OPTIMIZERS.deserialize


def __getattr__(name: str) -> object:
    # A Keras name kseq does not have says why, and what to write instead (core/not_ported.py).
    raise _missing("kseq.optimizers", name)
