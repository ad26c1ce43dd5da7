"""Keras-style object configs: ``{"module", "class_name", "config", "registered_name"}``.

One place turns a kseq object (initializer, regularizer, constraint, loss, metric, optimizer, layer...)
into a JSON-able dict and back. Deserialization only instantiates classes found in the given table of
kseq built-ins, in ``custom_objects`` or in the registry (``register_keras_serializable``): a config can
never name an arbitrary importable class.

It also holds the *safe mode* switch that code-bearing configs (a ``Lambda`` layer's Python lambda)
consult while they are loaded: :func:`in_safe_mode` is ``True`` unless the load runs inside
``safe_mode_scope(False)`` (``load_model(..., safe_mode=False)``) or
``kseq.config.enable_unsafe_deserialization()`` was called, as in Keras.

Example:
    >>> from kseq import initializers
    >>> cfg = serialize_keras_object(initializers.Constant(2.0), "keras.initializers", initializers._ALL)
    >>> obj = deserialize_keras_object(cfg, "initializer", initializers._ALL)
    >>> type(obj).__name__, obj.value
    ('Constant', 2.0)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from kseq import config as config_mod
from kseq.registry.lookup import unknown_name_message
from kseq.registry.object_registration import get_registered_name, get_registered_object


def serialize_keras_object(
    obj: Any, module: str, table: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Config dict for ``obj``; ``module`` is the Keras module its built-in class lives in.

    Example:
        >>> from kseq import constraints
        >>> serialize_keras_object(constraints.NonNeg(), "keras.constraints", constraints._ALL)["class_name"]
        'NonNeg'
    """
    if obj is None:
        return None
    cls = obj if isinstance(obj, type) else type(obj)
    builtin = table.get(cls.__name__) is cls
    return {
        "module": module if builtin else None,
        "class_name": cls.__name__,
        "config": obj.get_config(),
        "registered_name": None if builtin else get_registered_name(cls),
    }


def resolve_class(
    kind: str, name: str, table: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
) -> Any:
    """Find ``name`` in ``custom_objects``, the registry, then ``table``; else a clear ``ValueError``.

    Example:
        >>> resolve_class("thing", "a", {"a": int})
        <class 'int'>
    """
    found = get_registered_object(name, custom_objects)
    if found is None:
        found = table.get(name)
    if found is None:
        raise ValueError(unknown_name_message(kind, name, table))
    return found


def deserialize_keras_object(
    config: Mapping[str, Any] | str,
    kind: str,
    table: Mapping[str, Any],
    custom_objects: Mapping[str, Any] | None = None,
) -> Any:
    """Instantiate an object from :func:`serialize_keras_object`'s dict (or a bare class name).

    Example:
        >>> from kseq import regularizers
        >>> deserialize_keras_object("L2", "regularizer", regularizers._ALL).l2
        0.01
    """
    if isinstance(config, str):
        return resolve_class(kind, config, table, custom_objects)()
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(
            f"Could not interpret {kind} config: {config!r} (expected a dict with 'class_name')."
        )
    name = config.get("registered_name") or config["class_name"]
    cls = resolve_class(kind, name, table, custom_objects)
    inner = dict(config.get("config") or {})
    return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)


UNSAFE_LAMBDA_MESSAGE = (
    "Requested the deserialization of a Python lambda. This carries a potential risk of arbitrary "
    "code execution and thus it is disallowed by default. If you trust the source of the artifact, "
    "you can override this error by passing `safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()."
)

_SAFE_MODE_STACK: list[bool] = []


def in_safe_mode() -> bool:
    """Whether code-bearing configs must be refused right now (``True`` by default).

    Example:
        >>> in_safe_mode()
        True
        >>> with safe_mode_scope(False):
        ...     in_safe_mode()
        False
    """
    if config_mod.is_unsafe_deserialization_enabled():
        return False
    return _SAFE_MODE_STACK[-1] if _SAFE_MODE_STACK else True


def active_safe_mode_scope() -> bool | None:
    """The value of the innermost :func:`safe_mode_scope`, or ``None`` outside any.

    Example:
        >>> active_safe_mode_scope() is None
        True
    """
    return _SAFE_MODE_STACK[-1] if _SAFE_MODE_STACK else None


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool = True) -> Iterator[None]:
    """Set :func:`in_safe_mode` for the loads inside the ``with`` block.

    ``kseq.config.enable_unsafe_deserialization()`` wins over ``safe_mode=True``, as in Keras.

    Example:
        >>> with safe_mode_scope(True):
        ...     in_safe_mode()
        True
    """
    _SAFE_MODE_STACK.append(bool(safe_mode))
    try:
        yield
    finally:
        _SAFE_MODE_STACK.pop()


def raise_if_safe_mode() -> None:
    """Refuse to rebuild a Python lambda in safe mode, with Keras's error message.

    Code-bearing ``from_config`` methods (``Lambda``) call this before turning stored code into a
    function.

    Example:
        >>> with safe_mode_scope(False):
        ...     raise_if_safe_mode()
        >>> raise_if_safe_mode()
        Traceback (most recent call last):
        ...
        ValueError: Requested the deserialization of a Python lambda. ...
    """
    if in_safe_mode():
        raise ValueError(UNSAFE_LAMBDA_MESSAGE)
