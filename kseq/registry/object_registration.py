"""Registry of user classes/functions that configs may name (``register_keras_serializable``).

Loading a model only ever instantiates kseq's own classes or objects registered here (or passed as
``custom_objects``): a config cannot name an arbitrary importable class.

Example:
    >>> @register_keras_serializable(package="demo")
    ... def my_loss(y_true, y_pred):
    ...     return (y_true - y_pred).abs().mean()
    >>> get_registered_name(my_loss), get_registered_object("demo>my_loss") is my_loss
    ('demo>my_loss', True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_SCOPE_STACK: list[Mapping[str, Any]] = []


def register_keras_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[Any], Any]:
    """Decorator registering a class or function under ``"package>name"``.

    Example:
        >>> @register_keras_serializable()
        ... class Scale:
        ...     def get_config(self):
        ...         return {}
        >>> get_registered_name(Scale)
        'Custom>Scale'
    """

    def decorator(obj: Any) -> Any:
        registered = f"{package}>{name or obj.__name__}"
        if not (isinstance(obj, type) or callable(obj)):
            raise ValueError(
                f"Cannot register {obj!r}: only classes and functions can be registered."
            )
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register a class that does not have a get_config() method: {obj.__name__}."
            )
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name ``obj`` was registered under, else its ``__name__``.

    Example:
        >>> get_registered_name(len)
        'len'
    """
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name: str, custom_objects: Mapping[str, Any] | None = None) -> Any | None:
    """Find ``name`` in ``custom_objects``, the active ``custom_object_scope``s, then the registry.

    A plain class name also finds a registered ``"package>Name"`` entry, as in Keras.

    Example:
        >>> get_registered_object("nothing_here") is None
        True
    """
    for table in ([custom_objects] if custom_objects else []) + _SCOPE_STACK[::-1]:
        if name in table:
            return table[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    matches = [obj for key, obj in _GLOBAL_CUSTOM_OBJECTS.items() if key.split(">", 1)[-1] == name]
    return matches[0] if len(matches) == 1 else None


def get_custom_objects() -> dict[str, Any]:
    """The live registry dict (editing it registers objects, as in Keras).

    Example:
        >>> isinstance(get_custom_objects(), dict)
        True
    """
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """Make ``custom_objects`` resolvable by name inside the ``with`` block (a class, as in Keras;
    ``custom_object_scope`` is the same class).

    Args:
        custom_objects: ``{name: class_or_function}``.

    Example:
        >>> with custom_object_scope({"f": abs}) as scope:
        ...     get_registered_object("f") is abs, scope.custom_objects
        (True, {'f': <built-in function abs>})
    """

    def __init__(self, custom_objects: Mapping[str, Any] | None) -> None:
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self) -> CustomObjectScope:
        _SCOPE_STACK.append(dict(self.custom_objects))
        return self

    def __exit__(self, *exc: object) -> None:
        _SCOPE_STACK.pop()


custom_object_scope = CustomObjectScope
