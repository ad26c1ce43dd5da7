"""Data at a layer's entrance: NumPy arrays, Python lists and scalars become tensors, once.

Keras users call layers and models on whatever they hold (``layers.Dense(4)(np.ones((2, 3)))``,
straight from the Sequential guide). ``Layer.__call__`` hands any first argument that is not a
tensor to :func:`convert_inputs` before torch's call machinery (and so before the lazy build,
the hooks and ``call``) runs; tensors pass straight through, so the ``fit`` hot path pays one
``isinstance`` per layer call.

Keras's dtype rules (``DTypePolicy.convert_input``): floating data becomes the layer's compute
dtype (float64 NumPy into a float32 layer is float32; under a mixed policy, the variable dtype, and
autocast takes it from there); integer data stays integer (Keras keeps integers: ``Embedding``'s ids, merge layers, user-written
layers, a list of inputs), except into kseq's built-in layers with float weights (built, or to be built by this
call), whose torch kernels need floats. The tensor is put
on the layer's device (that of its first weight; the CPU for a layer without weights).

Example:
    >>> import numpy as np
    >>> from kseq.layers import Dense, Embedding
    >>> Dense(4)(np.ones((2, 3))).dtype, Embedding(10, 2)(np.array([[1, 2]])).shape
    (torch.float32, torch.Size([1, 2, 2]))
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from kseq.layers.layer import Layer

__all__ = ["convert_inputs"]


def convert_inputs(layer: Layer, x: Any, keep_ints: bool = False) -> Any:
    """``x`` as the layer's input: arrays, lists of numbers and scalars as tensors (nested lists of
    arrays element by element); tensors and anything else unchanged.

    Example:
        >>> from kseq.layers import Dense
        >>> convert_inputs(Dense(1), [[1, 2]])
        tensor([[1., 2.]])
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple)):
        if x and not _all_numbers(x):
            # A list of inputs (merge layers): integers stay integers, as in Keras.
            return type(x)(convert_inputs(layer, item, keep_ints=True) for item in x)
        if not x:
            return x
    elif not isinstance(x, (np.ndarray, np.generic, numbers.Number)) and not hasattr(
        x, "__array__"
    ):
        return x
    tensor = torch.as_tensor(np.asarray(x), device=_device_of(layer))
    if keep_ints and not tensor.is_floating_point():
        return tensor
    return tensor.to(_target_dtype(layer, tensor))


def _all_numbers(items: list[Any] | tuple[Any, ...]) -> bool:
    """Whether a (nested) Python list holds only numbers: one array, not a list of inputs."""
    for item in items:
        if isinstance(item, (list, tuple)):
            if not _all_numbers(item):
                return False
        elif not isinstance(item, (numbers.Number, np.generic)):
            return False
    return True


def _target_dtype(layer: Layer, tensor: Tensor) -> torch.dtype:
    policy = layer.dtype_policy
    floating = policy.torch_variable_dtype if policy.is_mixed else policy.torch_compute_dtype
    if tensor.is_floating_point():
        return floating if getattr(layer, "autocast", True) else tensor.dtype
    if getattr(layer, "integer_inputs", False) or not type(layer)._builtin_call:
        return tensor.dtype
    weighted = next(layer.parameters(), None) is not None or not layer.built
    return floating if weighted else tensor.dtype


def _device_of(layer: Layer) -> torch.device:
    for tensor in layer.parameters():
        return tensor.device
    for tensor in layer.buffers():
        return tensor.device
    return torch.device("cpu")
