"""``kseq.preprocessing``: Keras 3's legacy ``keras.preprocessing`` paths that still exist.

``sequence.pad_sequences``, the ``image`` file helpers and the directory/array dataset builders
(the same functions as in ``kseq.utils``); the preprocessing *layers* are in ``kseq.layers``.

Example:
    >>> from kseq.preprocessing import sequence
    >>> sequence.pad_sequences([[1, 2], [3]]).tolist()
    [[1, 2], [0, 3]]
"""

from __future__ import annotations

from kseq.core.image_dataset import image_dataset_from_directory as image_dataset_from_directory
from kseq.core.text_dataset import text_dataset_from_directory as text_dataset_from_directory
from kseq.core.timeseries_dataset import (
    timeseries_dataset_from_array as timeseries_dataset_from_array,
)
from kseq.preprocessing import image as image
from kseq.preprocessing import sequence as sequence

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
