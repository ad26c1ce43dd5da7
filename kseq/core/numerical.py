"""NumPy helpers from ``keras.utils``: ``to_categorical`` and ``normalize``.

Example:
    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels (the class axis goes last).

    Example:
        >>> to_categorical([1]).tolist()
        [[0.0, 1.0]]
    """
    x = np.asarray(x, dtype="int64")
    shape = x.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(np.max(x)) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"Class labels must be in [0, {num_classes}). Received labels in [{x.min()}, {x.max()}]."
        )
    out = np.zeros((x.shape[0], num_classes), dtype="float32")
    out[np.arange(x.shape[0]), x] = 1.0
    return out.reshape((*shape, num_classes))


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """Divide by the ``order``-norm along ``axis`` (zero vectors stay zero).

    Example:
        >>> normalize([[3.0, 4.0]]).tolist()
        [[0.6, 0.8]]
    """
    x = np.asarray(x, dtype="float64" if np.asarray(x).dtype == np.float64 else "float32")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
