"""``kseq.utils``: Keras's data and housekeeping helpers.

Example:
    >>> from kseq.utils import to_categorical
    >>> to_categorical([0, 1]).shape
    (2, 2)
"""

from __future__ import annotations

from kseq.config import set_random_seed as set_random_seed
from kseq.core.data_tuples import pack_x_y_sample_weight as pack_x_y_sample_weight
from kseq.core.data_tuples import unpack_x_y_sample_weight as unpack_x_y_sample_weight
from kseq.core.image_dataset import image_dataset_from_directory as image_dataset_from_directory
from kseq.core.image_utils import array_to_img as array_to_img
from kseq.core.image_utils import img_to_array as img_to_array
from kseq.core.image_utils import load_img as load_img
from kseq.core.image_utils import save_img as save_img
from kseq.core.io import disable_interactive_logging as disable_interactive_logging
from kseq.core.io import enable_interactive_logging as enable_interactive_logging
from kseq.core.io import is_interactive_logging_enabled as is_interactive_logging_enabled
from kseq.core.naming import clear_session as clear_session
from kseq.core.not_ported import missing as _missing
from kseq.core.numerical import normalize as normalize
from kseq.core.numerical import to_categorical as to_categorical
from kseq.core.plot_history import plot_history as plot_history
from kseq.core.progbar import Progbar as Progbar
from kseq.core.py_dataset import PyDataset as PyDataset
from kseq.core.py_dataset import Sequence as Sequence
from kseq.core.sequence import pad_sequences as pad_sequences
from kseq.core.split_dataset import split_dataset as split_dataset
from kseq.core.text_dataset import text_dataset_from_directory as text_dataset_from_directory
from kseq.core.timeseries_dataset import (
    timeseries_dataset_from_array as timeseries_dataset_from_array,
)
from kseq.layers.node import get_source_inputs as get_source_inputs
from kseq.layers.node import is_keras_tensor as is_keras_tensor
from kseq.ops.dtypes import standardize_dtype as standardize_dtype
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


def __getattr__(name: str) -> object:
    # A Keras name kseq does not have says why, and what to write instead (core/not_ported.py).
    raise _missing("kseq.utils", name)
