"""What the ``*_dataset_from_directory`` utilities share: listing a folder's files with their labels,
the ``validation_split``/``subset`` arguments, and the label encodings, all as Keras 3 does them.

``index_directory`` walks ``directory`` (one sub-folder per class when ``labels="inferred"``, class
names in alphanumeric order), prints Keras's ``Found N files belonging to K classes.`` line, and
shuffles the paths with ``np.random.RandomState(seed)`` exactly as Keras does, so the same ``seed``
puts the same files in the training and validation subsets in kseq and in Keras.

Example:
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name in ("cat/1.txt", "cat/2.txt", "dog/1.txt"):
    ...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
    ...     open(os.path.join(root, name), "w").close()
    >>> paths, labels, names = index_directory(root, "inferred", (".txt",), shuffle=False)
    Found 3 files belonging to 2 classes.
    >>> names, labels.tolist()
    (['cat', 'dog'], [0, 0, 1])
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kseq.core.io import print_msg

LABEL_MODES = ("int", "categorical", "binary", None)


def check_labels_arg(labels: Any, class_names: Any, what: str) -> None:
    """Keras's errors for a ``labels`` that is neither ``"inferred"``, ``None`` nor a list of ints.

    Example:
        >>> check_labels_arg("inferred", None, "image")  # no error
    """
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                f"as the number of {what} files in the target directory. If you wish to infer "
                "the labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains '
                f"{'images' if what == 'image' else 'text samples'} (no labels), pass "
                f"`labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. '
                f"Received: labels={labels}, and class_names={class_names}"
            )


def check_label_mode(label_mode: Any) -> None:
    """Keras's error for an unknown ``label_mode``.

    Example:
        >>> check_label_mode("onehot")
        Traceback (most recent call last):
        ...
        ValueError: `label_mode` argument must be one of "int", "categorical", "binary", or None. Received: label_mode=onehot
    """
    if label_mode not in LABEL_MODES:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", '
            f"or None. Received: label_mode={label_mode}"
        )


def check_format(format: Any) -> None:
    """Keras's error for a ``format`` other than ``"tf"`` / ``"grain"`` (kseq returns a torch
    ``DataLoader`` for both).

    Example:
        >>> check_format("tf")  # no error
    """
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


def check_validation_split_arg(
    validation_split: float | None, subset: str | None, shuffle: bool, seed: int | None
) -> None:
    """Keras's errors for ``validation_split`` / ``subset`` / ``seed`` combinations.

    Example:
        >>> check_validation_split_arg(0.2, None, True, 1)
        Traceback (most recent call last):
        ...
        ValueError: If `subset` is set, `validation_split` must be set, and inversely.
    """
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'`subset` must be either "training", "validation" or "both", received: {subset}'
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset."
        )


def _valid_files(directory: str, follow_links: bool, formats: tuple[str, ...]) -> Iterator[str]:
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda entry: entry[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                yield os.path.join(root, fname)


def index_directory(
    directory: str,
    labels: Any,
    formats: tuple[str, ...],
    class_names: Sequence[str] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> tuple[list[str], np.ndarray | Sequence[int] | None, list[str] | None]:
    """List the files of ``directory`` with their labels, as ``keras.utils`` does.

    Args:
        directory: The folder (one sub-folder per class when ``labels="inferred"``).
        labels: ``"inferred"``, ``None`` or a list of integer labels in file-path order.
        formats: Accepted lower-case file extensions.
        class_names: Explicit order (a subset of the sub-folders) for ``labels="inferred"``.
        shuffle: Shuffle the paths (``np.random.RandomState(seed)``, as Keras); otherwise keep
            the alphanumeric order.
        seed: The shuffle seed.
        follow_links: Visit sub-folders that are symbolic links.
        verbose: Print ``Found N files ...``.

    Returns:
        ``(file_paths, labels, class_names)``.

    Example:
        >>> import tempfile
        >>> index_directory(tempfile.mkdtemp(), None, (".png",), verbose=False)
        ([], None, None)
    """
    if labels == "inferred":
        subdirs = [
            subdir.rstrip("/")
            for subdir in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, subdir)) and not subdir.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories of "
                    f"the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            if labels is None:
                raise ValueError(
                    "When `labels=None` (no labels), argument `class_names` cannot be specified."
                )
            raise ValueError(
                "When argument `labels` is specified, argument `class_names` cannot be "
                "specified (the `class_names` will be the sorted list of labels)."
            )
    names: list[str] | None = list(subdirs)
    file_paths: list[str] = []
    found_labels: list[int] = []
    for index, subdir in enumerate(subdirs):
        for path in _valid_files(os.path.join(directory, subdir), follow_links, formats):
            file_paths.append(path)
            found_labels.append(index)
    if labels == "inferred":
        labels = np.asarray(found_labels, dtype="int32")
    elif labels is None:
        names = None
    else:
        if len(labels) != len(file_paths):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(file_paths)} "
                f"files in directory {directory}."
            )
        names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if labels is None:
            print_msg(f"Found {len(file_paths)} files.")
        else:
            assert names is not None
            print_msg(f"Found {len(file_paths)} files belonging to {len(names)} classes.")
    if shuffle:
        # Shuffle globally to erase macro-structure, with Keras's generator and order of calls.
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, names


def training_or_validation_split(
    samples: list[str], labels: Any, validation_split: float | None, subset: str | None
) -> tuple[list[str], Any]:
    """The training (first) or validation (last ``validation_split``) part, with Keras's message.

    Example:
        >>> training_or_validation_split(["a", "b", "c", "d"], None, 0.25, "validation")
        Using 1 files for validation.
        (['d'], None)
    """
    if not validation_split:
        return samples, labels
    num_val_samples = int(validation_split * len(samples))
    if subset == "training":
        print_msg(f"Using {len(samples) - num_val_samples} files for training.")
        samples = samples[:-num_val_samples]
        labels = None if labels is None else labels[:-num_val_samples]
    elif subset == "validation":
        print_msg(f"Using {num_val_samples} files for validation.")
        samples = samples[-num_val_samples:]
        labels = None if labels is None else labels[-num_val_samples:]
    else:
        raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')
    return samples, labels


def encode_labels(labels: Any, label_mode: str | None, num_classes: int) -> Tensor | None:
    """Labels as Keras yields them: ``int`` -> int32 ``(n,)``, ``binary`` -> float32 ``(n, 1)``,
    ``categorical`` -> float32 one-hot ``(n, num_classes)``.

    Example:
        >>> encode_labels([0, 1], "categorical", 3)
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    if label_mode is None or labels is None:
        return None
    values = torch.as_tensor(np.asarray(labels, dtype="int64"))
    if label_mode == "binary":
        return values.to(torch.float32).unsqueeze(-1)
    if label_mode == "categorical":
        return torch.nn.functional.one_hot(values, num_classes).to(torch.float32)
    return values.to(torch.int32)
