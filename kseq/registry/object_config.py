"""Keras's generic object configs: ``serialize_keras_object`` / ``deserialize_keras_object``.

This is the format of a ``.keras`` archive's ``config.json`` and of ``model.to_json()``: every object
is ``{"module", "class_name", "config", "registered_name"}`` (plus ``build_config`` /
``compile_config`` for models), functions are ``{"class_name": "function", "config": name}``, and
a few markers (``__numpy__``, ``__tensor__``, ``__bytes__``, ``__slice__``, ``__ellipsis__``,
``__lambda__``) stand for plain values.

Loading is safe by construction: ``module`` is only used to pick which of kseq's own name tables
(the :class:`~kseq.registry.namespace.Namespace` each catalogue registers: ``layers``, ``losses``,
...) a class name is looked up in; nothing is ever imported by name. A class or function that is neither a kseq built-in, nor registered with
``register_keras_serializable``, nor given in ``custom_objects`` is refused with a ``ValueError``,
and a ``__lambda__`` (Python bytecode) is refused unless safe mode is off.

The per-namespace helpers in :mod:`kseq.registry.serialization` (``serialize_keras_object(obj, module,
table)``) serve one namespace each; the functions here, exported as ``kseq.saving.*``, have Keras's
signatures and route any object to its namespace.

Example:
    >>> import kseq
    >>> config = serialize_keras_object(kseq.optimizers.SGD(learning_rate=0.5))
    >>> config["module"], config["class_name"]
    ('keras.optimizers', 'SGD')
    >>> deserialize_keras_object(config).learning_rate
    0.5
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from kseq.registry.namespace import namespaces
from kseq.registry.object_registration import (
    custom_object_scope,
    get_registered_name,
    get_registered_object,
)
from kseq.registry.serialization import (
    active_safe_mode_scope,
    in_safe_mode,
    raise_if_safe_mode,
    safe_mode_scope,
)

__all__ = ["deserialize_keras_object", "serialize_keras_object"]

_PLAIN = (str, int, float, bool)
# Keras's modules that hold functions saved by name (``{"class_name": "function", ...}``).
_FUNCTION_NAMESPACES = ("activations", "losses", "metrics")
# dtypes a ``__numpy__`` / ``__tensor__`` marker may name (never ``object``: that would unpickle).
_NUMERIC_KINDS = "biuf"


def _namespace_of(module: str | None) -> str | None:
    """The namespace keyword of a Keras module path (``keras.src.backend.torch.optimizers.x`` ->
    ``optimizers``); ``None`` for modules that are not Keras's (user code)."""
    if not module or module.split(".", 1)[0] != "keras":
        return None
    parts = module.split(".")
    for keyword in namespaces():
        if keyword in parts[1:]:
            return keyword
    return "keras" if len(parts) == 1 else None


# ----------------------------------------------------------------------------------- serialize
def _builtin_module(obj: Any) -> str | None:
    """The Keras module a kseq built-in class is exported from, or ``None`` (user class)."""
    cls = type(obj)
    for namespace in namespaces().values():
        if namespace.table.get(cls.__name__) is cls and get_registered_name(cls) == cls.__name__:
            return namespace.module
    return None


def _serialize_function(fn: Any) -> dict[str, Any]:
    if getattr(fn, "__name__", "") == "<lambda>":
        raise ValueError(
            f"Cannot serialize the Python lambda {fn!r}: kseq stores no code in model files. "
            "Use a named function decorated with `@kseq.saving.register_keras_serializable()`."
        )
    spaces = namespaces()
    for keyword in _FUNCTION_NAMESPACES:
        name = getattr(fn, "__name__", None)
        if name and keyword in spaces and spaces[keyword].functions.get(name) is fn:
            return {
                "module": f"keras.{keyword}",
                "class_name": "function",
                "config": name,
                "registered_name": name,
            }
    registered = get_registered_name(fn)
    return {
        "module": getattr(fn, "__module__", None),
        "class_name": "function",
        "config": registered,
        "registered_name": registered,
    }


