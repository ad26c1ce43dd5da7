"""``kseq.Model(module)``: Keras's training API on an existing ``torch.nn.Module``, unchanged.

``kseq.Model(net)`` (one ``nn.Module`` positional argument) returns a :class:`ModuleModel`. It shares
the network's own parameter and buffer dicts and its children, so ``model.state_dict()`` has the
network's keys, ``model.parameters()`` yields the network's ``nn.Parameter`` objects and a call runs
``net(...)`` (its ``forward`` and hooks). The network object itself is not modified (no class change,
no new attributes); ``model.module`` is it.

Inputs: a list or tuple is unpacked into ``forward``'s positional arguments when ``forward`` takes
several of them, and a dict becomes keyword arguments when its keys are ``forward``'s parameter
names. Saving a ``.keras`` file records the network's class only (never pickled code); loading it
needs a factory: ``load_model(path, custom_objects={"Net": Net})``.

Example:
    >>> import torch, kseq
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    >>> model = kseq.Model(net)
    >>> list(model.state_dict()) == list(net.state_dict()), model.count_params()
    (True, 21)
    >>> model.compile(optimizer="adam", loss="mse")
    >>> model.fit(torch.randn(8, 3), torch.randn(8, 1), epochs=1, verbose=0).epoch
    [0]
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from kseq.layers.torch_module_wrapper import module_from_factory
from kseq.models.model import Model
from kseq.registry.namespace import MODELS

__all__ = ["ModuleModel"]


class ModuleModel(Model):
    """A :class:`~kseq.Model` face on a plain ``torch.nn.Module`` (made by ``kseq.Model(module)``).

    Args:
        module: The network; its parameters, buffers, ``state_dict`` keys and ``forward`` are kept.
        name: Model name (auto-named from the network's class when omitted).
        trainable: Whether its weights are trained.

    Example:
        >>> import torch
        >>> model = ModuleModel(torch.nn.Linear(2, 1))
        >>> model(torch.ones(1, 2)).shape, model.module.weight is model.weight
        (torch.Size([1, 1]), True)
    """

    def __init__(
        self, module: nn.Module, name: str | None = None, trainable: bool = True, **kwargs: Any
    ) -> None:
        if not isinstance(module, nn.Module):
            raise ValueError(
                f"kseq.Model(module) takes a torch.nn.Module. Received: {module!r} "
                f"(of type {type(module)})."
            )
        super().__init__(name=name, trainable=trainable, **kwargs)
        object.__setattr__(self, "module", module)  # not a child: its children are ours
        # Share the network's own tables: same objects, same state_dict keys.
        self._parameters = module._parameters
        self._buffers = module._buffers
        self._non_persistent_buffers_set = module._non_persistent_buffers_set
        self._modules.update(module._modules)
        self.training = module.training
        self._forward_params = _forward_parameters(module)
        # Built as given: torch's own Lazy* hooks materialize a lazy network on its first call.
        self._remove_build_hook()
        self.built = True

    # ------------------------------------------------------------- torch face
    def train(self, mode: bool = True) -> ModuleModel:
        """``nn.Module.train``, also on the network itself."""
        super().train(mode)
        self.module.training = mode
        return self

    def _save_to_state_dict(
        self, destination: dict[str, Any], prefix: str, keep_vars: bool
    ) -> None:
        nn.Module._save_to_state_dict(self, destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any) -> None:
        nn.Module._load_from_state_dict(self, state_dict, prefix, *args)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``module(...)``: a list/tuple unpacked into positional, a dict into keyword arguments."""
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        if len(args) == 1 and not kwargs:
            args, kwargs = self._unpack(args[0])
        return self.module(*args, **kwargs)

    def _unpack(self, inputs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        positional, names, has_var = self._forward_params
        if isinstance(inputs, (list, tuple)) and (len(positional) > 1 or has_var):
            return tuple(inputs), {}
        if isinstance(inputs, Mapping) and inputs and set(inputs) <= names:
            return (), dict(inputs)
        if isinstance(inputs, Mapping) and len(positional) > 1:
            raise ValueError(
                f"Model {self.name!r} got a dict of inputs with keys {sorted(inputs)}, but "
                f"{type(self.module).__name__}.forward takes {positional}. Name the dict keys after "
                "forward's parameters, or pass a list in forward's order."
            )
        return (inputs,), {}

    # ------------------------------------------------------------- Keras face
    def _build_from_data_shape(self, input_shape: Any) -> None:
        if _is_lazy(self.module) and isinstance(input_shape, tuple):
            with torch.no_grad():
                was_training = self.training
                self.eval()
                device = next(iter(self.buffers()), torch.zeros(())).device
                self(torch.zeros((1, *input_shape[1:]), device=device))
                self.train(was_training)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape from one run on zeros (lists/dicts of shapes for multi-input networks)."""
        tensor = next(iter(self.parameters()), None)
        device = tensor.device if tensor is not None else torch.device("cpu")

        def zeros(shape: Any) -> Any:
            if isinstance(shape, Mapping):
                return {k: zeros(v) for k, v in shape.items()}
            if isinstance(shape, list) or (shape and isinstance(shape[0], (list, tuple))):
                return [zeros(s) for s in shape]
            return torch.zeros((1, *[1 if d is None else d for d in shape[1:]]), device=device)

        was_training = self.training
        self.eval()
        try:
            with torch.no_grad(), torch.random.fork_rng(devices=[]):
                out = self(zeros(input_shape))
        finally:
            self.train(was_training)
        if not isinstance(out, torch.Tensor):
            return [(None, *o.shape[1:]) for o in out]
        return (None, *out.shape[1:])

    def summary_rows(self) -> list[Any]:
        """One summary row per direct child of the network (name, torch class, parameters)."""
        return [_ChildRow(name, child) for name, child in self.module.named_children()]

    def get_config(self) -> dict[str, Any]:
        """The name, trainable flag and the network's class (never the network itself)."""
        cls = type(self.module)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "module": f"{cls.__module__}.{cls.__qualname__}",
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModuleModel:
        """Rebuild from ``get_config()``: the network comes from a factory in ``custom_objects``."""
        config = dict(config)
        config.pop("dtype", None)
        module = module_from_factory(config.pop("module"), config.get("name"), "kseq.Model")
        return cls(module, **config)


class _ChildRow:
    """What ``summary()`` prints for one child module of a wrapped network."""

    def __init__(self, name: str, module: nn.Module) -> None:
        self.name = name
        self.summary_type = type(module).__name__
        self.built = True
        self._build_output_shape = None
        self.weights = list(module.parameters())
        self.trainable = any(p.requires_grad for p in self.weights)

    def count_params(self) -> int:
        return sum(math.prod(p.shape) for p in self.weights)


def _forward_parameters(module: nn.Module) -> tuple[list[str], frozenset[str], bool]:
    """``forward``'s positional parameter names, all its keyword names, and whether it has ``*args``."""
    try:
        params = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return [], frozenset(), True
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p.name for p in params if p.kind in kinds]
    names = frozenset(p.name for p in params if p.kind is not inspect.Parameter.VAR_POSITIONAL)
    has_var = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    return positional, names, has_var


def _is_lazy(module: nn.Module) -> bool:
    return any(
        isinstance(m, nn.modules.lazy.LazyModuleMixin) and m.has_uninitialized_params()
        for m in module.modules()
    )


MODELS.register(ModuleModel)  # `Model(module)` dispatches here (see Model.__new__)
MODELS.register(ModuleModel)
