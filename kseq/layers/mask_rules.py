"""Keras masks between layers: which layers start one, which take one, what a layer's output carries.

Sequential and Functional models share these rules. A model nested as a layer passes its inner mask
on through its output tensor (``_keras_mask``, set by its own forward), as Keras's nested models do.
"""

from __future__ import annotations

import inspect
from typing import Any

from kseq.layers.layer import Layer

_MASK_ARG: dict[type, bool] = {}


def produces_mask(layer: Any) -> bool:
    """Whether ``layer`` may start a mask, so that a model needs its masked forward path.

    Layers that only transform an incoming mask (LSTM, Bidirectional...) say ``creates_mask =
    False``, so a stack without an ``Embedding(mask_zero=True)``/``Masking`` keeps the fast path.

    Example:
        >>> from kseq import layers
        >>> produces_mask(layers.Embedding(10, 2, mask_zero=True)), produces_mask(layers.Dense(2))
        (True, False)
    """
    creates = getattr(layer, "creates_mask", None)
    if creates is not None:
        return bool(creates)
    return type(layer).compute_mask is not Layer.compute_mask


def accepts_mask(layer: Any) -> bool:
    """Whether ``layer``'s ``call`` (or ``forward``) takes a ``mask`` argument.

    Example:
        >>> from kseq import layers
        >>> accepts_mask(layers.LSTM(2)), accepts_mask(layers.Dense(2))
        (True, False)
    """
    cls = type(layer)
    if cls not in _MASK_ARG:
        fn = cls.call if cls.forward is Layer.forward else cls.forward
        params = inspect.signature(fn).parameters
        _MASK_ARG[cls] = "mask" in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
        )
    return _MASK_ARG[cls]


def output_mask(layer: Any, inputs: Any, mask: Any, outputs: Any) -> Any:
    """The mask ``layer``'s ``outputs`` carry: a nested model's from its output tensors, any other
    layer's from ``compute_mask(inputs, mask)``.

    Example:
        >>> import torch
        >>> from kseq import layers
        >>> x = torch.tensor([[3, 0]])
        >>> output_mask(layers.Embedding(5, 2, mask_zero=True), x, None, None).tolist()
        [[True, False]]
    """
    if getattr(layer, "mask_in_outputs", False):
        if isinstance(outputs, (list, tuple)):
            return [getattr(t, "_keras_mask", None) for t in outputs]
        return getattr(outputs, "_keras_mask", None)
    return layer.compute_mask(inputs, mask)


class MaskedOutputs:
    """Mixin for models nested as layers: their output tensors carry the inner mask, and they
    start one when a layer inside does (``_mask_aware``, kept by the model as layers are added).

    Example:
        >>> import kseq
        >>> inner = kseq.Sequential([kseq.Input((4,), dtype="int32"),
        ...                          kseq.layers.Embedding(10, 3, mask_zero=True)])
        >>> inner.creates_mask, inner.mask_in_outputs
        (True, True)
    """

    mask_in_outputs = True
    _mask_aware: bool

    @property
    def creates_mask(self) -> bool:
        """Whether a layer inside starts a mask."""
        return self._mask_aware