def serialize_keras_object(obj: Any) -> Any:
    """The JSON-able Keras config of ``obj`` (an object with ``get_config``, a function, or plain data).

    Args:
        obj: A layer, model, optimizer, loss, metric, initializer, regularizer, constraint,
            schedule, a named function, or a (nested) list/dict/number/string/array.

    Returns:
        Plain JSON-able data in Keras's config format.

    Example:
        >>> import numpy as np
        >>> serialize_keras_object({"a": (1, 2), "b": np.float32(0.5)})
        {'a': [1, 2], 'b': 0.5}
    """
    if obj is None or isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        parts = {"start": obj.start, "stop": obj.stop, "step": obj.step}
        return {"class_name": "__slice__", "config": serialize_keras_object(parts)}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {
            "class_name": "__numpy__",
            "config": {"value": obj.tolist(), "dtype": str(obj.dtype)},
        }
    if isinstance(obj, torch.Tensor):
        value = obj.detach().cpu().numpy()  # host sync: saving, not a training step
        return {
            "class_name": "__tensor__",
            "config": {"value": value.tolist(), "dtype": str(value.dtype)},
        }
    if isinstance(obj, types.FunctionType):
        return _serialize_function(obj)
    if not hasattr(obj, "get_config") or isinstance(obj, type):
        if callable(obj) and hasattr(obj, "__name__"):
            return _serialize_function(obj)
        raise TypeError(
            f"Cannot serialize object {obj!r} of type {type(obj).__name__}. To be serializable, "
            "a class must implement the `get_config()` method."
        )
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(
            f"The `get_config()` method of {obj!r} should return a dict. It returned: {config!r}"
        )
    module = _builtin_module(obj)
    out: dict[str, Any] = {
        "module": module or type(obj).__module__,
        "class_name": type(obj).__name__,
        "config": serialize_keras_object(config),
        "registered_name": None if module else get_registered_name(type(obj)),
    }
    if hasattr(obj, "get_build_config") and (build := obj.get_build_config()) is not None:
        out["build_config"] = serialize_keras_object(build)
    if hasattr(obj, "get_compile_config") and (compiled := obj.get_compile_config()):
        out["compile_config"] = serialize_keras_object(compiled)
    return out


# --------------------------------------------------------------------------------- deserialize
def _not_found(what: str, name: Any, config: Any) -> ValueError:
    return ValueError(
        f"Could not locate {what} '{name}'. Only kseq's built-in classes and functions, objects "
        "registered with `@keras.saving.register_keras_serializable()` and objects passed in "
        f"`custom_objects` can be loaded. Full object config: {config}"
    )


def _resolve(config: Mapping[str, Any], name: str, what: str) -> Any:
    """Find the class (``what="class"``) or function named by ``config`` in kseq's tables."""
    registered = config.get("registered_name") or name
    found = get_registered_object(name if what == "function" else registered)
    if found is None and registered != name:
        found = get_registered_object(registered)
    if found is not None:
        return found
    keyword = _namespace_of(config.get("module"))
    if keyword is None and config.get("module") is None and what == "class":
        keyword = "layers"  # Keras 2 configs carry no module; layers are the common case
    spaces = namespaces()
    candidates = [keyword] if keyword else []
    if keyword is None and config.get("module") == "builtins" and what == "function":
        candidates = list(_FUNCTION_NAMESPACES)
    for key in candidates:
        namespace = spaces.get(key)
        for lookup in (name, registered):
            if namespace is None:
                break
            if what == "function":
                obj = namespace.functions.get(lookup)
                if callable(obj):
                    return obj
            else:
                obj = namespace.table.get(lookup)
                if inspect.isclass(obj):
                    return obj
    raise _not_found(what, name, dict(config))


def _marker(class_name: str, inner: Any, config: Mapping[str, Any]) -> Any:
    """Values stored as ``{"class_name": "__x__", "config": ...}``."""
    if class_name == "__lambda__":
        raise_if_safe_mode()
        raise ValueError(
            "This config holds a Python lambda (Keras stores its bytecode). kseq never rebuilds "
            "functions from bytecode outside a `Lambda` layer; replace the lambda by a named "
            "function registered with `@keras.saving.register_keras_serializable()`."
        )
    if class_name in ("__numpy__", "__tensor__"):
        dtype = np.dtype(str(inner.get("dtype", "float32")))
        if dtype.kind not in _NUMERIC_KINDS:
            raise ValueError(f"Refusing a {class_name} value of dtype {dtype}: {dict(config)}")
        value = np.array(inner["value"], dtype=dtype)
        return torch.from_numpy(value) if class_name == "__tensor__" else value
    if class_name == "__bytes__":
        return str(inner["value"]).encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(_deserialize(inner.get(k)) for k in ("start", "stop", "step")))
    raise ValueError(f"Unknown special config '{class_name}': {dict(config)}")


