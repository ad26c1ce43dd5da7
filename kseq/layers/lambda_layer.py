"""``Lambda``: wrap a tensor function as a layer, and (de)serialize that function Keras-style.

Serialization follows Keras 3's format so that configs move between Keras and kseq:

* a named function (module-level, built-in, registered with
  ``kseq.saving.register_keras_serializable``) is stored by name:
  ``{"module": "builtins", "class_name": "function", "config": "my_fn", "registered_name": "function"}``
  and found again by name in ``custom_objects``, the registry or ``kseq.activations``;
* a Python ``lambda`` is stored as Keras stores it: its **marshalled bytecode** (base64), defaults
  and closure values, under ``{"class_name": "__lambda__", ...}``.

Why bytecode rather than source text (``inspect.getsource``): it is Keras's format (kseq can load
lambdas saved by Keras and the other way round), it needs no source file (lambdas typed in a REPL
or notebook work), and it captures one lambda exactly where source extraction sees a whole line
(two lambdas on one line, a lambda inside a call). Its risks, which are why loading needs
``safe_mode=False`` or ``kseq.config.enable_unsafe_deserialization()``: loading runs code from the
file (arbitrary code execution, the same as unpickling), and bytecode is specific to the Python
minor version that wrote it (3.11 bytecode does not load on 3.12; the error says so). A loaded
lambda sees the globals ``torch``, ``F`` (``torch.nn.functional``), ``np``, ``math``, ``kseq`` and
``keras`` (an alias of ``kseq``), not the globals of the module it was written in.

Example:
    >>> import torch
    >>> Lambda(lambda x: x * 2)(torch.ones(2))
    tensor([2., 2.])
"""

from __future__ import annotations

import base64
import binascii
import builtins
import inspect
import marshal
import math
import sys
import types
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kseq import activations
from kseq.layers.layer import Layer
from kseq.layers.shape_probe import merge_shapes, shapes_of, zeros_of_shape
from kseq.registry.object_registration import get_registered_name, get_registered_object
from kseq.registry.serialization import in_safe_mode

__all__ = ["Lambda"]

_LAMBDA_LOAD_ERROR = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This "
    "carries a potential risk of arbitrary code execution and thus it is disallowed by default. If "
    "you trust the source of the artifact, you can override this error by passing `safe_mode=False` "
    "to the loading function, or calling `keras.config.enable_unsafe_deserialization()."
)
_INFER_ERROR = (
    "We could not automatically infer the shape of the Lambda's output. Please specify the "
    "`output_shape` argument for this Lambda layer."
)


