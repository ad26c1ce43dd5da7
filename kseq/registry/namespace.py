"""One ``Namespace`` type for every catalogue: its name table, ``get``/``serialize``/``deserialize``.

A catalogue (initializers, losses, optimizers, layers...) creates one ``Namespace`` and registers its
built-in classes and functions into it; its public ``get``, ``serialize`` and ``deserialize`` are the
namespace's bound methods. The rules every catalogue shares live here once:

* ``lookup(name)``: registered custom objects (``register_keras_serializable``, ``custom_objects``,
  ``custom_object_scope``) first, then the built-in table, else the "unknown name, did you mean"
  ``ValueError`` of :mod:`kseq.registry.lookup`;
* ``get(identifier)``: ``None`` stays ``None``, a dict is deserialized, a string is looked up (and
  the class found is instantiated), a class of the namespace's base type is instantiated, another
  callable is returned as is, anything else is ``ValueError("Could not interpret <kind> identifier:
  ...")``;
* ``serialize`` / ``deserialize``: Keras's ``{"module", "class_name", "config", "registered_name"}``.

Catalogue-specific rules (the ``"l1_l2"`` string, case-insensitive optimizer names, activations
saved as name strings...) are small subclasses in the catalogue's own module.

Every namespace is recorded by its Keras config keyword (``"initializers"``, ``"layers"``...) in a
table that :mod:`kseq.registry.object_config` iterates to route a config to its namespace, so the
registry never imports a catalogue. ``MODELS`` (Keras's top-level ``keras`` module: ``Sequential``,
``Model``, ``DTypePolicy``) is created here because classes from several floors register into it.

Example:
    >>> class Half:
    ...     def __call__(self, x):
    ...         return x / 2
    ...     def get_config(self):
    ...         return {}
    >>> demo = Namespace("halver", "demo_halvers", "demo.halvers")
    >>> demo.register(Half, snake_case=True)
    >>> demo.names()
    ['Half', 'half']
    >>> demo.get("half")(4.0), demo.serialize(Half())["module"]
    (2.0, 'demo.halvers')
    >>> demo.get("hafl")
    Traceback (most recent call last):
    ...
    ValueError: Unknown halver: 'hafl'. Did you mean 'half'? ...
    >>> _ = NAMESPACES.pop("demo_halvers")
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from kseq.core.naming import to_snake_case
from kseq.registry.object_registration import get_registered_name
from kseq.registry.serialization import (
    deserialize_keras_object,
    resolve_class,
    serialize_keras_object,
)

# Keras's config keywords, in the order a module path is matched against them
# ("keras.optimizers.schedules" is a schedule, "keras.src.layers.activations.relu" a layer).
KEYWORDS: tuple[str, ...] = (
    "layers", "initializers", "regularizers", "constraints", "losses", "metrics", "schedules",
    "optimizers", "activations", "models", "dtype_policies", "keras",
)  # fmt: skip

NAMESPACES: dict[str, Namespace] = {}


def namespaces() -> dict[str, Namespace]:
    """Every registered namespace by keyword, in :data:`KEYWORDS` order (others after).

    Example:
        >>> import kseq
        >>> list(namespaces())[:3]
        ['layers', 'initializers', 'regularizers']
    """
    ordered = {keyword: NAMESPACES[keyword] for keyword in KEYWORDS if keyword in NAMESPACES}
    ordered.update({k: v for k, v in NAMESPACES.items() if k not in ordered})
    return ordered


class Namespace:
    """A catalogue's name table with Keras's ``get`` / ``serialize`` / ``deserialize``.

    Args:
        kind: What the namespace holds, for messages (``"initializer"``).
        keyword: Keras's config keyword (``"initializers"``); the namespace is recorded under it.
        module: The Keras module built-ins are saved under (``"keras.initializers"``).
        base: Classes ``get()`` instantiates when given the class itself (``Initializer``);
            ``object`` for every class, ``None`` for none (the class is returned as a callable).
        table: The name table to fill (a new dict by default); namespaces may share one.
        deserialize_none: ``deserialize(None)`` gives ``None`` instead of a ``ValueError``.

    Example:
        >>> from kseq import initializers
        >>> ns = NAMESPACES["initializers"]
        >>> ns.kind, ns.module, ns.table is initializers._ALL
        ('initializer', 'keras.initializers', True)
    """

    def __init__(
        self,
        kind: str,
        keyword: str,
        module: str,
        *,
        base: type | None = None,
        table: dict[str, Any] | None = None,
        deserialize_none: bool = False,
    ) -> None:
        self.kind, self.keyword, self.module = kind, keyword, module
        self.base = base
        self.table: dict[str, Any] = {} if table is None else table
        # Functions saved by name (``{"class_name": "function", "config": name}``).
        self.functions: dict[str, Callable[..., Any]] = {}
        self.deserialize_none = deserialize_none
        NAMESPACES[keyword] = self

    def __repr__(self) -> str:
        return f"<Namespace {self.keyword} ({len(self.table)} names)>"

    # ------------------------------------------------------------------ registration
    def register(
        self, *objects: Any, aliases: Mapping[str, Any] | None = None, snake_case: bool = False
    ) -> None:
        """Add built-ins under their ``__name__`` (and snake_case name), plus ``aliases``.

        Example:
            >>> ns = Namespace("thing", "demo_things", "demo")
            >>> ns.register(int, aliases={"integer": int}, snake_case=True); ns.names()
            ['int', 'integer']
            >>> _ = NAMESPACES.pop("demo_things")
        """
        for obj in objects:
            self.table[obj.__name__] = obj
            if snake_case:
                self.table[to_snake_case(obj.__name__)] = obj
        self.table.update(aliases or {})

    def register_function(self, *functions: Callable[..., Any], **aliases: Any) -> None:
        """Add functions that configs may name (``{"class_name": "function", ...}``).

        Example:
            >>> ns = Namespace("thing", "demo_things", "demo")
            >>> ns.register_function(abs, absolute=abs); sorted(ns.functions)
            ['abs', 'absolute']
            >>> _ = NAMESPACES.pop("demo_things")
        """
        for fn in functions:
            self.functions[fn.__name__] = fn
        self.functions.update(aliases)

    def names(self) -> list[str]:
        """Every name :meth:`get` accepts, sorted.

        Example:
            >>> from kseq import constraints
            >>> NAMESPACES["constraints"].names()[:2]
            ['Constraint', 'MaxNorm']
        """
        return sorted(self.table)

    # ------------------------------------------------------------------ lookup
    def lookup(self, name: str, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """The object ``name`` stands for: custom objects first, then the built-ins.

        Raises:
            ValueError: Unknown name; the message suggests the closest valid name.

        Example:
            >>> from kseq import regularizers
            >>> NAMESPACES["regularizers"].lookup("l2").__name__
            'L2'
        """
        return resolve_class(self.kind, name, self.table, custom_objects)

    def get_function(self, name: str) -> Callable[..., Any]:
        """The function saved under ``name`` (registered functions first).

        Example:
            >>> from kseq import metrics
            >>> NAMESPACES["metrics"].get_function("binary_accuracy").__name__
            'binary_accuracy'
        """
        return resolve_class(f"{self.kind} function", name, self.function_table())

    def function_table(self) -> Mapping[str, Callable[..., Any]]:
        """The names :meth:`get_function` accepts (hook: :attr:`functions` by default)."""
        return self.functions

    # ------------------------------------------------------------------ get
    def get(self, identifier: Any) -> Any:
        """Resolve ``None``, a config dict, a name, a class or a callable (see the module doc).

        Example:
            >>> from kseq import initializers
            >>> type(NAMESPACES["initializers"].get("zeros")).__name__
            'Zeros'
        """
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, str):
            return self.from_name(identifier)
        if (
            self.base is not None
            and inspect.isclass(identifier)
            and issubclass(identifier, self.base)
        ):
            return identifier()
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret {self.kind} identifier: {identifier!r}")

    def from_name(self, name: str) -> Any:
        """What ``get(name)`` gives: a new instance of the object ``name`` stands for."""
        return self.lookup(name)()

    # ------------------------------------------------------------------ configs
    def serialize(self, obj: Any) -> Any:
        """Keras's config dict of ``obj`` (``None`` stays ``None``).

        Example:
            >>> from kseq import constraints
            >>> NAMESPACES["constraints"].serialize(constraints.NonNeg())["module"]
            'keras.constraints'
        """
        return serialize_keras_object(obj, self.module, self.table)

    def deserialize(self, config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """Inverse of :meth:`serialize` (a bare name gives a new instance).

        Example:
            >>> from kseq import regularizers
            >>> NAMESPACES["regularizers"].deserialize({"class_name": "L1", "config": {}}).l1
            0.01
        """
        if config is None and self.deserialize_none:
            return None
        return deserialize_keras_object(config, self.kind, self.table, custom_objects)

    def registered_name(self, obj: Any) -> str:
        """The name a function (or unregistered object) is saved under.

        Example:
            >>> MODELS.registered_name(len)
            'len'
        """
        return get_registered_name(obj)


# Keras's top-level ``keras`` module: Sequential and Model (models floor) and DTypePolicy
# (mixed_precision) register here; configs name it as "keras", "keras.models" or
# "keras.dtype_policies" (one table for the three, as Keras's files mix them).
MODELS = Namespace("model", "models", "keras")
NAMESPACES["keras"] = MODELS
