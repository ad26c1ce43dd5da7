"""Keras's batch tuples: ``pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight``.

What ``fit`` hands a custom ``train_step`` is ``x``, ``(x, y)`` or ``(x, y, sample_weight)``; these two
helpers (``keras.utils``) build and split that form, with Keras's exact rules and error text.

Example:
    >>> unpack_x_y_sample_weight(pack_x_y_sample_weight("x", "y"))
    ('x', 'y', None)
"""

from __future__ import annotations

from typing import Any

__all__ = ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """Split ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` into ``(x, y, sample_weight)``.

    Args:
        data: A batch, as ``train_step`` receives it.

    Returns:
        ``(x, y, sample_weight)`` with ``None`` for what ``data`` lacks.

    Raises:
        ValueError: ``data`` is a tuple or list of more than 3 items.

    Example:
        >>> unpack_x_y_sample_weight(("x",)), unpack_x_y_sample_weight(["x", "y", "w"])
        (('x', None, None), ('x', 'y', 'w'))
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, "
        f"or `(x, y, sample_weight)`, found: {data}"
    )


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """Pack a batch in the form ``fit`` uses: ``x`` (``(x,)`` when ``x`` is a tuple or list),
    ``(x, y)`` or ``(x, y, sample_weight)``; as in Keras, ``sample_weight`` without ``y`` is
    dropped.

    Example:
        >>> pack_x_y_sample_weight("x"), pack_x_y_sample_weight(["a", "b"])
        ('x', (['a', 'b'],))
        >>> pack_x_y_sample_weight("x", "y", "w")
        ('x', 'y', 'w')
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)