class Lambda(Layer):
    """Run ``function(inputs, **arguments)`` as a layer (a stateless transformation).

    Args:
        function: A callable on tensors. If it takes a ``training`` or ``mask`` argument, the
            layer passes its own.
        output_shape: The output shape without the batch axis (a tuple), or a callable
            ``input_shape -> output_shape`` (batch axis included). When omitted,
            ``compute_output_shape`` runs ``function`` on dummy inputs (on torch's ``meta``
            device, which computes shapes without data, else on small CPU zeros), once with
            every unknown axis of size 2 and once with size 3; output axes that differ
            between the two runs are unknown (``None``).
        mask: The output mask: a callable ``(inputs, mask) -> mask`` or a fixed mask. Default: no
            mask (an incoming mask is dropped, as in Keras).
        arguments: Extra keyword arguments for ``function``.

    ``get_config`` stores ``function`` by name, or as bytecode for a Python lambda (with a
    warning: such a config loads only with ``safe_mode=False``); see the module docstring.

    Example:
        >>> layer = Lambda(torch.mul, arguments={"other": 3.0})
        >>> layer(torch.ones(2)), layer.compute_output_shape((None, 2))
        (tensor([3., 3.]), (None, 2))
    """

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Any = None,
        mask: Any = None,
        arguments: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"The `function` argument of Lambda layer '{self.name}' must be a callable on tensors. "
                f"Received: function={function!r} (of type {type(function).__name__})"
            )
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None  # type: ignore[misc]
        self.creates_mask = (
            mask is not None
        )  # Sequential keeps its fast path for a mask-less Lambda
        self._output_shape = output_shape
        self._already_warned = False
        params = _parameter_names(function)
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params
        self._mark_built()

    def call(self, inputs: Any, training: bool | None = None, mask: Tensor | None = None) -> Any:
        kwargs = self.arguments
        if self._fn_expects_mask_arg or self._fn_expects_training_arg:
            kwargs = dict(kwargs)
            if self._fn_expects_mask_arg:
                kwargs["mask"] = mask
            if self._fn_expects_training_arg:
                kwargs["training"] = self.training if training is None else training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, mask: Tensor | None = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    # ---------------------------------------------------------------- shapes
    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._output_shape is None:
            return self._infer_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = input_shape[0] if not isinstance(input_shape, list) else input_shape[0][0]
        return (batch, *self._output_shape)

    def _infer_output_shape(self, input_shape: Any) -> Any:
        runs = [self._dummy_output_shape(input_shape, fill) for fill in (2, 3)]
        try:
            return merge_shapes(*runs)
        except ValueError:
            raise NotImplementedError(_INFER_ERROR) from None

    def _dummy_output_shape(self, input_shape: Any, fill: int) -> Any:
        dtype = self.dtype_policy.torch_compute_dtype
        last_error: Exception | None = None
        for device in ("meta", "cpu"):
            try:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    dummy = zeros_of_shape(input_shape, fill, dtype, device)
                    return shapes_of(self.call(dummy, training=False))
            except Exception as exc:
                last_error = exc
        raise NotImplementedError(_INFER_ERROR) from last_error

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            **super().get_config(),
            "function": self._serialize_function(self.function),
        }
        if self._output_shape is not None:
            config["output_shape"] = (
                self._serialize_function(self._output_shape)
                if callable(self._output_shape)
                else self._output_shape
            )
        if self.mask is not None:
            config["mask"] = (
                self._serialize_function(self.mask)
                if callable(self.mask)
                else _serialize_value(self.mask)
            )
        config["arguments"] = _serialize_value(self.arguments)
        return config

    def _serialize_function(self, fn: Any) -> dict[str, Any]:
        if isinstance(fn, types.FunctionType) and fn.__name__ == "<lambda>":
            if not self._already_warned:
                self._already_warned = True
                warnings.warn(
                    f"Lambda layer '{self.name}' is being serialized with a Python lambda: its config "
                    "stores the lambda's bytecode, which can only be loaded with `safe_mode=False` (it "
                    "runs code from the file) and by the same Python version. Prefer a named function "
                    "registered with `kseq.saving.register_keras_serializable()`.",
                    UserWarning,
                    stacklevel=3,
                )
            return {"class_name": "__lambda__", "config": _dump_lambda(fn)}
        return _serialize_callable(fn)

    @classmethod
    def from_config(
        cls,
        config: dict[str, Any],
        custom_objects: Mapping[str, Any] | None = None,
        safe_mode: bool | None = None,
    ) -> Lambda:
        """Rebuild a ``Lambda`` from ``get_config()``.

        A Python lambda in the config is refused unless ``safe_mode=False`` is passed or
        ``kseq.config.enable_unsafe_deserialization()`` was called (Keras's rule and message);
        named functions resolve through ``custom_objects``, the registry and ``kseq.activations``.

        Example:
            >>> from kseq import activations
            >>> Lambda.from_config(Lambda(activations.relu).get_config()).function is activations.relu
            True
        """
        if safe_mode is None:
            safe_mode = in_safe_mode()
        config = dict(config)
        config["function"] = _deserialize_callable(config["function"], custom_objects, safe_mode)
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = _deserialize_callable(shape, custom_objects, safe_mode)
        elif isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape):
            config["output_shape"] = tuple(shape)
        mask = config.get("mask")
        if isinstance(mask, dict) and _is_callable_config(mask):
            config["mask"] = _deserialize_callable(mask, custom_objects, safe_mode)
        elif mask is not None:
            config["mask"] = _deserialize_value(mask)
        if "arguments" in config:
            config["arguments"] = _deserialize_value(config["arguments"])
        return cls(**config)


