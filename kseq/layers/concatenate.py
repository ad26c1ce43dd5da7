"""``Concatenate`` / ``concatenate``: join a list of tensors along one axis (Keras 3's rules).

All inputs must have the same rank and the same sizes except along ``axis`` (unknown sizes,
``None``, match anything). The output mask, when any input has one, is Keras's: each input's mask
(all-True for an unmasked input) broadcast over its features, concatenated along ``axis``, then
reduced with ``any`` over the last axis.

Example:
    >>> import torch
    >>> concatenate([torch.zeros(2, 3), torch.ones(2, 1)]).shape
    torch.Size([2, 4])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from kseq.layers.base_merge import as_tensors, attach_mask, check_mask_list, input_masks
from kseq.layers.layer import Layer, Shape

__all__ = ["Concatenate", "concatenate"]


class Concatenate(Layer):
    """Concatenates a list of inputs along ``axis``.

    Args:
        axis: Axis along which to concatenate (default ``-1``, the features).
        **kwargs: Standard layer keyword arguments (``name``, ``dtype``...).

    Input shape: a list of tensors of one rank, equal except along ``axis``. Output shape: the
    same, with the ``axis`` sizes summed.

    Example:
        >>> x, y = torch.arange(20.0).reshape(2, 2, 5), torch.arange(20.0, 30.0).reshape(2, 1, 5)
        >>> Concatenate(axis=1)([x, y]).shape
        torch.Size([2, 3, 5])
    """

    supports_masking: ClassVar[bool] = True

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape: Any) -> None:
        """Validate the input shapes (Keras's check; a ``Concatenate`` has no weights)."""
        if (
            not isinstance(input_shape, (tuple, list))
            or len(input_shape) < 1
            or not isinstance(input_shape[0], (tuple, list))
        ):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of "
                f"at least 1 input. Received: input_shape={input_shape}"
            )
        # Every shape less its concatenation axis must agree (None matches any size).
        reduced = set()
        for shape in input_shape:
            dims = list(shape)
            if len(dims) > self.axis:
                del dims[self.axis]
            reduced.add(tuple(dims))
        if len(reduced) == 1:
            return
        error = ValueError(
            "A `Concatenate` layer requires inputs with matching shapes "
            f"except for the concatenation axis. Received: input_shape={input_shape}"
        )
        ranks = {len(dims) for dims in reduced}
        if len(ranks) != 1:
            raise error
        for axis in range(ranks.pop()):
            if len({dims[axis] for dims in reduced if dims[axis] is not None}) > 1:
                raise error

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """The first shape with the ``axis`` sizes summed (``None`` if any is unknown).

        Example:
            >>> Concatenate(axis=1).compute_output_shape([(None, 2, 5), (None, 3, 5)])
            (None, 5, 5)
        """
        if not isinstance(input_shape, (tuple, list)) or not isinstance(
            input_shape[0], (tuple, list)
        ):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of inputs. "
                f"Received: input_shape={input_shape}"
            )
        output_shape = list(input_shape[0])
        for shape in input_shape[1:]:
            if output_shape[self.axis] is None or shape[self.axis] is None:
                output_shape[self.axis] = None
                break
            output_shape[self.axis] += shape[self.axis]
        return tuple(output_shape)

    def call(
        self, inputs: Sequence[Tensor], training: bool | None = None, mask: Any = None
    ) -> Tensor:
        """Concatenate ``inputs``; ``mask`` is an optional list of per-input masks."""
        inputs = as_tensors(self, inputs)
        output = torch.cat(inputs, dim=self.axis)
        masks = input_masks(inputs, mask)
        if masks is None:
            return output
        return attach_mask(output, self.compute_mask(inputs, masks))

    def compute_mask(self, inputs: Any, mask: Any = None) -> Tensor | None:
        """Keras's concatenated mask (``None`` when no input has a mask).

        Example:
            >>> x = torch.zeros(1, 2, 3)
            >>> m = torch.tensor([[True, False]])
            >>> Concatenate(axis=1).compute_mask([x, x], [m, None]).tolist()
            [[True, False, True, True]]
        """
        if mask is None:
            return None
        check_mask_list(inputs, mask)
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask, strict=True):
            if m is None:
                masks.append(torch.ones_like(x, dtype=torch.bool))
            elif m.ndim < x.ndim:
                # Broadcast as Keras does: a (batch, time) mask over (batch, time, features).
                masks.append(
                    torch.logical_or(m.unsqueeze(-1), torch.zeros_like(x, dtype=torch.bool))
                )
            else:
                masks.append(m.bool())
        return torch.cat(masks, dim=self.axis).any(dim=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs: Sequence[Tensor], axis: int = -1, **kwargs: Any) -> Tensor:
    """Functional interface to :class:`Concatenate`: ``inputs`` joined along ``axis``.

    Args:
        inputs: A list of tensors, equal in shape except along ``axis``.
        axis: Concatenation axis.
        **kwargs: Standard layer keyword arguments.

    Example:
        >>> concatenate([torch.zeros(1, 2), torch.ones(1, 2)], axis=0).shape
        torch.Size([2, 2])
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
