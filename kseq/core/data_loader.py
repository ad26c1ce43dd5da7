"""``make_loader``: the torch ``DataLoader`` every ``kseq.utils.*_dataset_*`` utility returns, in
place of Keras's ``tf.data.Dataset``: batched like it, reshuffled every epoch from ``seed`` like
it, and carrying the same attributes (``class_names``, ``file_paths``).

Example:
    >>> loader = make_loader(list(range(5)), 2, False, None, class_names=["a"])
    >>> [b.tolist() for b in loader], loader.class_names
    ([[0, 1], [2, 3], [4]], ['a'])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

__all__ = ["make_loader"]


def make_loader(
    dataset: Dataset,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    collate_fn: Callable[[list[Any]], Any] | None = None,
    **attributes: Any,
) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` (reshuffled each epoch from ``seed`` when ``shuffle``),
    with ``attributes`` set on it.

    Args:
        dataset: A map-style dataset of samples.
        batch_size: Samples per batch, or ``None`` for individual samples.
        shuffle: Draw a new order every epoch.
        seed: Seed of that order's generator (a random one when ``None``).
        collate_fn: How samples become a batch (torch's ``default_collate`` by default).
        **attributes: Set on the returned loader (Keras's ``class_names``...).

    Example:
        >>> loader = make_loader(list(range(4)), 4, True, 0)
        >>> sorted(next(iter(loader)).tolist())
        [0, 1, 2, 3]
    """
    generator = None
    if shuffle:
        generator = torch.Generator()
        generator.manual_seed(int(seed) if seed is not None else int(np.random.randint(1e6)))
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, generator=generator, collate_fn=collate_fn
    )
    for name, value in attributes.items():
        setattr(loader, name, value)
    return loader
