"""``split_dataset``: one dataset cut into a left and a right torch ``Dataset`` (train / test),
with Keras 3's size arithmetic and errors, and without TensorFlow.

Arrays (a NumPy array, or a list/tuple of arrays of one length) become a ``TensorDataset``, as on
Keras's torch backend, so an item is a tuple of tensors (``(x,)`` for one array, ``(x, y)`` for
two). Without ``shuffle`` the left split is the first ``left_size`` samples and the right split
the last ``right_size``; with it both are drawn from one ``torch.randperm`` of a generator seeded
with ``seed`` — the permutation Keras's ``random_split`` draws, so the same seed gives the same
splits.

Example:
    >>> import numpy as np
    >>> left, right = split_dataset(np.arange(10), left_size=0.8)
    >>> len(left), len(right), int(right[0][0])
    (8, 2, 8)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset

__all__ = ["split_dataset"]


def _to_tensor(array: Any) -> torch.Tensor:
    if isinstance(array, torch.Tensor):
        return array
    return torch.from_numpy(np.asarray(array))


def _as_torch_dataset(dataset: Any) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, np.ndarray):
        return TensorDataset(torch.from_numpy(dataset))
    if isinstance(dataset, (list, tuple)):
        kind = "list" if isinstance(dataset, list) else "tuple"
        if len(dataset) == 0:
            raise ValueError(
                f"Received an empty {kind} dataset. Please provide a non-empty {kind} of arrays."
            )
        length = None
        for i, element in enumerate(dataset):
            if not isinstance(element, (np.ndarray, torch.Tensor)):
                raise ValueError(
                    f"Expected a {kind} of `numpy.ndarray` objects, "
                    f"Received: {type(element)} at index {i}."
                )
            if length is None:
                length = element.shape[0]
            elif element.shape[0] != length:
                raise ValueError(
                    f"Received a {kind} of NumPy arrays with different lengths. Mismatch found "
                    f"at index {i}, Expected shape={tuple(dataset[0].shape)} Received "
                    f"shape={tuple(element.shape)}. Please provide a {kind} of NumPy arrays of "
                    "the same length."
                )
        return TensorDataset(*(_to_tensor(element) for element in dataset))
    raise TypeError(
        "The `dataset` argument must be a `torch.utils.data.Dataset` object, or a list/tuple "
        f"of arrays. Received: dataset={dataset} of type {type(dataset)}"
    )


def _float_or_none(size: int | None) -> float | None:
    return None if size is None else float(size)


def rescale_split_sizes(left_size: Any, right_size: Any, total_length: int) -> tuple[int, int]:
    """Keras's check and conversion of ``left_size``/``right_size`` to two sample counts.

    Example:
        >>> rescale_split_sizes(0.8, None, 10), rescale_split_sizes(None, 3, 10)
        ((8, 2), (7, 3))
    """
    left_type, right_type = type(left_size), type(right_size)
    if (left_size is not None and left_type not in (int, float)) and (
        right_size is not None and right_type not in (int, float)
    ):
        raise TypeError(
            "Invalid `left_size` and `right_size` Types. Expected: integer or float or None, "
            f"Received: type(left_size)={left_type} and type(right_size)={right_type}"
        )
    if left_size is not None and left_type not in (int, float):
        raise TypeError(
            "Invalid `left_size` Type. Expected: int or float or None, "
            f"Received: type(left_size)={left_type}.  "
        )
    if right_size is not None and right_type not in (int, float):
        raise TypeError(
            "Invalid `right_size` Type. Expected: int or float or None,"
            f"Received: type(right_size)={right_type}."
        )
    if left_size == 0 and right_size == 0:
        raise ValueError(
            "Both `left_size` and `right_size` are zero. "
            "At least one of the split sizes must be non-zero."
        )
    if (left_type is int and (left_size <= 0 or left_size >= total_length)) or (
        left_type is float and (left_size <= 0 or left_size >= 1)
    ):
        raise ValueError(
            f"`left_size` should be either a positive integer smaller than {total_length}, or "
            f"a float within the range `[0, 1]`. Received: left_size={left_size}"
        )
    if (right_type is int and (right_size <= 0 or right_size >= total_length)) or (
        right_type is float and (right_size <= 0 or right_size >= 1)
    ):
        raise ValueError(
            f"`right_size` should be either a positive integer and smaller than {total_length} "
            f"or a float within the range `[0, 1]`. Received: right_size={right_size}"
        )
    if right_type is left_type is float and right_size + left_size > 1:
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. "
            "It must be less than or equal to 1."
        )
    # Keras's arithmetic, floats included (its messages print ``12.0`` for int sizes).
    left: float | None = (
        round(left_size * total_length) if left_type is float else _float_or_none(left_size)
    )
    right: float | None = (
        round(right_size * total_length) if right_type is float else _float_or_none(right_size)
    )
    if left is None:
        left = total_length - right
    elif right is None:
        right = total_length - left
    if left + right > total_length:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total_length}. "
            f"Received: left_size + right_size = {left + right}and total_length = {total_length}"
        )
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(
                f"With `dataset` of length={total_length}, `left_size`={left} and "
                f"`right_size`={right}.Resulting {side} side dataset split will be empty. "
                "Adjust any of the aforementioned parameters"
            )
    return int(left), int(right)


def split_dataset(
    dataset: Any,
    left_size: int | float | None = None,
    right_size: int | float | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    preferred_backend: str | None = None,
) -> tuple[Dataset, Dataset]:
    """Splits a dataset into a left half and a right half (``keras.utils.split_dataset``).

    Args:
        dataset: A ``torch.utils.data.Dataset``, a NumPy array, or a list/tuple of arrays with
            the same length.
        left_size: A float in ``(0, 1)`` (fraction of the samples) or an int (number of samples)
            for the left split; ``None``: the complement of ``right_size``.
        right_size: The same for the right split; ``None``: the complement of ``left_size``.
        shuffle: Shuffle the samples before splitting.
        seed: Random seed for shuffling.
        preferred_backend: ``None`` or ``"torch"`` (the splits are torch datasets).

    Returns:
        ``(left, right)``: two ``torch.utils.data.Subset`` datasets.

    Example:
        >>> import numpy as np
        >>> left, right = split_dataset((np.zeros((6, 2)), np.arange(6)), right_size=2,
        ...                             shuffle=True, seed=0)
        >>> len(left), len(right), tuple(left[0][0].shape)
        (4, 2, (2,))
    """
    if preferred_backend not in (None, "torch"):
        raise ValueError(
            "kseq splits datasets into torch datasets: `preferred_backend` must be None or "
            f'"torch". Received: preferred_backend={preferred_backend!r}'
        )
    dataset = _as_torch_dataset(dataset)
    if right_size is None and left_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. "
            "Received: left_size=None and right_size=None"
        )
    total_length = len(dataset)
    left, right = rescale_split_sizes(left_size, right_size, total_length)
    if shuffle:
        generator = torch.Generator()
        if seed is not None:
            generator.manual_seed(seed)
        else:
            generator.seed()
        order = torch.randperm(total_length, generator=generator).tolist()
        return Subset(dataset, order[:left]), Subset(dataset, order[left : left + right])
    return (
        Subset(dataset, list(range(left))),
        Subset(dataset, list(range(total_length - right, total_length))),
    )
