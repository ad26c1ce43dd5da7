"""Element-wise merge layers and their functional twins: ``Add``/``add``, ``Subtract``/``subtract``,
``Multiply``/``multiply``, ``Average``/``average``, ``Maximum``/``maximum``, ``Minimum``/``minimum``.

Each layer takes a list of tensors with broadcastable shapes (Keras's rules, see
:mod:`kseq.layers.base_merge`) and returns one tensor. Each twin builds the layer and calls it on
the inputs (``add(inputs, **kwargs) == Add(**kwargs)(inputs)``), as Keras's do.

Example:
    >>> import torch
    >>> a, b = torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])
    >>> add([a, b]), maximum([a, b])
    (tensor([[4., 7.]]), tensor([[3., 5.]]))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq.layers.base_merge import Masks, Merge, _feature_mask

__all__ = [
    "Add",
    "Average",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]


class Add(Merge):
    """Element-wise sum of a list of inputs.

    Input shape: a list of tensors with broadcastable shapes. Output shape: their broadcast shape.

    Example:
        >>> Add()([torch.ones(2, 3), torch.full((2, 1), 2.0)])
        tensor([[3., 3., 3.],
                [3., 3., 3.]])
    """

    def _merge_function(self, inputs: list[Tensor], masks: Masks) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


class Subtract(Merge):
    """Element-wise difference ``inputs[0] - inputs[1]`` of exactly two inputs.

    Example:
        >>> Subtract()([torch.tensor([[5.0, 1.0]]), torch.tensor([[2.0, 2.0]])])
        tensor([[ 3., -1.]])
    """

    def build(self, input_shape: Any) -> None:
        """Validate the shapes; there must be exactly two."""
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: input_shape={input_shape}"
            )

    def _merge_function(self, inputs: list[Tensor], masks: Masks) -> Tensor:
        if len(inputs) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: inputs={inputs}"
            )
        return inputs[0] - inputs[1]


class Multiply(Merge):
    """Element-wise product of a list of inputs.

    With masks (one per input, ``(batch, time)`` over ``(batch, time, features)`` inputs), a
    masked-out value counts as 1 in the product, and a step masked out in every input gives 0
    (Keras's rule).

    Example:
        >>> Multiply()([torch.tensor([[2.0, 3.0]]), torch.tensor([[4.0, 0.5]])])
        tensor([[8.0000, 1.5000]])
    """

    def _merge_function(self, inputs: list[Tensor], masks: Masks) -> Tensor:
        has_output_mask = all(m is not None for m in masks)
        output: Tensor | None = None
        output_mask: Tensor | None = None
        for x, mask in zip(inputs, masks, strict=True):
            feature_mask = _feature_mask(mask, x)
            if feature_mask is not None:
                x = torch.where(feature_mask, x, x.new_ones(()))  # masked out: 1 in the product
                if has_output_mask:
                    output_mask = (
                        feature_mask
                        if output_mask is None
                        else torch.logical_or(output_mask, feature_mask)
                    )
            output = x if output is None else output * x
        assert output is not None
        if output_mask is not None:
            output = torch.where(output_mask, output, output.new_zeros(()))
        return output


class Average(Merge):
    """Element-wise mean of a list of inputs.

    Example:
        >>> Average()([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 6.0]])])
        tensor([[2., 4.]])
    """

    def _merge_function(self, inputs: list[Tensor], masks: Masks) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


class Maximum(Merge):
    """Element-wise maximum of a list of inputs.

    With masks, a value masked out in one input takes the other input's value (Keras's rule).

    Example:
        >>> Maximum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])])
        tensor([[3., 5.]])
    """

    def _merge_function(self, inputs: list[Tensor], masks: Masks) -> Tensor:
        return self._apply_merge_op_and_or_mask(torch.maximum, inputs, masks)


class Minimum(Merge):
    """Element-wise minimum of a list of inputs.

    With masks, a value masked out in one input takes the other input's value (Keras's rule).

    Example:
        >>> Minimum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])])
        tensor([[1., 2.]])
    """

    def _merge_function(self, inputs: list[Tensor], masks: Masks) -> Tensor:
        return self._apply_merge_op_and_or_mask(torch.minimum, inputs, masks)


def add(inputs: Sequence[Tensor], **kwargs: Any) -> Tensor:
    """Functional interface to :class:`Add`: the element-wise sum of ``inputs``.

    Args:
        inputs: A list of tensors with broadcastable shapes.
        **kwargs: Standard layer keyword arguments (``name``...).

    Example:
        >>> add([torch.ones(1, 2), torch.ones(1, 2)])
        tensor([[2., 2.]])
    """
    return Add(**kwargs)(inputs)


def subtract(inputs: Sequence[Tensor], **kwargs: Any) -> Tensor:
    """Functional interface to :class:`Subtract`: ``inputs[0] - inputs[1]``.

    Example:
        >>> subtract([torch.ones(1, 2), torch.full((1, 2), 3.0)])
        tensor([[-2., -2.]])
    """
    return Subtract(**kwargs)(inputs)


def multiply(inputs: Sequence[Tensor], **kwargs: Any) -> Tensor:
    """Functional interface to :class:`Multiply`: the element-wise product of ``inputs``.

    Example:
        >>> multiply([torch.full((1, 2), 2.0), torch.full((1, 2), 3.0)])
        tensor([[6., 6.]])
    """
    return Multiply(**kwargs)(inputs)


def average(inputs: Sequence[Tensor], **kwargs: Any) -> Tensor:
    """Functional interface to :class:`Average`: the element-wise mean of ``inputs``.

    Example:
        >>> average([torch.zeros(1, 2), torch.full((1, 2), 3.0)])
        tensor([[1.5000, 1.5000]])
    """
    return Average(**kwargs)(inputs)


def maximum(inputs: Sequence[Tensor], **kwargs: Any) -> Tensor:
    """Functional interface to :class:`Maximum`: the element-wise maximum of ``inputs``.

    Example:
        >>> maximum([torch.tensor([[1.0, 4.0]]), torch.tensor([[2.0, 3.0]])])
        tensor([[2., 4.]])
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Sequence[Tensor], **kwargs: Any) -> Tensor:
    """Functional interface to :class:`Minimum`: the element-wise minimum of ``inputs``.

    Example:
        >>> minimum([torch.tensor([[1.0, 4.0]]), torch.tensor([[2.0, 3.0]])])
        tensor([[1., 3.]])
    """
    return Minimum(**kwargs)(inputs)
