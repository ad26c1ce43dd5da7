"""``Dot`` / ``dot``: the per-sample dot product of two tensors along chosen axes (Keras 3's
``batch_dot``), optionally of L2-normalized samples (cosine proximity).

For inputs ``x`` of shape ``(batch, *a)`` and ``y`` of shape ``(batch, *b)`` and axes ``(i, j)``
(``x.shape[i] == y.shape[j]``, neither the batch axis), the output has shape ``(batch, *a less i,
*b less j)``; a result of rank 1 becomes ``(batch, 1)``. It runs as one ``torch.bmm``.

Example:
    >>> import torch
    >>> dot([torch.ones(4, 3), torch.ones(4, 3)], axes=1)[0]
    tensor([3.])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from kseq.layers.base_merge import as_tensors
from kseq.layers.layer import Layer, Shape
from kseq.ops.nn import normalize as l2_normalize

__all__ = ["Dot", "dot"]


class Dot(Layer):
    """Dot product of the samples of two inputs along ``axes``.

    Args:
        axes: An axis (the same for both inputs) or a pair ``(axis_of_x, axis_of_y)``; negative
            values count from the end. The two axes must have the same size; the batch axis 0
            cannot be one of them.
        normalize: Whether to L2-normalize the samples along the dot axes first, making the
            output the cosine proximity of the two samples.
        **kwargs: Standard layer keyword arguments (``name``, ``dtype``...).

    Input shape: a list of 2 tensors of rank >= 2. Output shape: see the module docstring.
    Masks are consumed: the output carries none (as in Keras).

    Example:
        >>> x = torch.arange(10.0).reshape(1, 5, 2)
        >>> y = torch.arange(10.0, 20.0).reshape(1, 2, 5)
        >>> Dot(axes=(1, 2))([x, y])
        tensor([[[260., 360.],
                 [320., 445.]]])
    """

    supports_masking: ClassVar[bool] = True

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    "Invalid type for argument `axes`: it should be "
                    f"a list or an int. Received: axes={axes}"
                )
            if len(axes) != 2:
                raise ValueError(
                    "Invalid format for argument `axes`: it should contain "
                    f"two elements. Received: axes={axes}"
                )
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(
                    "Invalid format for argument `axes`: list elements should "
                    f"be integers. Received: axes={axes}"
                )
        self.axes = axes
        self.normalize = normalize

    def _axes_for(self, rank1: int, rank2: int) -> tuple[int, int]:
        """The two dot axes as non-negative indices for inputs of these ranks."""
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        return (axes[0] % rank1, axes[1] % rank2)

    def build(self, input_shape: Any) -> None:
        """Validate the two input shapes (a ``Dot`` has no weights)."""
        if (
            not isinstance(input_shape, (tuple, list))
            or len(input_shape) != 2
            or not isinstance(input_shape[0], (tuple, list))
        ):
            raise ValueError(
                "A `Dot` layer should be called on a list of 2 inputs. "
                f"Received: input_shape={input_shape}"
            )
        shape1, shape2 = tuple(input_shape[0]), tuple(input_shape[1])
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError(
                "Cannot do batch_dot on inputs with rank < 2. "
                f"Received inputs with shapes {shape1} and {shape2}."
            )
        raw = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        for axis, shape in zip(raw, (shape1, shape2), strict=True):
            if not -len(shape) <= axis < len(shape):
                raise ValueError(
                    f"Invalid `axes`={self.axes} for a `Dot` layer: axis {axis} is out of range "
                    f"for an input of shape {shape}. Full input shapes: {shape1}, {shape2}"
                )
        # Keras's message shows an int axis made non-negative and a pair of axes as given.
        a1, a2 = self._axes_for(len(shape1), len(shape2)) if isinstance(self.axes, int) else raw
        if shape1[a1] != shape2[a2]:
            raise ValueError(
                "Incompatible input shapes: "
                f"axis values {shape1[a1]} (at axis {a1}) != "
                f"{shape2[a2]} (at axis {a2}). "
                f"Full input shapes: {shape1}, {shape2}"
            )
        if 0 in self._axes_for(len(shape1), len(shape2)):
            raise ValueError(
                "Cannot perform batch_dot over axis 0. "
                "If your inputs are not batched, "
                "add a dummy batch dimension to your "
                "inputs using keras.ops.expand_dims(x, 0)"
            )

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """``x``'s shape less its dot axis, then ``y``'s less its batch and dot axes.

        Example:
            >>> Dot(axes=(1, 2)).compute_output_shape([(None, 3, 5), (None, 10, 3)])
            (None, 5, 10)
        """
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 2:
            raise ValueError(
                "A `Dot` layer should be called on a list of 2 inputs. "
                f"Received: input_shape={input_shape}"
            )
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        a1, a2 = self._axes_for(len(shape1), len(shape2))
        shape1.pop(a1)
        shape2.pop(a2)
        shape2.pop(0)
        output_shape = shape1 + shape2
        if len(output_shape) == 1:
            output_shape.append(1)
        return tuple(output_shape)

    def call(
        self, inputs: Sequence[Tensor], training: bool | None = None, mask: Any = None
    ) -> Tensor:
        """The dot product of ``inputs[0]`` and ``inputs[1]``; ``mask`` is ignored."""
        tensors = as_tensors(self, inputs)
        if len(tensors) != 2:
            raise ValueError(
                f"A `Dot` layer should be called on exactly 2 inputs. Received: inputs={inputs}"
            )
        x, y = tensors
        a1, a2 = self._axes_for(x.ndim, y.ndim)
        if self.normalize:
            x, y = l2_normalize(x, axis=a1), l2_normalize(y, axis=a2)
        return _batch_dot(x, y, a1, a2)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        """A ``Dot`` output carries no mask."""
        return None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _batch_dot(x: Tensor, y: Tensor, a1: int, a2: int) -> Tensor:
    """Keras's ``batch_dot`` over axes ``a1`` of ``x`` and ``a2`` of ``y`` (both > 0) as one bmm."""
    x = torch.movedim(x, a1, -1)  # (batch, *rest_x, k)
    y = torch.movedim(y, a2, 1)  # (batch, k, *rest_y)
    rest_x, rest_y = x.shape[1:-1], y.shape[2:]
    batch, k = x.shape[0], x.shape[-1]
    out = torch.bmm(x.reshape(batch, math.prod(rest_x), k), y.reshape(batch, k, math.prod(rest_y)))
    out = out.reshape(batch, *rest_x, *rest_y)
    return out.unsqueeze(-1) if out.ndim == 1 else out


def dot(inputs: Sequence[Tensor], axes: int | Sequence[int] = -1, **kwargs: Any) -> Tensor:
    """Functional interface to :class:`Dot`: the per-sample dot product of two inputs.

    Args:
        inputs: A list of 2 tensors.
        axes: The dot axis, or a pair of axes (one per input); the batch axis cannot be one.
        **kwargs: ``normalize`` and the standard layer keyword arguments.

    Example:
        >>> x, y = torch.tensor([[3.0, 4.0]]), torch.tensor([[4.0, 3.0]])
        >>> dot([x, y], axes=1, normalize=True)
        tensor([[0.9600]])
    """
    return Dot(axes=axes, **kwargs)(inputs)
