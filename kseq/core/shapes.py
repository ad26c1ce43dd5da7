"""Shape types shared by every floor: ``Shape`` is a batch-inclusive tuple, ``None`` = unknown.

Example:
    >>> shape: Shape = (None, 28, 28, 1)
    >>> shape[1:]
    (28, 28, 1)
"""

from __future__ import annotations

Shape = tuple[int | None, ...]
