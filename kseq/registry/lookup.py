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

from kseq.registry.object_registration import get_registered_object

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
    close = closest_name(str(name), names)
    hint = f" Did you mean {close!r}?" if close else ""
    return (
        f"Unknown {kind}: {name!r}.{hint} Valid {kind} names: {', '.join(names)}. "
        f"To use a custom {kind}, pass the object itself or register it with "
        "`kseq.saving.register_keras_serializable()`."
    )


def closest_name(name: str, names: list[str]) -> str | None:
    """The valid name nearest to a typo: fewest edits (a swap of two neighbours counts as one),
    ties broken by similarity; ``None`` when nothing is reasonably close.

    Example:
        >>> closest_name("adma", ["adam", "adamax", "sgd"]), closest_name("zzz", ["adam"])
        ('adam', None)
    """
    target = name.lower()
    best: tuple[int, float, float, str] | None = None
    for candidate in names:
        lowered = candidate.lower()
        distance = _edit_distance(target, lowered)
        if len(target) >= 3 and lowered.startswith(target):
            distance = min(distance, 1)  # a truncated name ("glorot" -> "glorot_uniform")
        if distance > max(2, len(target) // 3):
            continue
        similarity = difflib.SequenceMatcher(None, target, lowered).ratio()
        exact_case = difflib.SequenceMatcher(None, name, candidate).ratio()
        score = (distance, -similarity, -exact_case, candidate)
        if best is None or score < best:
            best = score
    return best[3] if best else None


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
