"""``kseq.saving``: object registration, (de)serialization, and model / weights files.

``save_model`` / ``load_model`` / ``save_weights`` / ``load_weights`` read and write Keras 3's
``.keras`` and ``.weights.h5`` files (h5py: the ``kseq[h5]`` extra) and kseq's torch-native
``.weights.pt``; see :mod:`kseq.saving.api`. Writes are atomic and reads never run code from a file.

Example:
    >>> import kseq
    >>> from kseq.saving import deserialize_keras_object, serialize_keras_object
    >>> config = serialize_keras_object(kseq.layers.Dense(2, name="d"))
    >>> config["module"], config["class_name"], deserialize_keras_object(config).units
    ('keras.layers', 'Dense', 2)
"""

from kseq.core.not_ported import missing as _missing
from kseq.registry.object_config import deserialize_keras_object as deserialize_keras_object
from kseq.registry.object_config import serialize_keras_object as serialize_keras_object
from kseq.registry.object_registration import CustomObjectScope as CustomObjectScope
from kseq.registry.object_registration import custom_object_scope as custom_object_scope
from kseq.registry.object_registration import get_custom_objects as get_custom_objects
from kseq.registry.object_registration import get_registered_name as get_registered_name
from kseq.registry.object_registration import get_registered_object as get_registered_object
from kseq.registry.object_registration import (
    register_keras_serializable as register_keras_serializable,
)
from kseq.saving.api import load_model as load_model
from kseq.saving.api import load_weights as load_weights
from kseq.saving.api import save_model as save_model
from kseq.saving.api import save_weights as save_weights


def __getattr__(name: str) -> object:
    # A Keras name kseq does not have says why, and what to write instead (core/not_ported.py).
    raise _missing("kseq.saving", name)
