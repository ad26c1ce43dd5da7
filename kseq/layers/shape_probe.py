"""True output shapes for user layers: run the layer once on its input shape.

Keras finds the output shape of a layer that defines no ``compute_output_shape`` by running it
symbolically. kseq runs it for real, once, on a small zero batch: a custom layer before a ``Dense``
in a ``Sequential`` then tells the ``Dense`` its true feature count at ``add()`` time (so
``count_params()`` and ``summary()`` are right at once). The run is invisible: no gradients, the
global and the layers' own random generators restored, no ``add_loss`` losses kept. Unknown axes
(``None``) are tried at two sizes; an output axis that follows them is unknown too. A layer that
cannot run on the shape raises ``ValueError`` (``Sequential.add`` names both layers and shapes).

Example:
    >>> import torch
    >>> from kseq.layers import Layer
    >>> class Pairs(Layer):
    ...     def call(self, inputs):
    ...         return inputs.reshape(inputs.shape[0], -1, 2)
    >>> probe_output_shape(Pairs(), (None, 6))
    (None, 3, 2)
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from kseq.core.shapes import format_shape
from kseq.layers.loss_collection import MODEL_CALL_LOSSES

if TYPE_CHECKING:
    from kseq.layers.layer import Layer

__all__ = ["merge_shapes", "probe_output_shape", "shapes_of", "zeros_of_shape"]


def probe_output_shape(layer: Layer, input_shape: Any) -> Any:
    """The output shape of ``layer`` on ``input_shape`` (batch axis included), found by running it
    on zeros (built first when needed).

    Example:
        >>> from kseq.layers import Layer
        >>> class Sum(Layer):
        ...     def call(self, inputs):
        ...         return inputs.sum(-1)
        >>> probe_output_shape(Sum(), (None, 4, 5))
        (None, 4)
    """
    if not layer.built:
        layer._build_once(input_shape)
    last_error: Exception | None = None
    for dtype in (layer.dtype_policy.torch_variable_dtype, torch.int64):
        try:
            first, second = (_run(layer, input_shape, fill, dtype) for fill in (2, 3))
            return merge_shapes(first, second)
        except Exception as exc:  # any failure of user code is reported as a shape error
            last_error = exc
    raise ValueError(
        f'could not run layer "{layer.name}" ({type(layer).__name__}) on input shape '
        f"{format_shape(input_shape)} to find its output shape ({type(last_error).__name__}: "
        f"{last_error}). Check the input shape, or define `compute_output_shape(input_shape)` "
        "on the layer."
    ) from None


def _run(layer: Layer, input_shape: Any, fill: int, dtype: torch.dtype) -> Any:
    device = next((t.device for t in layer.parameters()), torch.device("cpu"))
    generators = [m._generator for m in layer.modules() if "_generator" in m.__dict__]
    states = [g.get_state() for g in generators]
    collected = list(MODEL_CALL_LOSSES.layers)
    counts = {id(lyr): len(lyr._losses) for lyr in collected}
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=devices), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return shapes_of(layer.forward(zeros_of_shape(input_shape, fill, dtype, device)))
    finally:
        for generator, state in zip(generators, states, strict=True):
            generator.set_state(state)
        for lyr in MODEL_CALL_LOSSES.layers:
            del lyr._losses[counts.get(id(lyr), 0) :]
        MODEL_CALL_LOSSES.layers[:] = collected


def zeros_of_shape(shape: Any, fill: int, dtype: torch.dtype, device: torch.device | str) -> Any:
    """Zeros of ``shape`` (a list of shapes gives a list), unknown axes (``None``) set to ``fill``.

    Example:
        >>> zeros_of_shape((None, 3), 2, torch.float32, "cpu").shape
        torch.Size([2, 3])
    """
    if isinstance(shape, list):
        return [zeros_of_shape(s, fill, dtype, device) for s in shape]
    return torch.zeros(tuple(fill if d is None else d for d in shape), dtype=dtype, device=device)


def shapes_of(output: Any) -> Any:
    """The shape of a tensor, or the list of shapes of a list/tuple of tensors.

    Example:
        >>> shapes_of([torch.zeros(2, 3), torch.zeros(4)])
        [(2, 3), (4,)]
    """
    if isinstance(output, (list, tuple)):
        return [shapes_of(o) for o in output]
    if not isinstance(output, Tensor):
        raise TypeError(f"the layer returned {type(output).__name__}, not a tensor")
    return tuple(output.shape)


def merge_shapes(a: Any, b: Any) -> Any:
    """Two probe runs' shapes as one: axes equal in both are known; axes that followed the probe
    size are ``None``. Raises ``ValueError`` when the rank itself changed.

    Example:
        >>> merge_shapes((2, 5), (3, 5))
        (None, 5)
    """
    if isinstance(a, list):
        return [merge_shapes(x, y) for x, y in zip(a, b, strict=True)]
    if len(a) != len(b):
        raise ValueError("the output rank depends on the input's unknown axes")
    return tuple(x if x == y else None for x, y in zip(a, b, strict=True))
