"""Keras dtype names and Keras's type-promotion rules, on torch dtypes.

Keras ops speak in dtype *strings* (``"float32"``, ``"int32"``, ``"bool"``...) and promote mixed
inputs along a JAX-style lattice in which Python ``int``/``float`` are *weak* types (``int32 tensor
+ 1.5`` is ``float32``, ``float16 tensor + 2`` stays ``float16``) and the promoted result is capped
at 32 bits (``result_type("int64", "int32") == "int32"``). This module owns that vocabulary for
``kseq.ops``, ``kseq.random`` and ``kseq.Variable``: :func:`standardize_dtype`,
:func:`to_torch_dtype`, :func:`result_type`.

Example:
    >>> result_type("int32", float), result_type("uint8", "int8"), to_torch_dtype("int32")
    ('float32', 'int16', torch.int32)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from kseq import config

__all__ = ["is_float_dtype", "is_int_dtype", "result_type", "standardize_dtype", "to_torch_dtype"]

# Keras's torch backend maps the unsigned types torch lacks to wider signed ones.
_TORCH_DTYPES: dict[str, torch.dtype] = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "uint8": torch.uint8,
    "uint16": torch.int32,
    "uint32": torch.int64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_FROM_TORCH = {
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.float32: "float32",
    torch.float64: "float64",
    torch.uint8: "uint8",
    torch.int8: "int8",
    torch.int16: "int16",
    torch.int32: "int32",
    torch.int64: "int64",
    torch.bool: "bool",
    torch.complex64: "complex64",
    torch.complex128: "complex128",
}
_PYTHON_TYPES = {bool: "bool", int: "int32", float: "float32", complex: "complex64"}
_ALLOWED = (*_TORCH_DTYPES, "uint64")


def standardize_dtype(dtype: Any) -> str:
    """The Keras name of ``dtype`` (a string, torch/NumPy dtype or Python type); ``None`` is
    ``floatx()``.

    Example:
        >>> standardize_dtype(torch.float16), standardize_dtype(np.int64), standardize_dtype(None)
        ('float16', 'int64', 'float32')
    """
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, torch.dtype):
        name = _FROM_TORCH.get(dtype)
    elif isinstance(dtype, type) and dtype in _PYTHON_TYPES:
        name = _PYTHON_TYPES[dtype]
    elif isinstance(dtype, str):
        name = dtype.removeprefix("torch.")
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
    if name not in _ALLOWED:
        raise ValueError(
            f"Invalid dtype: {dtype!r}. Expected a dtype name such as 'float32', 'int32' or 'bool' "
            f"(one of {sorted(_ALLOWED)}), a torch/NumPy dtype, or a Python type."
        )
    return name  # type: ignore[return-value]


def to_torch_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype Keras's torch backend uses for ``dtype`` (``None`` is ``floatx()``).

    Example:
        >>> to_torch_dtype("float64"), to_torch_dtype("uint16")
        (torch.float64, torch.int32)
    """
    if isinstance(dtype, torch.dtype):
        return dtype
    name = standardize_dtype(dtype)
    if name not in _TORCH_DTYPES:
        raise ValueError(f"Unsupported dtype for PyTorch: {dtype!r}")
    return _TORCH_DTYPES[name]


def is_float_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a floating-point type.

    Example:
        >>> is_float_dtype("bfloat16"), is_float_dtype(torch.int32)
        (True, False)
    """
    return "float" in standardize_dtype(dtype)


def is_int_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a (signed or unsigned) integer type.

    Example:
        >>> is_int_dtype("uint8"), is_int_dtype("bool")
        (True, False)
    """
    return "int" in standardize_dtype(dtype)


# ------------------------------------------------------------------ promotion lattice
# Each type points to the types directly above it; "int"/"float" are the weak Python types.
_LATTICE: dict[str, tuple[str, ...]] = {
    "bool": ("int",),
    "int": ("uint8", "int8", "complex64"),
    "uint8": ("int16", "uint16"),
    "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"),
    "uint64": ("float",),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": ("float",),
    "float": ("bfloat16", "float16"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64", "complex64"),
    "float64": ("complex128",),
    "complex64": ("complex128",),
    "complex128": (),
}
_CAP_64_BITS = {
    "int64": "int32",
    "uint64": "uint32",
    "float64": "float32",
    "complex128": "complex64",
}


@functools.cache
def _at_or_above(node: str) -> frozenset[str]:
    """Every type ``node`` promotes to (itself included)."""
    return frozenset({node}).union(*(_at_or_above(up) for up in _LATTICE[node]))


@functools.cache
def _least_upper_bound(nodes: frozenset[str]) -> str:
    common = frozenset.intersection(*(_at_or_above(n) for n in nodes))
    least = [c for c in common if common <= _at_or_above(c)]
    if len(least) != 1:
        raise ValueError(
            f"Input dtypes {tuple(sorted(nodes))} have no available implicit dtype promotion path. "
            "Try explicitly casting inputs to the desired output type."
        )
    return least[0]


def _weak(name: str) -> str:
    if name == "bool":
        return name
    return "float" if "float" in name else "int" if "int" in name else "complex64"


def result_type(*dtypes: Any) -> str:
    """The dtype Keras's promotion rules give for combining ``dtypes`` (``keras.backend.result_type``).

    Python ``int``/``float`` are weak: they never widen a typed operand of their own kind. The
    result is capped at 32 bits, as in Keras (on every backend but TensorFlow).

    Example:
        >>> result_type("int32", "float16"), result_type("bool", int), result_type("int64", "int32")
        ('float16', 'int32', 'int32')
    """
    if not dtypes:
        return config.floatx()
    parsed = [(standardize_dtype(d), d is int or d is float) for d in dtypes]
    names = {name for name, _ in parsed}
    if len(parsed) == 1:
        out, weak = parsed[0]
    elif len(names) == 1 and not all(w for _, w in parsed):
        out, weak = names.pop(), False
    elif all(w for _, w in parsed):
        out, weak = _least_upper_bound(frozenset(names)), True
    else:
        out = _least_upper_bound(frozenset(_weak(n) if w else n for n, w in parsed))
        weak = out in ("int", "float")
    if weak and out != "bool":
        out = _resolve_weak(out)
    return _CAP_64_BITS.get(out, out)


def _resolve_weak(name: str) -> str:
    """A weakly typed result takes the precision of ``floatx()`` (``int`` -> ``int32``)."""
    bits = config.floatx()[-2:]
    if name.startswith("u"):
        return f"uint{bits}"
    if name.startswith("i"):
        return f"int{bits}"
    return f"float{bits}"
