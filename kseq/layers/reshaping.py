"""Reshaping layers that rearrange whole axes: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``.

``Flatten`` keeps Keras's channels_last element order, so Dense weights after a Flatten port
between Keras and kseq unchanged. ``Permute`` and ``RepeatVector`` return views (no copy);
the spatial layers (cropping, padding, upsampling) are in ``spatial_reshaping.py``.

Example:
    >>> import torch
    >>> Flatten()(torch.zeros(2, 3, 4)).shape
    torch.Size([2, 12])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from torch import Tensor

from kseq import config
from kseq.layers.layer import InputSpec, Layer, Shape, format_shape

__all__ = ["Flatten", "Reshape", "Permute", "RepeatVector"]


class Flatten(Layer):
    """Flatten all but the batch axis, in channels_last order.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``; for channels_first inputs
            the channel axis is moved last before flattening, as Keras does, so the flattened order
            does not depend on the data format.

    Input shape: ``(batch, ...)``. Output shape: ``(batch, prod(...))`` (``(batch, 1)`` for rank 1).

    Example:
        >>> Flatten().compute_output_shape((None, 7, 7, 64))
        (None, 3136)
    """

    supports_masking = False

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = config.standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        if not rest:
            return (input_shape[0], 1)
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshape the non-batch axes to ``target_shape`` (one entry may be ``-1``).

    Example:
        >>> Reshape((3, -1)).compute_output_shape((None, 12))
        (None, 3, 4)
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        target = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in target) > 1:
            raise ValueError(
                f"There must be at most one unknown dimension (-1) in target_shape. Received: {target}"
            )
        if any(d == 0 or d < -1 for d in target):
            raise ValueError(
                f"Invalid `target_shape`: dimensions must be positive or -1. Received: {target}"
            )
        self.target_shape = target
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return inputs.reshape(inputs.shape[0], *self.target_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            if None not in rest and math.prod(rest) != math.prod(self.target_shape):
                raise ValueError(self._size_error(input_shape))
            return (input_shape[0], *self.target_shape)
        if None in rest:
            return (input_shape[0], *(None if d == -1 else d for d in self.target_shape))
        known = -math.prod(self.target_shape)
        if math.prod(rest) % known:
            raise ValueError(self._size_error(input_shape))
        return (
            input_shape[0],
            *(math.prod(rest) // known if d == -1 else d for d in self.target_shape),
        )

    def _size_error(self, input_shape: Shape) -> str:
        return (
            f"Reshape layer '{self.name}' cannot reshape an input of shape {format_shape(input_shape)} "
            f"to target_shape {self.target_shape}: the total size of the new array must be unchanged."
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permute the non-batch axes: ``dims`` is 1-indexed, e.g. ``(2, 1)`` swaps the two axes.

    Returns a view (``Tensor.permute``); no data is copied.

    Args:
        dims: A permutation of ``1..rank-1`` (the batch axis stays first).

    Input shape: rank ``len(dims) + 1``. Output shape: the input's axes reordered by ``dims``.

    Example:
        >>> Permute((2, 1)).compute_output_shape((None, 10, 64))
        (None, 64, 10)
    """

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                f"must be consecutive and start from 1. Received dims={dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeat a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    Returns a broadcast view (``expand``: stride 0 along the new axis), as cheap as the input;
    layers that read it (``Dense``, ``LSTM``...) see ``n`` equal timesteps.

    Args:
        n: Number of repetitions (a positive int).

    Example:
        >>> import torch
        >>> RepeatVector(3)(torch.tensor([[1.0, 2.0]])).tolist()
        [[[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]]
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}
