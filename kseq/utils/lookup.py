"""One string-to-object lookup used by every namespace's ``get()``.

The error lists what is valid and suggests the closest name, e.g.
``Unknown optimizer: 'adma'. Did you mean 'adam'? Valid names: ...``.

Example:
    >>> lookup("activation", "relu", {"relu": 1, "tanh": 2})
    1
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def lookup(kind: str, name: str, table: Mapping[str, T], *, case_insensitive: bool = False) -> T:
    """Return ``table[name]`` or raise a ``ValueError`` naming the valid choices.

    Registered custom objects (``kseq.saving.register_keras_serializable`` / ``custom_objects``)
    are consulted first.

    Args:
        kind: What is looked up, for the message ("loss", "optimizer", ...).
        name: The user's string.
        table: Valid names.
        case_insensitive: Compare lower-cased names (Keras does this for optimizers).

    Example:
        >>> lookup("loss", "MSE", {"mse": 0}, case_insensitive=True)
        0
    """
    from kseq.saving.object_registration import get_registered_object

    custom = get_registered_object(name)
    if custom is not None:
        return custom
    if name in table:
        return table[name]
    if case_insensitive:
        lowered = {k.lower(): v for k, v in table.items()}
        if name.lower() in lowered:
            return lowered[name.lower()]
    raise ValueError(unknown_name_message(kind, name, table))


def unknown_name_message(kind: str, name: Any, valid: Mapping[str, Any] | list[str]) -> str:
    """The text of the error for an unknown ``name``: suggestion plus every valid name.

    Example:
        >>> unknown_name_message("loss", "mse2", ["mse", "mae"]).split(".")[0]
        "Unknown loss: 'mse2'"
    """
    names = sorted(valid)
    close = difflib.get_close_matches(str(name), names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"Unknown {kind}: {name!r}.{hint} Valid {kind} names: {', '.join(names)}. "
        f"To use a custom {kind}, pass the object itself or register it with "
        "`kseq.saving.register_keras_serializable()`."
    )
