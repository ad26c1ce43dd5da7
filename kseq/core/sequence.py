"""``pad_sequences``: variable-length sequences to one NumPy array (``keras.utils.pad_sequences``,
also ``keras.preprocessing.sequence.pad_sequences``).

Host-side data preparation (NumPy in, NumPy out), done once before ``fit``; the result feeds an
``Embedding(mask_zero=True)`` stack directly.

Example:
    >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
    array([[0, 0, 1],
           [0, 2, 3],
           [4, 5, 6]], dtype=int32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (or truncate) every sequence to ``maxlen`` steps (the longest length by default).

    Args:
        sequences: A list of sequences (lists or arrays; items may themselves be vectors, which
            must all have the same shape).
        maxlen: Length of the result's second axis.
        dtype: Dtype of the result (``object`` or a string dtype for text items).
        padding: ``"pre"`` or ``"post"``: where the padding goes.
        truncating: ``"pre"`` or ``"post"``: which end of a too-long sequence is dropped.
        value: The padding value.

    Returns:
        An array of shape ``(len(sequences), maxlen, *item_shape)``.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post", value=-1)
        array([[ 1,  2],
               [ 4, -1]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"`sequences` must be iterable. Received: {type(sequences).__name__}")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood. Expected "pre" or "post".')
    if truncating not in ("pre", "post"):
        raise ValueError(
            f'Truncating type "{truncating}" not understood. Expected "pre" or "post".'
        )
    lengths = []
    item_shape: tuple[int, ...] | None = None
    for seq in sequences:
        try:
            lengths.append(len(seq))
        except TypeError as error:
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {seq!r}"
            ) from error
        if item_shape is None and len(seq):
            item_shape = np.asarray(seq).shape[1:]
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    text_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not text_dtype:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    out = np.full((len(sequences), int(maxlen), *item_shape), value, dtype=dtype)
    if maxlen == 0:
        return out
    for row, seq in enumerate(sequences):
        if not len(seq):
            continue
        kept = np.asarray(seq[-maxlen:] if truncating == "pre" else seq[:maxlen], dtype=dtype)
        if kept.shape[1:] != item_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {row} is different "
                f"from expected shape {item_shape}"
            )
        if padding == "post":
            out[row, : len(kept)] = kept
        else:
            out[row, -len(kept) :] = kept
    return out