def _deserialize(config: Any) -> Any:
    if config is None or isinstance(config, _PLAIN):
        return config  # names ("adam", "mse") stay names: compile() resolves them
    if isinstance(config, (list, tuple)):
        return [_deserialize(v) for v in config]
    if not isinstance(config, Mapping):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: _deserialize(v) for k, v in config.items()}
    class_name = config["class_name"]
    if not isinstance(class_name, str):
        raise ValueError(f"Invalid config: 'class_name' must be a string. Received: {config!r}")
    inner = config["config"] if config["config"] is not None else {}
    if class_name.startswith("__") and class_name.endswith("__"):
        return _marker(class_name, inner, config)
    if class_name == "function":
        if not isinstance(inner, str):
            raise TypeError(
                f"Expected 'config' to be a non-null str for a function classname, instead got "
                f"{type(inner).__name__}. Full config: {dict(config)}"
            )
        return _resolve(config, inner, "function")
    if not isinstance(inner, Mapping):
        raise TypeError(
            f"Expected 'config' to be a dict for {class_name}, instead got "
            f"{type(inner).__name__}. Full config: {dict(config)}"
        )
    cls = _resolve(config, class_name, "class")
    if not inspect.isclass(cls):
        return cls  # a function registered under a class-like name
    if not hasattr(cls, "from_config"):
        raise TypeError(
            f"Unable to reconstruct an instance of '{class_name}' because the class is missing a "
            f"`from_config()` method. Full object config: {dict(config)}"
        )
    try:
        instance = cls.from_config(dict(inner))
    except TypeError as exc:
        raise TypeError(
            f"{cls} could not be deserialized properly. Please ensure that components that are "
            "Python object instances (layers, models, etc.) returned by `get_config()` are "
            f"explicitly deserialized in the model's `from_config()` method.\n\nconfig={dict(config)}"
            f".\n\nException encountered: {exc}"
        ) from exc
    build_config = config.get("build_config")
    if build_config and hasattr(instance, "build_from_config") and not instance.built:
        instance.build_from_config(build_config)
    compile_config = config.get("compile_config")
    if compile_config and hasattr(instance, "compile_from_config"):
        instance.compile_from_config(compile_config)
    return instance


def find_lambdas(config: Any) -> bool:
    """Whether a (nested) config holds a ``__lambda__`` (stored Python bytecode).

    Example:
        >>> find_lambdas({"layers": [{"class_name": "__lambda__", "config": {}}]})
        True
    """
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if item.get("class_name") == "__lambda__":
                return True
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def deserialize_keras_object(
    config: Any, custom_objects: Mapping[str, Any] | None = None, safe_mode: bool = True
) -> Any:
    """Rebuild the object a Keras config describes (kseq built-ins and registered objects only).

    Args:
        config: A config from :func:`serialize_keras_object` (or from Keras 3).
        custom_objects: Extra ``{name: class_or_function}`` the config may name.
        safe_mode: Refuse configs holding Python lambdas (Keras's ``safe_mode``). Turn it off only
            for files you trust; ``kseq.config.enable_unsafe_deserialization()`` does it globally.
            Inside a load already in progress (a nested call), the enclosing load's value wins.

    Raises:
        ValueError: The config names a class or function kseq does not know (not built in, not
            registered, not in ``custom_objects``), or holds a lambda in safe mode.

    Example:
        >>> deserialize_keras_object({"class_name": "L2", "config": {"l2": 0.5},
        ...                           "module": "keras.regularizers"}).l2
        0.5
    """
    outer = active_safe_mode_scope()  # a load in progress decides, as Keras's SafeModeScope does
    safe_mode = outer if outer is not None else safe_mode
    with custom_object_scope(dict(custom_objects or {})), safe_mode_scope(safe_mode):
        if in_safe_mode() and find_lambdas(config):
            raise_if_safe_mode()
        return _deserialize(config)
