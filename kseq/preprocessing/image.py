"""``kseq.preprocessing.image``: Keras's legacy path to the image file helpers.

The same functions as ``kseq.utils.load_img`` / ``img_to_array`` / ``array_to_img`` /
``save_img``, plus ``smart_resize``.

Example:
    >>> import numpy as np
    >>> smart_resize(np.ones((4, 8, 3)), (2, 2)).shape
    (2, 2, 3)
"""

from __future__ import annotations

from kseq.core.image_utils import array_to_img as array_to_img
from kseq.core.image_utils import img_to_array as img_to_array
from kseq.core.image_utils import load_img as load_img
from kseq.core.image_utils import save_img as save_img
from kseq.core.image_utils import smart_resize as smart_resize

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
