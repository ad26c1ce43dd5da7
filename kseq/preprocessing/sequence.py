"""``kseq.preprocessing.sequence``: Keras's legacy path to :func:`kseq.utils.pad_sequences`.

Example:
    >>> pad_sequences([[1], [2, 3]], padding="post").tolist()
    [[1, 0], [2, 3]]
"""

from __future__ import annotations

from kseq.core.sequence import pad_sequences as pad_sequences

__all__ = ["pad_sequences"]
