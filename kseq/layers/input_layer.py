"""``Input`` / ``InputLayer``: the declared input shape of a model.

``kseq.Input(shape=(10,))`` returns a :class:`KerasTensor` (a symbolic shape + dtype, as in Keras);
adding it (or an ``InputLayer``) first to a ``Sequential`` builds every layer as it is added.

Example:
    >>> x = Input(shape=(10,))
    >>> x.shape, x.dtype
    ((None, 10), 'float32')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from kseq import config
from kseq.layers.layer import Layer, Shape, standardize_shape
from kseq.layers.node import KerasTensor, Node
from kseq.layers.symbolic import inbound_nodes

__all__ = ["Input", "InputLayer", "KerasTensor"]


class InputLayer(Layer):
    """The input of a model: a fixed ``batch_shape`` and dtype, no weights.

    Args:
        shape: Shape without the batch dimension, e.g. ``(28, 28, 1)``.
        batch_size: Optional fixed batch size.
        dtype: Input dtype name (default ``floatx()``; use ``"int32"``/``"int64"`` for token ids).
        batch_shape: Full shape including the batch dimension (alternative to ``shape``).
        name: Layer name (default ``input_layer``).

    Example:
        >>> InputLayer(shape=(4,)).batch_shape
        (None, 4)
    """

    def __init__(
        self,
        shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        dtype: Any = None,
        sparse: bool | None = None,
        ragged: bool | None = None,
        batch_shape: Sequence[int | None] | None = None,
        input_tensor: Any = None,
        optional: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        super().__init__(name=name, **kwargs)
        if sparse or ragged:
            raise NotImplementedError(
                "kseq has no sparse or ragged inputs: pass dense tensors (pad ragged sequences with "
                "kseq.utils.pad_sequences)."
            )
        if input_tensor is not None:
            raise NotImplementedError(
                "InputLayer(input_tensor=...) is not supported; use shape=... instead."
            )
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if batch_size is not None and batch_shape is not None:
            raise ValueError(
                "You cannot pass both `batch_size` and `batch_shape` at the same time."
            )
        if shape is None and batch_shape is None:
            raise ValueError("You must pass a `shape` argument.")
        if shape is not None:
            batch_shape = (batch_size, *standardize_shape(shape))
        self.batch_shape: Shape = standardize_shape(batch_shape)
        self.input_dtype = (
            str(dtype).removeprefix("torch.") if dtype is not None else config.floatx()
        )
        self.optional = optional
        self._torch_dtype: torch.dtype = getattr(torch, self.input_dtype)
        self._mark_built()
        self._build_output_shape = self.batch_shape
        tensor = KerasTensor(self.batch_shape, self.input_dtype, self)
        node = Node(self, outputs=[tensor], is_input=True)
        node.output_structure = tensor
        inbound_nodes(self).append(node)

    @property
    def dtype(self) -> str:
        return self.input_dtype

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {
            "batch_shape": list(self.batch_shape),
            "dtype": self.input_dtype,
            "sparse": False,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }


def Input(
    shape: Sequence[int | None] | None = None,
    batch_size: int | None = None,
    dtype: Any = None,
    sparse: bool | None = None,
    ragged: bool | None = None,
    batch_shape: Sequence[int | None] | None = None,
    name: str | None = None,
    tensor: Any = None,
    optional: bool = False,
) -> KerasTensor:
    """Declare a model input (``keras.Input``): returns a symbolic :class:`KerasTensor`.

    Example:
        >>> import kseq
        >>> model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(2)])
        >>> model.output_shape
        (None, 2)
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        ragged=ragged,
        batch_shape=batch_shape,
        input_tensor=tensor,
        optional=optional,
        name=name,
    )
    return layer.output
