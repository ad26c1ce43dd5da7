"""``text_dataset_from_directory``: a folder of ``.txt`` files (one sub-folder per class) as a torch
``DataLoader`` of ``(texts, labels)`` batches, with Keras 3's arguments, messages and errors, and
without TensorFlow.

A batch of texts is a list of Python strings (as Keras's ``format="grain"`` yields them; ``tf``
would give a string tensor, which torch has no equivalent of); labels are encoded as in
:func:`kseq.core.image_dataset.image_dataset_from_directory`.

Example:
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name, text in (("neg/1.txt", "bad"), ("pos/1.txt", "good")):
    ...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
    ...     with open(os.path.join(root, name), "w") as f:
    ...         _ = f.write(text)
    >>> loader = text_dataset_from_directory(root, shuffle=False)
    Found 2 files belonging to 2 classes.
    >>> texts, labels = next(iter(loader))
    >>> texts, labels.tolist(), loader.class_names
    (['bad', 'good'], [0, 1], ['neg', 'pos'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from kseq.core import directory_index as index
from kseq.core.data_loader import make_loader

__all__ = ["TextFileDataset", "collate_texts", "text_dataset_from_directory"]


class TextFileDataset(Dataset):
    """A map-style torch ``Dataset`` of text files: item ``i`` is ``(text, label)`` (or the text
    alone without labels), the file's contents cut to ``max_length`` characters when given.

    Example:
        >>> len(TextFileDataset([], None))
        0
    """

    def __init__(
        self,
        file_paths: Sequence[str],
        labels: Tensor | None,
        max_length: int | None = None,
        class_names: list[str] | None = None,
    ) -> None:
        self.file_paths = list(file_paths)
        self.labels = labels
        self.max_length = max_length
        self.class_names = class_names

    def __len__(self) -> int:
        return len(self.file_paths)

    def __getitem__(self, index: int) -> Any:
        with open(self.file_paths[index], encoding="utf-8") as f:
            text = f.read()
        if self.max_length is not None:
            text = text[: self.max_length]
        return text if self.labels is None else (text, self.labels[index])


def collate_texts(samples: list[Any]) -> Any:
    """A batch of texts as a list of ``str`` (and the labels stacked into one tensor).

    Example:
        >>> collate_texts([("a", torch.tensor(0)), ("b", torch.tensor(1))])
        (['a', 'b'], tensor([0, 1]))
    """
    if samples and isinstance(samples[0], tuple):
        texts, labels = zip(*samples, strict=True)
        return list(texts), torch.stack(labels)
    return list(samples)


def text_dataset_from_directory(
    directory: str,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    format: str = "tf",
    verbose: bool = True,
) -> DataLoader | list[DataLoader]:
    """Generates a dataset from text files in a directory (``keras.utils.text_dataset_from_directory``).

    Args:
        directory: Where the data is (one sub-folder per class when ``labels="inferred"``).
        labels: ``"inferred"``, ``None`` or a list/tuple of integer labels in file-path order.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or ``None`` (texts only).
        class_names: With ``labels="inferred"``, the explicit order of the classes.
        batch_size: Batch size (``None``: individual samples).
        max_length: Keep at most this many characters of each text.
        shuffle: Shuffle (the file order once from ``seed``, then every epoch).
        seed: Random seed for shuffling.
        validation_split: Fraction of the files to reserve for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns both loaders).
        follow_links: Visit sub-folders that are symbolic links.
        format: ``"tf"`` or ``"grain"``, accepted for Keras code; both give a torch ``DataLoader``.
        verbose: Print the number of files and classes found.

    Returns:
        A ``torch.utils.data.DataLoader`` yielding ``(texts, labels)`` (texts: a list of ``str``),
        with a ``class_names`` attribute; ``[train, validation]`` for ``subset="both"``.

    Example:
        >>> text_dataset_from_directory("reviews", label_mode="sparse")
        Traceback (most recent call last):
        ...
        ValueError: `label_mode` argument must be one of "int", "categorical", "binary", or None. Received: label_mode=sparse
    """
    index.check_labels_arg(labels, class_names, "text")
    index.check_label_mode(label_mode)
    index.check_format(format)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    index.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, found_labels, names = index.index_directory(
        directory,
        labels,
        formats=(".txt",),
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
        follow_links=follow_links,
        verbose=verbose,
    )
    if label_mode == "binary" and len(names or ()) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={names}"
        )
    subsets = ["training", "validation"] if subset == "both" else [subset]
    splits = [
        index.training_or_validation_split(file_paths, found_labels, validation_split, name)
        for name in subsets
    ]
    for name, (paths, _) in zip(subsets, splits, strict=True):
        if not paths:
            what = f"{name} text files" if subset == "both" else "text files"
            raise ValueError(f"No {what} found in directory {directory}. Allowed format: .txt")
    loaders = []
    for position, (paths, subset_labels) in enumerate(splits):
        encoded = index.encode_labels(subset_labels, label_mode, len(names) if names else 0)
        dataset = TextFileDataset(paths, encoded, max_length, names)
        # With subset="both", Keras shuffles the training set only.
        loaders.append(
            make_loader(
                dataset,
                batch_size,
                shuffle and position == 0,
                seed,
                collate_fn=collate_texts if batch_size is not None else None,
                class_names=names,
            )
        )
    return loaders if subset == "both" else loaders[0]
