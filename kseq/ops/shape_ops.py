"""Shape, indexing and ordering ops of ``kseq.ops`` (Keras's ``keras.ops``): ``reshape``,
``transpose``, ``concatenate``, ``split``, ``take``, ``pad``, ``sort``...

NumPy semantics and Keras argument names (``axis``, ``axes``, ``indices_or_sections``); results
are views where torch gives views (``reshape`` of a contiguous tensor, ``transpose``,
``expand_dims``, ``squeeze``). Indices may be negative (counted from the end, as in Keras).

Example:
    >>> x = torch.arange(6).reshape(2, 3)
    >>> transpose(x).shape, expand_dims(x, 0).shape, [t.shape for t in split(x, 3, axis=1)]
    (torch.Size([3, 2]), torch.Size([1, 2, 3]), [torch.Size([2, 1]), torch.Size([2, 1]), torch.Size([2, 1])])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq.ops.core import as_tensor_like, convert_to_tensor

__all__ = [
    "argsort",
    "broadcast_to",
    "concatenate",
    "diagonal",
    "expand_dims",
    "flip",
    "moveaxis",
    "pad",
    "ravel",
    "repeat",
    "reshape",
    "roll",
    "sort",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "take",
    "take_along_axis",
    "tile",
    "transpose",
    "tril",
    "triu",
]


def reshape(x: Any, newshape: int | Sequence[int]) -> Tensor:
    """``x`` with shape ``newshape`` (one entry may be ``-1``).

    Example:
        >>> reshape(torch.arange(6), (2, -1)).shape
        torch.Size([2, 3])
    """
    shape = (newshape,) if isinstance(newshape, int) else tuple(newshape)
    return torch.reshape(convert_to_tensor(x), shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """``x`` with its axes permuted (reversed when ``axes`` is ``None``).

    Example:
        >>> transpose(torch.zeros(2, 3, 4), (0, 2, 1)).shape
        torch.Size([2, 4, 3])
    """
    x = convert_to_tensor(x)
    return x.permute(*(reversed(range(x.ndim)) if axes is None else axes))


def expand_dims(x: Any, axis: int | Sequence[int]) -> Tensor:
    """``x`` with new axes of size 1 inserted at ``axis`` (positions in the result).

    Example:
        >>> expand_dims(torch.zeros(3), -1).shape
        torch.Size([3, 1])
    """
    x = convert_to_tensor(x)
    axes = [axis] if isinstance(axis, int) else list(axis)
    rank = x.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        x = x.unsqueeze(a)
    return x


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` without its size-1 axes (only those in ``axis`` when given).

    Example:
        >>> squeeze(torch.zeros(1, 3, 1)).shape, squeeze(torch.zeros(1, 3, 1), axis=0).shape
        (torch.Size([3]), torch.Size([3, 1]))
    """
    x = convert_to_tensor(x)
    if axis is None:
        return torch.squeeze(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(
                f"Cannot squeeze axis {a}: it has size {x.shape[a]}, not 1. Received: "
                f"x.shape={tuple(x.shape)}, axis={axis}"
            )
    return torch.squeeze(x, dim=axes)


def concatenate(xs: Sequence[Any], axis: int | None = 0) -> Tensor:
    """The tensors ``xs`` joined along ``axis`` (flattened first when ``axis`` is ``None``).

    Example:
        >>> concatenate([torch.zeros(2, 1), torch.ones(2, 2)], axis=1).shape
        torch.Size([2, 3])
    """
    tensors = _same_device(xs)
    if axis is None:
        return torch.cat([t.reshape(-1) for t in tensors])
    return torch.cat(tensors, dim=axis)


def stack(x: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors ``x`` stacked along a new ``axis``.

    Example:
        >>> stack([torch.zeros(2), torch.ones(2)], axis=1).shape
        torch.Size([2, 2])
    """
    return torch.stack(_same_device(x), dim=axis)


def _same_device(xs: Sequence[Any]) -> list[Tensor]:
    first = next((x for x in xs if isinstance(x, Tensor)), None)
    if first is None:
        return [convert_to_tensor(x) for x in xs]
    return [as_tensor_like(x, first) for x in xs]


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis`` into equal sections (an int) or at the given indices.

    Example:
        >>> [t.tolist() for t in split(torch.arange(5), [2, 3])]
        [[0, 1], [2], [3, 4]]
    """
    x = convert_to_tensor(x)
    size = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if size % indices_or_sections:
            raise ValueError(
                f"Received indices_or_sections={indices_or_sections} (interpreted as a number of "
                f"sections) and axis={axis}, but input dimension x.shape[{axis}]={size} is not "
                f"divisible by {indices_or_sections}. Full input shape: x.shape={tuple(x.shape)}"
            )
        return list(torch.split(x, size // indices_or_sections, dim=axis))
    bounds = [0, *(int(i) for i in indices_or_sections), size]
    return list(torch.split(x, [b - a for a, b in itertools.pairwise(bounds)], dim=axis))


def tile(x: Any, repeats: int | Sequence[int]) -> Tensor:
    """``x`` repeated ``repeats`` times along each axis.

    Example:
        >>> tile(torch.tensor([1, 2]), 2).tolist()
        [1, 2, 1, 2]
    """
    reps = (repeats,) if isinstance(repeats, int) else tuple(int(r) for r in repeats)
    return torch.tile(convert_to_tensor(x), reps)


def repeat(x: Any, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Each entry of ``x`` repeated ``repeats`` times along ``axis`` (of the flattened input when
    ``None``).

    Example:
        >>> repeat(torch.tensor([1, 2]), 2).tolist()
        [1, 1, 2, 2]
    """
    x = convert_to_tensor(x)
    if not isinstance(repeats, int):
        repeats = as_tensor_like(repeats, x).long()
    return torch.repeat_interleave(x, repeats, dim=axis)


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` reversed along ``axis`` (all axes when ``None``).

    Example:
        >>> flip(torch.tensor([1, 2, 3])).tolist()
        [3, 2, 1]
    """
    x = convert_to_tensor(x)
    dims = (
        tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    )
    return torch.flip(x, dims=dims)


def _wrapped_indices(indices: Any, like: Tensor, size: int) -> Tensor:
    """Integer indices on ``like``'s device, negatives counted from the end (no host sync)."""
    indices = as_tensor_like(indices, like).long()
    return torch.where(indices < 0, indices + size, indices)


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """The entries of ``x`` at ``indices`` along ``axis`` (of the flattened input when ``None``);
    the result has shape ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``.

    Example:
        >>> take(torch.tensor([[1, 2], [3, 4]]), torch.tensor([1, 0]), axis=0).tolist()
        [[3, 4], [1, 2]]
    """
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis %= x.ndim
    indices = _wrapped_indices(indices, x, x.shape[axis])
    out = torch.index_select(x, axis, indices.reshape(-1))
    return out.reshape(*x.shape[:axis], *indices.shape, *x.shape[axis + 1 :])


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """Entries of ``x`` picked by ``indices`` along ``axis`` (``indices`` broadcasts against
    ``x`` on the other axes).

    Example:
        >>> take_along_axis(torch.tensor([[10, 30], [40, 20]]), torch.tensor([[1], [0]]), axis=1).tolist()
        [[30], [40]]
    """
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    indices = _wrapped_indices(indices, x, x.shape[axis])
    return torch.take_along_dim(x, indices, dim=axis)


def pad(
    x: Any,
    pad_width: Sequence[Sequence[int]] | Sequence[int] | int,
    mode: str = "constant",
    constant_values: Any = None,
) -> Tensor:
    """``x`` padded by ``pad_width`` (``((before, after), ...)`` per axis, NumPy style).

    Args:
        x: The tensor.
        pad_width: Per-axis ``(before, after)`` pairs, one pair for every axis, or an int.
        mode: ``"constant"``, ``"reflect"``, ``"symmetric"`` or ``"edge"``.
        constant_values: The fill value for ``"constant"`` (0 by default).

    Example:
        >>> pad(torch.tensor([[1, 2]]), ((0, 0), (1, 2))).tolist()
        [[0, 1, 2, 0, 0]]
    """
    x = convert_to_tensor(x)
    pairs = _pad_pairs(pad_width, x.ndim)
    if constant_values is not None and mode != "constant":
        raise ValueError(
            "Argument `constant_values` can only be provided when `mode == 'constant'`. "
            f"Received: mode={mode}"
        )
    if mode == "constant":
        flat = [p for before, after in reversed(pairs) for p in (before, after)]
        return F.pad(x, flat, value=0 if constant_values is None else constant_values)
    if mode not in ("reflect", "symmetric", "edge"):
        raise ValueError(
            f"Unsupported padding mode: {mode!r}. Expected one of 'constant', 'reflect', "
            "'symmetric' or 'edge'."
        )
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            x = torch.index_select(
                x, axis, _pad_index(x.shape[axis], before, after, mode, x.device)
            )
    return x


def _pad_pairs(pad_width: Any, rank: int) -> list[tuple[int, int]]:
    if isinstance(pad_width, int):
        return [(pad_width, pad_width)] * rank
    pairs = [tuple(p) if not isinstance(p, int) else (p, p) for p in pad_width]
    if len(pairs) == 1:
        pairs = pairs * rank
    if len(pairs) != rank:
        raise ValueError(
            f"`pad_width` must have one (before, after) pair per axis: the input has {rank} axes "
            f"but received {len(pairs)} pairs: {pad_width!r}"
        )
    return [(int(a), int(b)) for a, b in pairs]


def _pad_index(size: int, before: int, after: int, mode: str, device: torch.device) -> Tensor:
    """Source positions of a padded axis for the reflect / symmetric / edge modes."""
    pos = torch.arange(-before, size + after, device=device)
    if mode == "edge":
        return pos.clamp(0, size - 1)
    if mode == "symmetric":
        m = torch.remainder(pos, 2 * size)
        return torch.where(m < size, m, 2 * size - 1 - m)
    period = 2 * (size - 1) if size > 1 else 1
    m = torch.remainder(pos, period)
    return torch.where(m < size, m, period - m)


def ravel(x: Any) -> Tensor:
    """``x`` flattened to one axis.

    Example:
        >>> ravel(torch.zeros(2, 3)).shape
        torch.Size([6])
    """
    return torch.ravel(convert_to_tensor(x))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` (a view).

    Example:
        >>> broadcast_to(torch.tensor([1, 2]), (3, 2)).shape
        torch.Size([3, 2])
    """
    return torch.broadcast_to(convert_to_tensor(x), tuple(shape))


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """``x`` with two axes exchanged.

    Example:
        >>> swapaxes(torch.zeros(2, 3, 4), 0, 2).shape
        torch.Size([4, 3, 2])
    """
    return torch.swapaxes(convert_to_tensor(x), axis1, axis2)


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """``x`` with axes moved from ``source`` to ``destination``.

    Example:
        >>> moveaxis(torch.zeros(2, 3, 4), 0, -1).shape
        torch.Size([3, 4, 2])
    """
    return torch.moveaxis(convert_to_tensor(x), source, destination)


def roll(x: Any, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` rotated by ``shift`` along ``axis`` (of the flattened input when ``None``).

    Example:
        >>> roll(torch.tensor([1, 2, 3]), 1).tolist()
        [3, 1, 2]
    """
    x = convert_to_tensor(x)
    if axis is None:
        return torch.roll(x, shift)
    shifts = [shift] if isinstance(shift, int) else list(shift)
    axes = [axis] if isinstance(axis, int) else list(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(axes) == 1:
        axes = axes * len(shifts)
    return torch.roll(x, tuple(shifts), dims=tuple(axes))


def sort(x: Any, axis: int | None = -1) -> Tensor:
    """``x`` sorted in ascending order along ``axis`` (of the flattened input when ``None``).

    Example:
        >>> sort(torch.tensor([3, 1, 2])).tolist()
        [1, 2, 3]
    """
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis).values


def argsort(x: Any, axis: int | None = -1) -> Tensor:
    """Indices that sort ``x`` along ``axis`` (stable), as ``int32``.

    Example:
        >>> argsort(torch.tensor([3.0, 1.0, 2.0]))
        tensor([1, 2, 0], dtype=torch.int32)
    """
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    if axis is None:
        x, axis = x.reshape(-1), -1
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


def tril(x: Any, k: int = 0) -> Tensor:
    """The lower triangle of ``x`` (on and below diagonal ``k``); zeros elsewhere.

    Example:
        >>> tril(torch.ones(2, 2)).tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    return torch.tril(convert_to_tensor(x), diagonal=k)


def triu(x: Any, k: int = 0) -> Tensor:
    """The upper triangle of ``x`` (on and above diagonal ``k``); zeros elsewhere.

    Example:
        >>> triu(torch.ones(2, 2)).tolist()
        [[1.0, 1.0], [0.0, 1.0]]
    """
    return torch.triu(convert_to_tensor(x), diagonal=k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of ``x`` over the plane ``(axis1, axis2)``.

    Example:
        >>> diagonal(torch.tensor([[1, 2], [3, 4]])).tolist()
        [1, 4]
    """
    return torch.diagonal(convert_to_tensor(x), offset=offset, dim1=axis1, dim2=axis2)
