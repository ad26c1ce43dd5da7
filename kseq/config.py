"""Global defaults shared by every kseq module (Keras's `keras.config`).

One source of truth for `floatx`, `epsilon`, `image_data_format`, the random seed and the
"unsafe deserialization" switch.

Example:
    >>> import kseq
    >>> kseq.config.floatx(), kseq.config.epsilon(), kseq.config.image_data_format()
    ('float32', 1e-07, 'channels_last')
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

# Keras 3 exports these from `keras.config` too (and from `keras.utils`).
from kseq.core.io import disable_interactive_logging as disable_interactive_logging
from kseq.core.io import enable_interactive_logging as enable_interactive_logging
from kseq.core.io import is_interactive_logging_enabled as is_interactive_logging_enabled
from kseq.core.not_ported import missing as _missing

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_UNSAFE_DESERIALIZATION = False
_FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


def floatx() -> str:
    """Return the default float type as a string (``"float32"`` unless changed).

    Example:
        >>> floatx()
        'float32'
    """
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type (``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``).

    Example:
        >>> set_floatx("float64"); floatx()
        'float64'
        >>> set_floatx("float32")
    """
    global _FLOATX
    if value not in _FLOAT_DTYPES:
        raise ValueError(
            f"Unknown `floatx` value: {value!r}. Expected one of {list(_FLOAT_DTYPES)}."
        )
    _FLOATX = str(value)


def floatx_dtype() -> torch.dtype:
    """The torch dtype of :func:`floatx`.

    Example:
        >>> floatx_dtype()
        torch.float32
    """
    return getattr(torch, _FLOATX)


def epsilon() -> float:
    """Return the fuzz factor used in numeric expressions (``1e-7``, as in Keras).

    Example:
        >>> epsilon()
        1e-07
    """
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor used in numeric expressions.

    Example:
        >>> set_epsilon(1e-5); epsilon()
        1e-05
        >>> set_epsilon(1e-7)
    """
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """Return the default image layout: ``"channels_last"`` (Keras's default on every backend).

    Example:
        >>> image_data_format()
        'channels_last'
    """
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the default image layout, ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> set_image_data_format("channels_first"); image_data_format()
        'channels_first'
        >>> set_image_data_format("channels_last")
    """
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format


def standardize_data_format(data_format: str | None) -> str:
    """Resolve ``None`` to :func:`image_data_format` and validate the value.

    Example:
        >>> standardize_data_format(None)
        'channels_last'
    """
    if data_format is None:
        return _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format!r}"
        )
    return data_format


def backend() -> str:
    """The backend name. kseq always runs on PyTorch, so this is ``"torch"``.

    Example:
        >>> backend()
        'torch'
    """
    return "torch"


def enable_unsafe_deserialization() -> None:
    """Allow loading code-bearing configs (e.g. ``Lambda`` layers) everywhere, as in Keras.

    Example:
        >>> enable_unsafe_deserialization(); is_unsafe_deserialization_enabled()
        True
        >>> disable_unsafe_deserialization()
    """
    global _UNSAFE_DESERIALIZATION
    _UNSAFE_DESERIALIZATION = True


def disable_unsafe_deserialization() -> None:
    """Undo :func:`enable_unsafe_deserialization` (the default state).

    Example:
        >>> disable_unsafe_deserialization(); is_unsafe_deserialization_enabled()
        False
    """
    global _UNSAFE_DESERIALIZATION
    _UNSAFE_DESERIALIZATION = False


def is_unsafe_deserialization_enabled() -> bool:
    """Whether :func:`enable_unsafe_deserialization` was called.

    Example:
        >>> is_unsafe_deserialization_enabled()
        False
    """
    return _UNSAFE_DESERIALIZATION


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and every GPU), as ``keras.utils.set_random_seed``.

    Example:
        >>> set_random_seed(0); a = torch.rand(2)
        >>> set_random_seed(0); bool((a == torch.rand(2)).all())
        True
    """
    if not isinstance(seed, int):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def default_device() -> torch.device:
    """Where ``fit``/``evaluate``/``predict`` run a model the user has not placed: ``$KSEQ_DEVICE``
    if set, else CUDA when available (as Keras on torch does), else MPS, else the CPU.

    Example:
        >>> default_device().type in ("cpu", "cuda", "mps")
        True
    """
    if os.environ.get("KSEQ_DEVICE"):
        return torch.device(os.environ["KSEQ_DEVICE"])
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def __getattr__(name: str) -> object:
    # A Keras name kseq does not have says why, and what to write instead (core/not_ported.py).
    raise _missing("kseq.config", name)
