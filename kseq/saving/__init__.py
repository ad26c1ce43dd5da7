"""``kseq.saving``: object registration and (de)serialization.

Example:
    >>> from kseq.saving import register_keras_serializable
    >>> callable(register_keras_serializable)
    True
"""

from kseq.saving.object_registration import CustomObjectScope as CustomObjectScope
from kseq.saving.object_registration import custom_object_scope as custom_object_scope
from kseq.saving.object_registration import get_custom_objects as get_custom_objects
from kseq.saving.object_registration import get_registered_name as get_registered_name
from kseq.saving.object_registration import get_registered_object as get_registered_object
from kseq.saving.object_registration import (
    register_keras_serializable as register_keras_serializable,
)
