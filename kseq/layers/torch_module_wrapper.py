"""``TorchModuleWrapper``: any plain ``torch.nn.Module`` as a kseq layer (Keras 3's wrapper).

The module stays itself: it is registered as the wrapper's ``module`` child, so its parameters and
buffers are the layer's weights (the same tensor objects), ``model.train()``/``eval()`` (and so
``fit``/``predict``) reach it, and its ``state_dict`` keys appear under ``module.``. The output shape
is found by running the module once on the known input shape -- under a fake-tensor (meta) mode
when the module allows it, else on a tiny real batch under ``no_grad`` with the RNG state restored.
``torch.nn.Lazy*`` modules are materialized by that build, on the module's device and dtype.

Saving: ``get_config`` records the module's class name only; a file never holds pickled code. To
load a ``.keras`` file, pass a factory: ``load_model(path, custom_objects={"MyBlock": MyBlock})``
(the class, called without arguments) or ``{"LayerNorm": lambda: torch.nn.LayerNorm(32)}``, keyed by
the layer name, the class name or its full path (``torch.nn.modules.normalization.LayerNorm``);
the weights then come from the file. Without one, loading raises a ``ValueError`` naming the key.

Example:
    >>> import torch, kseq
    >>> model = kseq.Sequential([kseq.Input((4,)), torch.nn.Linear(4, 2), torch.nn.GELU()])
    >>> [type(layer).__name__ for layer in model.layers], model.output_shape, model.count_params()
    (['TorchModuleWrapper', 'TorchModuleWrapper'], (None, 2), 10)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode

from kseq import config as config_mod
from kseq.core.naming import auto_name
from kseq.layers.layer import Layer
from kseq.registry.object_registration import get_registered_object

__all__ = ["TorchModuleWrapper"]


class TorchModuleWrapper(Layer):
    """Wrap a ``torch.nn.Module`` as a layer (``Sequential`` does this for any module it is given).

    Args:
        module: The ``torch.nn.Module`` (``torch.nn.Lazy*`` modules included).
        name: Layer name; defaults to the snake-cased torch class (``layer_norm``, ``residual_block``).
        output_shape: The output shape (batch dim included); found by running the module when omitted.
        **kwargs: Base ``Layer`` arguments (``trainable``, ``dtype``...).

    Example:
        >>> import torch
        >>> layer = TorchModuleWrapper(torch.nn.LazyLinear(3))
        >>> layer.build_from_shape((None, 5)), layer.count_params()
        ((None, 3), 18)
    """

    def __init__(
        self,
        module: nn.Module,
        name: str | None = None,
        output_shape: Sequence[int | None] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(module, nn.Module) or isinstance(module, Layer):
            raise ValueError(
                "TorchModuleWrapper wraps a plain `torch.nn.Module`. Received: "
                f"module={module!r} (of type {type(module)}). A kseq layer needs no wrapper."
            )
        super().__init__(name=name or auto_name(type(module).__name__), **kwargs)
        self.module = module
        self._probed_shapes: dict[str, Any] = {}
        self._output_shape_arg = None if output_shape is None else tuple(output_shape)
        if not _is_lazy(module):
            self.built = True  # weights exist already (Keras builds the wrapper at construction)

    def build(self, input_shape: Any) -> None:
        """Run the module once on ``input_shape`` (materializing ``Lazy*`` modules)."""
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """``output_shape`` when given, else the shape found by running the module."""
        if self._output_shape_arg is not None:
            return self._output_shape_arg
        key = repr(input_shape)
        if key not in self._probed_shapes:  # one run per input shape, then remembered
            self._probed_shapes[key] = self._probe(input_shape)
        return self._probed_shapes[key]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """``module(*args, **kwargs)``; ``training=`` is not passed on (the module's own mode is)."""
        kwargs.pop("training", None)
        return self.module(*args, **kwargs)

    # -------------------------------------------------------------- probing
    def _probe(self, input_shape: Any) -> Any:
        """The output shape of one run; dims that change with ``None`` input dims are ``None``."""
        if isinstance(input_shape, list):
            raise ValueError(
                f"TorchModuleWrapper '{self.name}' infers its output shape from one input tensor; "
                f"received input shapes {input_shape}. Pass `output_shape=` to the wrapper."
            )
        shape = tuple(input_shape)
        if _is_lazy(self.module):
            first = self._run(shape, 2, real=True)
        else:
            first = self._run(shape, 2, real=False)
        if all(d is not None for d in shape[1:]):
            return _with_batch_none(first)
        second = self._run(shape, 3, real=False)
        return _merge(first, second)

    def _run(self, shape: tuple[int | None, ...], fill: int, real: bool) -> Any:
        sizes = tuple(fill if d is None else d for d in shape)
        tensor = next(iter(self.module.parameters()), None)
        device = tensor.device if tensor is not None else torch.device("cpu")
        dtype = tensor.dtype if tensor is not None and tensor.is_floating_point() else None
        dtype = dtype or getattr(torch, config_mod.floatx())
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                if real:  # Lazy* modules: parameter creation draws from the RNG like any build
                    return _shape_tree(self.module(torch.zeros(sizes, device=device, dtype=dtype)))
                found = _fake_run(self.module, sizes, device, dtype)
                if found is not None:
                    return found
                with torch.random.fork_rng(devices=_cuda_devices(device)):
                    return _shape_tree(self.module(torch.zeros(sizes, device=device, dtype=dtype)))
        except Exception as exc:  # a torch error becomes a shape error
            raise ValueError(
                f"TorchModuleWrapper '{self.name}' could not run "
                f"{type(self.module).__name__} on an input of shape {shape}: {exc}. Check the input "
                "shape or pass `output_shape=` to the wrapper."
            ) from exc
        finally:
            self.module.train(was_training)

    # --------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """Base config plus the module's class (never the module itself) and ``output_shape``."""
        cls = type(self.module)
        return {
            **super().get_config(),
            "module": f"{cls.__module__}.{cls.__qualname__}",
            "output_shape": None
            if self._output_shape_arg is None
            else list(self._output_shape_arg),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TorchModuleWrapper:
        """Rebuild from ``get_config()``: the module comes from a factory in ``custom_objects``."""
        config = dict(config)
        path = config.pop("module")
        if not isinstance(path, str):
            raise ValueError(
                "kseq never unpickles a torch module from a file. Received a TorchModuleWrapper "
                "config whose 'module' is not a class name (a Keras file with a pickled module?). "
                "Rebuild the model in code and use `load_weights`."
            )
        module = module_from_factory(path, config.get("name"), "TorchModuleWrapper")
        return cls(module, **config)


def module_from_factory(path: str, name: str | None, owner: str) -> nn.Module:
    """The module a factory in ``custom_objects`` (or the registry) makes for a saved ``owner``.

    The factory is looked up by the layer ``name``, the class's full ``path``, then its class name;
    it is a callable returning a fresh ``nn.Module`` (a class called without arguments), or a
    module, which is copied. Nothing is read from the file but the name.

    Example:
        >>> from kseq.registry.object_registration import custom_object_scope
        >>> with custom_object_scope({"GELU": torch.nn.GELU}):
        ...     module_from_factory("torch.nn.modules.activation.GELU", "gelu", "TorchModuleWrapper")
        GELU(approximate='none')
    """
    short = path.rsplit(".", 1)[-1]
    factory = next(
        (f for key in (name, path, short) if key and (f := get_registered_object(key)) is not None),
        None,
    )
    if factory is None:
        raise ValueError(
            f"Loading {owner} '{name}' needs the torch module {path}: kseq never unpickles modules "
            f"from a file. Pass a factory, e.g. `load_model(path, custom_objects={{'{short}': "
            f"{short}}})` (a class called without arguments) or `custom_objects={{'{short}': "
            f"lambda: {short}(...)}}` (keys: the layer name '{name}', the class name or its full path)."
        )
    module = copy.deepcopy(factory) if isinstance(factory, nn.Module) else factory()
    if not isinstance(module, nn.Module):
        raise ValueError(
            f"The factory given for {short!r} must return a torch.nn.Module; it returned "
            f"{module!r} (of type {type(module)})."
        )
    return module


def _is_lazy(module: nn.Module) -> bool:
    return any(
        isinstance(m, nn.modules.lazy.LazyModuleMixin) and m.has_uninitialized_params()
        for m in module.modules()
    )


def _fake_run(module: nn.Module, sizes: tuple[int, ...], device: Any, dtype: Any) -> Any:
    """Run under FakeTensorMode (no memory, no compute); ``None`` when the module does not allow it."""
    try:
        with FakeTensorMode(allow_non_fake_inputs=True) as mode:
            out = module(mode.from_tensor(torch.empty(sizes, device=device, dtype=dtype)))
            return _shape_tree(out)
    except Exception:  # not fake-able: fall back to a real tiny batch
        return None


def _cuda_devices(device: torch.device) -> list[int]:
    return [device.index or 0] if device.type == "cuda" else []


def _shape_tree(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_tree(o) for o in out]
    raise ValueError(f"A wrapped torch module must return tensors; it returned {type(out)}.")


def _with_batch_none(shape: Any) -> Any:
    if isinstance(shape, list):
        return [_with_batch_none(s) for s in shape]
    return (None, *shape[1:]) if shape else shape


def _merge(first: Any, second: Any) -> Any:
    if isinstance(first, list):
        return [_merge(a, b) for a, b in zip(first, second, strict=True)]
    return tuple(None if a != b else a for a, b in zip(first, second, strict=True))
