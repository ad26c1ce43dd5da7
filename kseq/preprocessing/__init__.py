"""``kseq.preprocessing``: Keras 3's legacy ``keras.preprocessing`` paths that still exist.

Only ``kseq.preprocessing.sequence.pad_sequences`` (the same function as
``kseq.utils.pad_sequences``); the preprocessing *layers* are in ``kseq.layers``.

Example:
    >>> from kseq.preprocessing import sequence
    >>> sequence.pad_sequences([[1, 2], [3]]).tolist()
    [[1, 2], [0, 3]]
"""

from __future__ import annotations

from kseq.preprocessing import sequence as sequence

__all__ = ["sequence"]
