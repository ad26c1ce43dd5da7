"""``kseq.backend``: the ``keras.backend`` helpers Keras code touches, re-exported from where
they live (``kseq.config`` for the global defaults, ``kseq.ops`` for tensors and dtypes).

``backend()`` is always ``"torch"``. ``is_keras_tensor`` recognizes the symbolic
:class:`~kseq.layers.input_layer.KerasTensor` that ``kseq.Input`` returns (real data is a
``torch.Tensor``, never a Keras tensor).

Example:
    >>> from kseq import backend as K
    >>> K.backend(), K.floatx(), K.epsilon(), K.image_data_format()
    ('torch', 'float32', 1e-07, 'channels_last')
"""

from __future__ import annotations

from typing import Any

from kseq.config import backend as backend
from kseq.config import epsilon as epsilon
from kseq.config import floatx as floatx
from kseq.config import image_data_format as image_data_format
from kseq.config import set_epsilon as set_epsilon
from kseq.config import set_floatx as set_floatx
from kseq.config import set_image_data_format as set_image_data_format
from kseq.core.naming import clear_session as clear_session
from kseq.core.naming import get_uid as get_uid
from kseq.layers.input_layer import KerasTensor as _KerasTensor
from kseq.ops.core import cast as cast
from kseq.ops.core import convert_to_numpy as convert_to_numpy
from kseq.ops.core import convert_to_tensor as convert_to_tensor
from kseq.ops.core import is_tensor as is_tensor
from kseq.ops.dtypes import is_float_dtype as is_float_dtype
from kseq.ops.dtypes import is_int_dtype as is_int_dtype
from kseq.ops.dtypes import result_type as result_type
from kseq.ops.dtypes import standardize_dtype as standardize_dtype

__all__ = [
    "backend",
    "cast",
    "clear_session",
    "convert_to_numpy",
    "convert_to_tensor",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "is_tensor",
    "random_seed_dtype",
    "result_type",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]


def is_keras_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic Keras tensor (what ``kseq.Input`` returns).

    Example:
        >>> import torch, kseq
        >>> is_keras_tensor(kseq.Input(shape=(3,))), is_keras_tensor(torch.zeros(3))
        (True, False)
    """
    return isinstance(x, _KerasTensor)


def random_seed_dtype() -> str:
    """The dtype of seed states: ``"int32"`` (torch has no ``uint32``), as Keras on torch.

    Example:
        >>> random_seed_dtype()
        'int32'
    """
    return "int32"
