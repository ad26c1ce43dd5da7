"""Keras-style object configs: ``{"module", "class_name", "config", "registered_name"}``.

One place turns a kseq object (initializer, regularizer, constraint, loss, metric, optimizer, layer...)
into a JSON-able dict and back. Deserialization only instantiates classes found in the given table of
kseq built-ins, in ``custom_objects`` or in the registry (``register_keras_serializable``): a config can
never name an arbitrary importable class.

Example:
    >>> from kseq import initializers
    >>> cfg = serialize_keras_object(initializers.Constant(2.0), "keras.initializers", initializers._ALL)
    >>> obj = deserialize_keras_object(cfg, "initializer", initializers._ALL)
    >>> type(obj).__name__, obj.value
    ('Constant', 2.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kseq.saving.object_registration import get_registered_name, get_registered_object
from kseq.utils.lookup import unknown_name_message


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
