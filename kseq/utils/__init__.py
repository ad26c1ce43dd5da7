"""``kseq.utils``: Keras's data and housekeeping helpers.

Example:
    >>> from kseq.utils import to_categorical
    >>> to_categorical([0, 1]).shape
    (2, 2)
"""

from __future__ import annotations

from kseq.config import set_random_seed as set_random_seed
from kseq.saving.object_registration import custom_object_scope as custom_object_scope
from kseq.saving.object_registration import get_custom_objects as get_custom_objects
from kseq.saving.object_registration import get_registered_name as get_registered_name
from kseq.saving.object_registration import get_registered_object as get_registered_object
from kseq.saving.object_registration import (
    register_keras_serializable as register_keras_serializable,
)
from kseq.utils.io import disable_interactive_logging as disable_interactive_logging
from kseq.utils.io import enable_interactive_logging as enable_interactive_logging
from kseq.utils.io import is_interactive_logging_enabled as is_interactive_logging_enabled
from kseq.utils.numerical import normalize as normalize
from kseq.utils.numerical import to_categorical as to_categorical
from kseq.utils.progbar import Progbar as Progbar
from kseq.utils.py_dataset import PyDataset as PyDataset
from kseq.utils.py_dataset import Sequence as Sequence
from kseq.utils.sequence import pad_sequences as pad_sequences


def clear_session() -> None:
    """Reset Keras auto-naming (``dense``, ``dense_1``, ...), as ``keras.utils.clear_session``.

    Example:
        >>> import kseq
        >>> clear_session(); kseq.layers.Dense(1).name
        'dense'
    """
    from kseq.utils.naming import reset_uids

    reset_uids()
