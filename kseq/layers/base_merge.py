"""``Merge``: the base of the layers that combine a list of tensors element-wise.

It owns what ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum`` and ``Minimum`` share
with Keras 3's ``keras.layers.merging.base_merge.Merge``:

* shape rules: ``build`` validates the list of input shapes (one batch size, broadcastable
  non-batch axes, right-aligned as in NumPy, a size 1 broadcasting) and ``compute_output_shape``
  gives the broadcast shape;
* rank alignment: inputs of lower rank get size-1 axes inserted after the batch axis
  (``(2, 3)`` merged with ``(2, 4, 3)`` is seen as ``(2, 1, 3)``), so the batch axis never
  broadcasts against a feature axis;
* masks: ``compute_mask`` ORs the input masks; masks reach ``forward`` either as ``mask=[...]``
  (one per input) or attached to the input tensors as ``_keras_mask`` (as Keras's tensors carry
  them), and the output carries the merged mask the same way.

Keras does not export this base class; neither does kseq.

Example:
    >>> import torch
    >>> from kseq.layers import Add
    >>> Add()([torch.ones(2, 3), torch.ones(2, 4, 3)]).shape
    torch.Size([2, 4, 3])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from kseq.layers.layer import Layer, Shape

__all__: list[str] = []

Masks = list[Tensor | None]


def _is_shape(shape: Any) -> bool:
    return isinstance(shape, (tuple, list))


def broadcast_shapes(shape1: Sequence[int | None], shape2: Sequence[int | None]) -> Shape:
    """The shape of an element-wise op on ``shape1`` and ``shape2`` (no batch axis), Keras's rule.

    Axes are aligned on the right; a size 1 broadcasts; ``None`` (unknown) wins over a size.

    Example:
        >>> broadcast_shapes((4, 3), (1,)), broadcast_shapes((None, 3), (5, 3))
        ((4, 3), (None, 3))
    """
    if len(shape1) < len(shape2):
        return broadcast_shapes(shape2, shape1)
    if not shape2:
        return tuple(shape1)
    out: list[int | None] = list(shape1[: -len(shape2)])
    for i, j in zip(shape1[-len(shape2) :], shape2, strict=True):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ValueError(
                f"Inputs have incompatible shapes. Received shapes {tuple(shape1)} and {tuple(shape2)}"
            )
    return tuple(out)


def as_tensors(layer: Layer, inputs: Sequence[Any]) -> list[Tensor]:
    """The list ``inputs`` as tensors (Keras's error if it is not a list): torch tensors as they
    are, arrays (NumPy, lists) converted as Keras's layer call does, floats in the layer's compute
    dtype (``float64`` arrays -> ``float32``).

    Example:
        >>> import numpy as np
        >>> [t.dtype for t in as_tensors(Layer(), [np.ones(2), torch.ones(2, dtype=torch.int64)])]
        [torch.float32, torch.int64]
    """
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(
            "A merge layer should be called on a list of inputs. "
            f"Received: inputs={inputs} (not a list of tensors)"
        )
    out = []
    for x in inputs:
        if not isinstance(x, Tensor):
            x = torch.as_tensor(x)
            if x.is_floating_point():
                x = x.to(layer.dtype_policy.torch_compute_dtype)
        out.append(x)
    return out


def check_mask_list(inputs: Any, mask: Any) -> None:
    """Keras's checks on ``compute_mask(inputs, mask)`` arguments of a merge layer.

    Example:
        >>> check_mask_list([torch.ones(1, 2)], torch.ones(1, 2))
        Traceback (most recent call last):
        ...
        ValueError: `mask` should be a list. Received: mask=tensor([[1., 1.]])
    """
    if not isinstance(mask, (tuple, list)):
        raise ValueError(f"`mask` should be a list. Received: mask={mask}")
    if not isinstance(inputs, (tuple, list)):
        raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError(
            "The lists `inputs` and `mask` should have the same length. "
            f"Received: inputs={inputs} of length {len(inputs)}, and "
            f"mask={mask} of length {len(mask)}"
        )


def input_masks(inputs: Sequence[Tensor], mask: Any) -> Masks | None:
    """The per-input masks: ``mask`` when given, else those attached to the inputs (``None``
    when no input has one).

    Example:
        >>> x = torch.ones(1, 2, 3)
        >>> x._keras_mask = torch.tensor([[True, False]])
        >>> input_masks([x, torch.ones(1, 2, 3)], None)
        [tensor([[ True, False]]), None]
    """
    if mask is not None:
        check_mask_list(inputs, mask)
        masks = list(mask)
    else:
        masks = [getattr(x, "_keras_mask", None) for x in inputs]
    return masks if any(m is not None for m in masks) else None


def attach_mask(output: Tensor, mask: Tensor | None) -> Tensor:
    """Carry ``mask`` on ``output`` as Keras's tensors do (``output._keras_mask``).

    Example:
        >>> attach_mask(torch.ones(1, 2, 3), torch.tensor([[True, False]]))._keras_mask
        tensor([[ True, False]])
    """
    if mask is not None and getattr(output, "_keras_mask", None) is None:
        output._keras_mask = mask  # type: ignore[attr-defined]
    return output


class Merge(Layer):
    """Base of the element-wise merge layers: subclasses implement ``_merge_function``.

    Args:
        **kwargs: Standard layer keyword arguments (``name``, ``dtype``, ``trainable``...).

    Example:
        >>> class Product(Merge):
        ...     def _merge_function(self, inputs, masks):
        ...         return inputs[0] * inputs[1]
        >>> Product()([torch.full((1, 2), 2.0), torch.full((1, 2), 3.0)])
        tensor([[6., 6.]])
    """

    supports_masking: ClassVar[bool] = True

    def _merge_function(self, inputs: list[Tensor], masks: Masks) -> Tensor:
        """Combine same-rank ``inputs``; ``masks`` are theirs (``None`` where an input has none)."""
        raise NotImplementedError

    def build(self, input_shape: Any) -> None:
        """Validate the input shapes (a merge layer has no weights)."""
        if not _is_shape(input_shape) or not input_shape or not _is_shape(input_shape[0]):
            if _is_shape(input_shape) and not input_shape:
                raise ValueError(
                    "A merge layer should be called on a list of at least 1 input. "
                    f"Received {len(input_shape)} inputs. Full input_shape received: {input_shape}"
                )
            raise ValueError(
                "A merge layer should be called on a list of inputs. "
                f"Received: input_shape={input_shape} (not a list of shapes)"
            )
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                "Cannot merge tensors with different batch sizes. "
                f"Received tensors with shapes {input_shape}"
            )
        self._elementwise_shape(input_shape)

    @staticmethod
    def _elementwise_shape(input_shape: Sequence[Sequence[int | None]]) -> Shape:
        output_shape: Shape = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output_shape = broadcast_shapes(output_shape, shape[1:])
        return output_shape

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """The broadcast shape of the inputs, batch axis first.

        Example:
            >>> from kseq.layers import Add
            >>> Add().compute_output_shape([(None, 4, 3), (None, 1)])
            (None, 4, 3)
        """
        output_shape = self._elementwise_shape(input_shape)
        batch_sizes = {s[0] for s in input_shape if s is not None} - {None}
        batch = next(iter(batch_sizes)) if len(batch_sizes) == 1 else None
        return (batch, *output_shape)

    def call(
        self, inputs: Sequence[Tensor], training: bool | None = None, mask: Any = None
    ) -> Tensor:
        """Merge the list ``inputs``; ``mask`` is an optional list of per-input masks."""
        inputs = as_tensors(self, inputs)
        masks = input_masks(inputs, mask)
        merge_masks: Masks = list(masks) if masks is not None else [None] * len(inputs)
        ranks = [x.ndim for x in inputs]
        max_rank = max(ranks)
        if min(ranks) != max_rank:
            # Keras's rank alignment: size-1 axes after the batch axis. (An expanded input's
            # attached mask does not follow it into the merge, as in Keras.)
            aligned = []
            for index, x in enumerate(inputs):
                if x.ndim < max_rank:
                    x = x.reshape(x.shape[:1] + (1,) * (max_rank - x.ndim) + x.shape[1:])
                    merge_masks[index] = None
                aligned.append(x)
            inputs = aligned
        output = self._merge_function(list(inputs), merge_masks)
        if masks is None:
            return output
        return attach_mask(output, self.compute_mask(inputs, masks))

    def compute_mask(self, inputs: Any, mask: Any = None) -> Tensor | None:
        """The OR of the input masks (``None`` unless every input has one).

        Example:
            >>> from kseq.layers import Add
            >>> x = torch.ones(1, 2, 1)
            >>> Add().compute_mask([x, x], [torch.tensor([[True, False]])] * 2).tolist()
            [[True, False]]
        """
        if mask is None:
            return None
        check_mask_list(inputs, mask)
        if any(m is None for m in mask):
            return None
        output_mask = mask[0]
        for m in mask[1:]:
            output_mask = torch.logical_or(output_mask, m)
        return output_mask

    def _apply_merge_op_and_or_mask(
        self, op: Callable[[Tensor, Tensor], Tensor], inputs: list[Tensor], masks: Masks
    ) -> Tensor:
        """Fold ``op`` over ``inputs``; a masked-out value of one input takes the other's value
        (Keras's rule for ``Maximum``/``Minimum``, which have no identity element)."""
        output = inputs[0]
        output_mask = _feature_mask(masks[0], output)
        for x, mask in zip(inputs[1:], masks[1:], strict=True):
            mask = _feature_mask(mask, x)
            if mask is not None:
                x = torch.where(mask, x, output)
            if output_mask is not None:
                output = torch.where(output_mask, output, x)
            if mask is not None and output_mask is not None:
                output_mask = torch.logical_or(output_mask, mask)
            else:
                output_mask = None
            output = op(output, x)
        return output


def _feature_mask(mask: Tensor | None, x: Tensor) -> Tensor | None:
    """A ``(batch, time)`` mask broadcast over ``x``'s last (feature) axis."""
    return None if mask is None else mask.unsqueeze(-1).expand(x.shape)
