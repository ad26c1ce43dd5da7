"""Checks on ``fit``/``evaluate``/``predict`` data that run once, before anything changes.

The loops call these after the data is adapted and the model resolved, and before the first
step, so bad input raises a clear ``ValueError`` while every weight, optimizer slot, metric and
random state is still as it was: empty arrays, a negative ``epochs``, and integer class labels
outside the range the model's output can score (checked on the device, one host sync per call).

Example:
    >>> import torch
    >>> from kseq.losses import SparseCategoricalCrossentropy
    >>> check_class_labels(SparseCategoricalCrossentropy(), (None, 4), [torch.tensor([0, 3])], "fit")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kseq.core.shapes import format_shape
from kseq.losses.probabilistic import sparse_categorical_crossentropy
from kseq.training.data import ArrayData, flatten

__all__ = ["check_class_labels", "check_epochs", "check_not_empty"]


def check_not_empty(data: Any, what: str, argument: str = "x") -> None:
    """Raise when in-memory ``data`` holds no samples (Keras's "non-empty" error).

    Example:
        >>> import numpy as np
        >>> d = ArrayData.from_arrays(np.zeros((0, 2)), None, None, torch.device("cpu"))
        >>> check_not_empty(d, "predict")
        Traceback (most recent call last):
        ...
        ValueError: Expect x to be a non-empty array or dataset. Received: x with 0 samples (shape (0, 2)) in predict(). Pass at least one sample (check the slicing or filtering that built the arrays).
    """
    if not isinstance(data, ArrayData) or len(data):
        return
    shape = tuple(flatten(data.x)[0].shape)
    raise ValueError(
        f"Expect {argument} to be a non-empty array or dataset. Received: {argument} with 0 "
        f"samples (shape {shape}) in {what}(). Pass at least one sample (check the slicing or "
        "filtering that built the arrays)."
    )


def check_epochs(epochs: Any) -> None:
    """Raise unless ``epochs`` is a non-negative integer (0 trains nothing, as in Keras).

    Example:
        >>> check_epochs(-1)
        Traceback (most recent call last):
        ...
        ValueError: `epochs` must be a non-negative integer: the number of passes over the data. Received: epochs=-1
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(
            "`epochs` must be a non-negative integer: the number of passes over the data. "
            f"Received: epochs={epochs!r}"
        )


def check_class_labels(
    loss_fn: Any,
    out_shape: Sequence[int | None] | None,
    targets: Sequence[Tensor | None],
    what: str,
) -> None:
    """For a sparse categorical loss, raise when a target is not a class index of the output.

    ``targets`` (training and validation) are checked together on their device with one host
    sync; the failing path finds the offending label and sample.

    Example:
        >>> from kseq.losses import SparseCategoricalCrossentropy
        >>> check_class_labels(SparseCategoricalCrossentropy(), (None, 4), [torch.tensor([0, 11])], "fit")
        Traceback (most recent call last):
        ...
        ValueError: Received a label value of 11 which is outside the valid range of [0, 4) in fit() (found at sample 1 of `y`): the model's output has 4 classes, so sparse_categorical_crossentropy takes integer labels 0 to 3. Give the last layer 12 units (e.g. `Dense(12, activation="softmax")`) to score labels up to 11, or fix the labels.
    """
    ignore = _sparse_ignore_class(loss_fn)
    if ignore is False or not out_shape or out_shape[-1] is None:
        return
    classes = int(out_shape[-1])
    checked = [y for y in targets if y is not None and y.numel()]
    if not checked:
        return
    for y in checked:
        _check_sparse_shape(tuple(y.shape), tuple(out_shape))

    def bad(y: Tensor) -> Tensor:
        out = (y < 0) | (y >= classes)
        if y.is_floating_point():
            out = out | (y != torch.floor(y))
        return out if ignore is None else out & (y != ignore)

    flags = torch.stack([bad(y).any() for y in checked])
    if not bool(flags.any()):  # host sync: once per fit/evaluate, before the first step
        return
    for index, y in enumerate(checked):
        mask = bad(y).reshape(y.shape[0], -1).any(dim=1)
        if bool(mask.any()):
            sample = int(mask.nonzero()[0])
            label = y.reshape(y.shape[0], -1)[sample][bad(y[sample]).reshape(-1)][0].item()
            label = int(label) if float(label).is_integer() else label
            where = "`y`" if index == 0 else "the validation targets"
            hint = (
                f"Give the last layer {int(label) + 1} units (e.g. `Dense({int(label) + 1}, "
                f'activation="softmax")`) to score labels up to {int(label)}, or fix the labels.'
                if isinstance(label, int) and label >= classes
                else "Labels must be integers from 0 to the number of classes - 1 (map them, e.g. "
                "with numpy.unique(y, return_inverse=True))."
            )
            raise ValueError(
                f"Received a label value of {label} which is outside the valid range of "
                f"[0, {classes}) in {what}() (found at sample {sample} of {where}): the model's "
                f"output has {classes} classes, so sparse_categorical_crossentropy takes integer "
                f"labels 0 to {classes - 1}. {hint}"
            )


def _check_sparse_shape(y_shape: tuple[int, ...], out_shape: tuple[int | None, ...]) -> None:
    """Sparse targets are the output's shape without its class axis (or with a size-1 one)."""
    inner = tuple(out_shape[1:-1])

    def fits(dims: tuple[int, ...]) -> bool:
        return len(dims) == len(inner) and all(
            w is None or w == d for w, d in zip(inner, dims, strict=True)
        )

    if fits(y_shape[1:]) or (len(y_shape) > 1 and y_shape[-1] == 1 and fits(y_shape[1:-1])):
        return
    n = y_shape[0]
    expected = ", ".join(str(d) for d in (n, *inner))
    raise ValueError(
        "Arguments `target` and `output` must have the same shape up until the last dimension: "
        f"target.shape={y_shape}, output.shape={format_shape(out_shape)}. "
        "sparse_categorical_crossentropy takes one integer class index per sample: `y` of shape "
        f"({expected}{',' if not inner else ''}) (or ({expected}, 1)); for one-hot targets compile "
        'with loss="categorical_crossentropy".'
    )


def _sparse_ignore_class(loss_fn: Any) -> int | bool | None:
    """The loss's ``ignore_class`` when it is a sparse categorical crossentropy, else ``False``."""
    kwargs = getattr(loss_fn, "_fn_kwargs", None)
    if getattr(loss_fn, "fn", None) is not sparse_categorical_crossentropy or kwargs is None:
        return False
    if kwargs.get("axis", -1) != -1:
        return False
    return kwargs.get("ignore_class")
