"""Keras shapes, for every floor: ``Shape``, ``standardize_shape``/``format_shape``/``shape_of`` and
``InputSpec`` (what input a layer accepts, checked at build time with Keras's wording).

Example:
    >>> standardize_shape([None, 3]), format_shape((None, 3))
    ((None, 3), '(None, 3)')
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "InputSpec",
    "Shape",
    "format_shape",
    "jsonable_shape",
    "legacy_input_shape",
    "shape_of",
    "standardize_shape",
]

Shape = tuple[int | None, ...]


def standardize_shape(shape: Any) -> Shape:
    """A tuple of ints / ``None`` from a list, tuple or ``torch.Size``.

    Example:
        >>> standardize_shape([None, 3])
        (None, 3)
    """
    if shape is None:
        raise ValueError("Undefined shapes are not supported.")
    if isinstance(shape, int):
        return (shape,)
    out = []
    for d in shape:
        if d is None:
            out.append(None)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool):
            if d < 0:
                raise ValueError(
                    f"Negative dimensions are not allowed. Received: shape={tuple(shape)}"
                )
            out.append(int(d))
        else:
            raise ValueError(
                f"Cannot convert '{tuple(shape)}' to a shape: {d!r} is not an int or None."
            )
    return tuple(out)


def format_shape(shape: Any) -> str:
    """Keras's text for a shape: ``(None, 64)``.

    Example:
        >>> format_shape((None, 64)), format_shape((None,))
        ('(None, 64)', '(None,)')
    """
    return str(tuple(shape))


def shape_of(x: Any) -> Any:
    """The batch-inclusive shape of a tensor/array, or a list of shapes for a list of them.

    Example:
        >>> import torch
        >>> shape_of(torch.zeros(2, 3))
        (2, 3)
    """
    if isinstance(x, (list, tuple)):
        return [shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: shape_of(v) for k, v in x.items()}
    return tuple(int(d) for d in x.shape)


class InputSpec:
    """What input a layer accepts: rank bounds and fixed axis sizes (Keras's ``InputSpec``).

    Example:
        >>> InputSpec(min_ndim=2, axes={-1: 8}).incompatibility((None, 4))
        'expected axis -1 of input shape to have value 8, but received input with shape (None, 4)'
    """

    def __init__(
        self,
        ndim: int | None = None,
        min_ndim: int | None = None,
        max_ndim: int | None = None,
        axes: dict[int, int] | None = None,
        shape: Shape | None = None,
    ) -> None:
        self.ndim, self.min_ndim, self.max_ndim = ndim, min_ndim, max_ndim
        self.axes = dict(axes or {})
        self.shape = shape
        if shape is not None:
            self.ndim = len(shape)

    def incompatibility(self, shape: Shape) -> str | None:
        """Why ``shape`` is not accepted (Keras's wording), or ``None`` when it is."""
        rank = len(shape)
        got = f"Full shape received: {format_shape(shape)}"
        if self.ndim is not None and rank != self.ndim:
            return f"expected ndim={self.ndim}, found ndim={rank}. {got}"
        if self.min_ndim is not None and rank < self.min_ndim:
            return f"expected min_ndim={self.min_ndim}, found ndim={rank}. {got}"
        if self.max_ndim is not None and rank > self.max_ndim:
            return f"expected max_ndim={self.max_ndim}, found ndim={rank}. {got}"
        for axis, value in self.axes.items():
            if -rank <= axis < rank and shape[axis] is not None and shape[axis] != value:
                return (
                    f"expected axis {axis} of input shape to have value {value}, "
                    f"but received input with shape {format_shape(shape)}"
                )
        if self.shape is not None:
            for spec_dim, dim in zip(self.shape, shape, strict=False):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    return f"expected shape={format_shape(self.shape)}, found shape={format_shape(shape)}"
        return None


def jsonable_shape(shape: Any) -> Any:
    """A shape (or a list of shapes) as JSON lists, as Keras's ``build_config`` stores it.

    Example:
        >>> jsonable_shape((None, 3)), jsonable_shape([(None, 3), (None, 2)])
        ([None, 3], [[None, 3], [None, 2]])
    """
    if isinstance(shape, list):
        return [jsonable_shape(s) for s in shape]
    return list(shape)


def legacy_input_shape(
    input_shape: Sequence[int | None] | None,
    input_dim: int | None,
    batch_input_shape: Sequence[int | None] | None,
) -> Shape | None:
    """The per-sample input shape from Keras's legacy layer arguments (with Keras's warning).

    Example:
        >>> legacy_input_shape(None, None, None) is None
        True
    """
    if input_shape is None and input_dim is None and batch_input_shape is None:
        return None
    warnings.warn(
        "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential models, "
        "prefer using an `Input(shape)` object as the first layer in the model instead.",
        UserWarning,
        stacklevel=3,
    )
    if batch_input_shape is not None:
        return standardize_shape(batch_input_shape)[1:]
    if input_shape is not None:
        return standardize_shape(input_shape)
    return (int(input_dim),)  # type: ignore[arg-type]