# ------------------------------------------------------------------ helpers
def _parameter_names(fn: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # some builtins have no signature
        return set()


def _dump_lambda(fn: types.FunctionType) -> dict[str, Any]:
    """Keras's ``func_dump``: base64 marshalled code, defaults and closure values."""
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    closure = tuple(_serialize_value(c.cell_contents) for c in fn.__closure__ or ()) or None
    return {"code": code, "defaults": _serialize_value(fn.__defaults__), "closure": closure}


def _load_lambda(config: Mapping[str, Any]) -> types.FunctionType:
    """Inverse of :func:`_dump_lambda` (only called when unsafe deserialization is allowed)."""
    try:
        code = marshal.loads(base64.decodebytes(str(config["code"]).encode("ascii")))
    except (ValueError, EOFError, TypeError, binascii.Error) as exc:
        raise ValueError(
            "Could not load the Python lambda of a Lambda layer: its bytecode is corrupt or was "
            f"written by another Python version (this is Python {sys.version_info.major}."
            f"{sys.version_info.minor}). Rebuild the layer with the function in code, or use a named, "
            f"registered function. ({exc})"
        ) from exc
    if not isinstance(code, types.CodeType):
        raise ValueError("The `code` of a serialized lambda does not hold a code object.")
    # The package face is loaded (it is the entry point); a layer module cannot import it.
    kseq = sys.modules["kseq"]
    namespace = {
        "__builtins__": builtins, "torch": torch, "F": torch.nn.functional, "np": np,
        "numpy": np, "math": math, "kseq": kseq, "keras": kseq,
    }  # fmt: skip
    defaults = config.get("defaults")
    closure = config.get("closure")
    cells = tuple(types.CellType(_deserialize_value(v)) for v in closure) if closure else None
    try:
        return types.FunctionType(
            code, namespace, code.co_name, tuple(_deserialize_value(defaults) or ()) or None, cells
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Could not rebuild the serialized lambda: {exc}") from exc


def _serialize_callable(fn: Any) -> dict[str, Any]:
    if isinstance(fn, (types.FunctionType, types.BuiltinFunctionType)) or not hasattr(
        fn, "get_config"
    ):
        if not hasattr(fn, "__name__"):
            raise TypeError(
                f"Cannot serialize {fn!r} of type {type(fn).__name__}: a Lambda's function must be a "
                "named function or an object with a `get_config()` method."
            )
        return {
            "module": "builtins",
            "class_name": "function",
            "config": get_registered_name(fn),
            "registered_name": "function",
        }
    cls = type(fn)
    return {
        "module": cls.__module__,
        "class_name": cls.__name__,
        "config": fn.get_config(),
        "registered_name": get_registered_name(cls),
    }


def _is_callable_config(config: Mapping[str, Any]) -> bool:
    return config.get("class_name") == "__lambda__" or "module" in config


def _deserialize_callable(
    config: Any, custom_objects: Mapping[str, Any] | None, safe_mode: bool
) -> Any:
    if isinstance(config, str):
        config = {"class_name": "function", "config": config}
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"Could not interpret a Lambda function config: {config!r}")
    if config["class_name"] == "__lambda__":
        if safe_mode:
            raise ValueError(_LAMBDA_LOAD_ERROR)
        return _load_lambda(config["config"])
    if config["class_name"] == "function":
        return _find_function(str(config["config"]), custom_objects, config)
    cls = get_registered_object(
        config.get("registered_name") or config["class_name"], custom_objects
    )
    if cls is None:
        raise TypeError(_not_found("class", config["class_name"], config))
    return (
        cls.from_config(config["config"])
        if hasattr(cls, "from_config")
        else cls(**config["config"])
    )


def _find_function(
    name: str, custom_objects: Mapping[str, Any] | None, config: Mapping[str, Any]
) -> Any:
    found = get_registered_object(name, custom_objects)
    if found is None and name in activations.names():
        found = activations.get(name)
    if found is None and ">" not in name:  # Keras <= 3.6 saved registered functions by bare name
        suffix = f">{name}"
        found = next((v for k, v in (custom_objects or {}).items() if k.endswith(suffix)), None)
    if found is None:
        raise TypeError(_not_found("function", name, config))
    return found


def _not_found(kind: str, name: str, config: Mapping[str, Any]) -> str:
    return (
        f"Could not locate {kind} '{name}'. Make sure custom classes and functions are decorated with "
        "`@keras.saving.register_keras_serializable()` (or passed in `custom_objects`). If they are "
        "already decorated, make sure they are all imported so that the decorator is run before "
        f"trying to load them. Full object config: {dict(config)}"
    )


def _serialize_value(value: Any) -> Any:
    """JSON-able form of argument / closure values (arrays and tensors as Keras's ``__numpy__`` /
    ``__tensor__`` configs)."""
    if isinstance(value, dict):
        return {k: _serialize_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_serialize_value(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, Tensor):
        return {
            "class_name": "__tensor__",
            "config": {"value": value.tolist(), "dtype": str(value.dtype).replace("torch.", "")},
        }
    if isinstance(value, np.ndarray):
        return {
            "class_name": "__numpy__",
            "config": {"value": value.tolist(), "dtype": str(value.dtype)},
        }
    if isinstance(value, np.generic):
        return value.item()
    return value


def _deserialize_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_deserialize_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_deserialize_value(v) for v in value)
    if not isinstance(value, dict):
        return value
    if value.get("class_name") == "__tensor__":
        inner = value["config"]
        dtype = getattr(torch, str(inner["dtype"]), None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"Unknown tensor dtype in a serialized value: {inner['dtype']!r}")
        return torch.tensor(inner["value"], dtype=dtype)
    if value.get("class_name") == "__numpy__":
        inner = value["config"]
        return np.array(inner["value"], dtype=inner["dtype"])
    return {k: _deserialize_value(v) for k, v in value.items()}
