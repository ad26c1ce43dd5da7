"""Keras auto-naming: ``dense``, ``dense_1``, ... from a process-wide counter.

``kseq.utils.clear_session()`` resets the counter, as ``keras.utils.clear_session()`` does.

Example:
    >>> reset_uids(); auto_name("Dense"), auto_name("Dense"), to_snake_case("LeakyReLU")
    ('dense', 'dense_1', 'leaky_re_lu')
"""

from __future__ import annotations

import collections
import re

_UIDS: collections.defaultdict[str, int] = collections.defaultdict(int)


def to_snake_case(name: str) -> str:
    """Convert a class name to Keras's snake_case (``Conv2D`` -> ``conv2d``, ``ReLU`` -> ``re_lu``).

    Example:
        >>> to_snake_case("MaxPooling2D"), to_snake_case("PReLU")
        ('max_pooling2d', 'p_re_lu')
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(name: str) -> str:
    """Return ``name`` the first time, then ``name_1``, ``name_2``, ...

    Example:
        >>> reset_uids(); uniquify("x"), uniquify("x")
        ('x', 'x_1')
    """
    unique = f"{name}_{_UIDS[name]}" if name in _UIDS else name
    _UIDS[name] += 1
    return unique


def auto_name(class_name: str) -> str:
    """The next Keras auto-name for an object of class ``class_name``.

    Example:
        >>> reset_uids(); auto_name("Sequential")
        'sequential'
    """
    return uniquify(to_snake_case(class_name))


def get_uid(prefix: str = "") -> int:
    """Increment and return the counter for ``prefix`` (``keras.backend.get_uid``).

    Example:
        >>> reset_uids(); get_uid("a"), get_uid("a")
        (1, 2)
    """
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def reset_uids() -> None:
    """Forget every name handed out so far.

    Example:
        >>> reset_uids(); auto_name("Dense")
        'dense'
    """
    _UIDS.clear()


def clear_session() -> None:
    """Reset Keras auto-naming (``dense``, ``dense_1``, ...), as ``keras.utils.clear_session``.

    Example:
        >>> import kseq
        >>> clear_session(); kseq.layers.Dense(1).name
        'dense'
    """
    reset_uids()
