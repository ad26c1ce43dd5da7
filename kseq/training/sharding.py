"""Each rank's share of a streamed torch data source under DDP (``torchrun``).

The rules (nothing here runs in a single process):

* **Map-style** ``Dataset`` (``fit``): a :class:`ShardSampler`, torch's ``DistributedSampler``
  algorithm: every epoch one permutation of all ``n`` indices, drawn from ``seed + epoch`` (the
  seed drawn once from torch's global generator, so :func:`kseq.utils.set_random_seed` makes it
  reproducible, and broadcast from rank 0 so every rank draws the same one), padded by wrapping to
  ``ceil(n / world_size) * world_size`` indices; rank ``r`` takes positions ``r, r + world_size,
  ...``. Every rank runs the same number of batches, so no rank waits in an all-reduce the others
  never reach. ``fit`` calls ``set_epoch(epoch)`` at the start of every epoch.
* **Map-style** ``Dataset`` (``evaluate``, ``validation_data``): indices ``r, r + world_size, ...``
  in order, unpadded: every sample is counted once when the metrics are summed over the ranks.
* ``IterableDataset``: sharded by position (:class:`IterableShard`): every rank iterates the whole
  dataset and keeps the samples at positions ``r, r + world_size, ...`` (``fit`` pads the share
  from the stream's first samples, as above). This needs the same samples in the same order on
  every rank; each pass checks that the ranks' first samples agree (before any step) and that
  their sample counts agree (at its end), and raises a ``ValueError`` otherwise. A dataset that
  splits itself by rank (``torch.distributed.get_rank()``, as torch's convention splits an
  ``IterableDataset`` over ``DataLoader`` workers with ``get_worker_info()``) goes in a
  ``DataLoader``, which is used as given.
* A ``DataLoader`` is used as given: its sampler's ``set_epoch(epoch)`` is called every epoch (a
  ``DistributedSampler`` reshuffles), and without a ``DistributedSampler`` rank 0 warns once that
  every rank sees all of its data, saying what to write instead.
* A ``PyDataset``, a generator or another iterable of batches is read whole on every rank (it may
  shard itself with ``torch.distributed.get_rank()``); ``predict`` reads all data on every rank.

Example:
    >>> list(ShardSampler(5, rank=1, world_size=2, pad=True))
    [1, 3, 0]
"""

from __future__ import annotations

import itertools
import math
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor
from torch.utils.data import DataLoader, DistributedSampler, IterableDataset, Sampler

from kseq.training import distributed

_END = object()
_warned: weakref.WeakSet[Any] = weakref.WeakSet()


def _collective_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def shared_seed() -> int:
    """A seed drawn from torch's global generator; rank 0's under DDP (broadcast to every rank).

    Example:
        >>> _ = torch.manual_seed(0); a = shared_seed(); _ = torch.manual_seed(0)
        >>> a == shared_seed()
        True
    """
    seed = torch.randint(0, 2**62, (), dtype=torch.int64)
    if distributed.is_distributed():
        seed = seed.to(_collective_device())
        dist.broadcast(seed, src=0)
    return int(seed.item())


class ShardSampler(Sampler[int]):
    """This rank's indices of a map-style dataset of ``size`` samples (the module's rules).

    Args:
        size: Samples in the dataset.
        rank: This rank (``kseq.training.distributed.rank()`` when ``None``).
        world_size: The ranks (``kseq.training.distributed.world_size()`` when ``None``).
        shuffle: A new permutation every epoch (``set_epoch``), from ``seed + epoch``.
        seed: The permutation's seed (the same on every rank).
        pad: Repeat the first indices so every rank gets ``ceil(size / world_size)`` (training);
            ``False`` gives each index to exactly one rank (evaluation).

    Example:
        >>> s = ShardSampler(6, rank=0, world_size=2, shuffle=True, seed=3)
        >>> s.set_epoch(1); len(s), sorted(s) != sorted(ShardSampler(6, rank=1, world_size=2))
        (3, True)
    """

    def __init__(
        self,
        size: int,
        rank: int | None = None,
        world_size: int | None = None,
        shuffle: bool = False,
        seed: int = 0,
        pad: bool = False,
    ) -> None:
        self.size, self.shuffle, self.seed, self.pad = size, shuffle, seed, pad
        self.rank = distributed.rank() if rank is None else rank
        self.num_replicas = distributed.world_size() if world_size is None else world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose permutation ``__iter__`` gives (as ``DistributedSampler.set_epoch``)."""
        self.epoch = epoch

    def __len__(self) -> int:
        if self.pad:
            return math.ceil(self.size / self.num_replicas)
        return len(range(self.rank, self.size, self.num_replicas))

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.size, generator=generator).tolist()
        else:
            order = list(range(self.size))
        if self.pad:
            missing = math.ceil(self.size / self.num_replicas) * self.num_replicas - self.size
            order += (order * math.ceil(missing / max(self.size, 1)))[:missing]
        return iter(order[self.rank :: self.num_replicas])


class IterableShard(IterableDataset):
    """This rank's share of an ``IterableDataset``, by position (the module's rules).

    Args:
        dataset: The user's ``IterableDataset``.
        pad: Pad the share to ``ceil(n / world_size)`` samples from the stream's first ones
            (training: the same number of batches on every rank).

    Example:
        >>> list(IterableShard(range(5), pad=True))  # a single process keeps everything
        [0, 1, 2, 3, 4]
    """

    def __init__(self, dataset: Any, pad: bool) -> None:
        self.dataset, self.pad = dataset, pad

    def __len__(self) -> int:
        n = len(self.dataset)  # a TypeError when the dataset has no length: unknown steps
        size = distributed.world_size()
        return math.ceil(n / size) if self.pad else len(range(distributed.rank(), n, size))

    def __iter__(self) -> Iterator[Any]:
        size, index = distributed.world_size(), distributed.rank()
        if size == 1:
            yield from self.dataset
            return
        stream = iter(self.dataset)
        first = next(stream, _END)
        _agree(self.dataset, "first sample", [float(first is _END), *_fingerprint(first)])
        head: list[Any] = []  # the stream's first `size` samples: the padding
        n = 0
        for sample in () if first is _END else itertools.chain([first], stream):
            if self.pad and n < size:
                head.append(sample)
            if n % size == index:
                yield sample
            n += 1
        if self.pad and n:
            for position in range(n, math.ceil(n / size) * size):
                if position % size == index:
                    yield head[(position - n) % n]
        # Last, so that every rank (having yielded the same count) reaches it at the same step.
        _agree(self.dataset, "sample count", [float(n)])


def _fingerprint(sample: Any) -> list[float]:
    """Two numbers that differ, almost surely, between two different samples."""
    if sample is _END:
        return [0.0, 0.0]
    total, leaves = 0.0, 0

    def visit(v: Any) -> None:
        nonlocal total, leaves
        if isinstance(v, dict):
            for key in sorted(v, key=str):
                visit(v[key])
        elif isinstance(v, (list, tuple)):
            for item in v:
                visit(item)
        else:
            leaves += 1
            if isinstance(v, Tensor):
                values = v.detach().cpu().double().flatten()  # host sync: once per pass
            else:
                try:
                    values = torch.from_numpy(np.asarray(v, dtype=np.float64).reshape(-1))
                except (TypeError, ValueError):  # text, objects: their characters
                    values = torch.tensor(list(str(v).encode()), dtype=torch.float64)
            weights = torch.arange(1, values.numel() + 1, dtype=torch.float64)
            total += float(torch.nan_to_num(values * weights).sum())

    visit(sample)
    return [total, float(leaves)]


def _agree(dataset: Any, what: str, values: list[float]) -> None:
    """Raise on every rank when the ranks' ``values`` differ (one all-reduce)."""
    t = torch.tensor([*values, *(-v for v in values)], dtype=torch.float64)
    t = t.to(_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    k = len(values)
    if torch.equal(t[:k], -t[k:]):
        return
    detail = (
        f"{int(values[0])} samples on rank {distributed.rank()}, a different count on another"
        if what == "sample count"
        else f"rank {distributed.rank()}'s first sample differs from another rank's"
    )
    raise ValueError(
        f"The {type(dataset).__name__} (an IterableDataset) gave the ranks different data: "
        f"{detail}. Under DDP kseq shards an IterableDataset by position (rank r keeps samples "
        f"r, r + {distributed.world_size()}, ...), which needs the same samples in the same order "
        "on every rank: seed its randomness the same on every rank. If it splits itself by rank "
        "(torch.distributed.get_rank()), pass it as DataLoader(dataset, batch_size=...), which "
        "kseq uses as given."
    )


def _samplers(loader: DataLoader) -> list[Any]:
    batch_sampler = getattr(loader, "batch_sampler", None)
    found = [
        getattr(loader, "sampler", None),
        batch_sampler,
        getattr(batch_sampler, "sampler", None),
    ]
    unique: list[Any] = []
    for s in found:
        if s is not None and all(s is not u for u in unique):
            unique.append(s)
    return unique


def set_epoch(loader: Any, epoch: int) -> None:
    """Call ``set_epoch(epoch)`` on a ``DataLoader``'s (batch) sampler when it has one.

    Example:
        >>> s = ShardSampler(4, shuffle=True)
        >>> set_epoch(DataLoader(range(4), sampler=s), 3); s.epoch
        3
    """
    if isinstance(loader, DataLoader):
        for sampler in _samplers(loader):
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)


def check_loader(loader: DataLoader, shard: str) -> None:
    """Under DDP, warn once (rank 0) about a user's ``DataLoader`` that gives every rank all data
    (``shard``: ``"train"`` or ``"eval"``, what the loader is for).

    Example:
        >>> check_loader(DataLoader(range(4)), "train")  # a single process: nothing to say
    """
    if not distributed.is_distributed() or not distributed.is_main_process():
        return
    try:
        if loader in _warned:
            return
        _warned.add(loader)
    except TypeError:  # not weak-referenceable: warn every time rather than never
        pass
    size = distributed.world_size()
    what = "fit()" if shard == "train" else "evaluate() (or fit's validation_data)"
    if isinstance(loader.dataset, IterableDataset):
        warnings.warn(
            f"{what} got a torch DataLoader over an IterableDataset under DDP ({size} ranks). "
            "kseq uses a DataLoader as given and cannot shard it, so unless the dataset splits "
            "itself by rank (torch.distributed.get_rank(), as it splits by worker with "
            "get_worker_info()), every rank sees all of its data. Pass the IterableDataset "
            f"itself as `x` (kseq then gives rank r every {size}th sample from r on), or split "
            "it by rank in its __iter__.",
            stacklevel=2,
        )
        return
    if any(
        isinstance(s, DistributedSampler) or hasattr(s, "num_replicas") for s in _samplers(loader)
    ):
        return
    warnings.warn(
        f"{what} got a torch DataLoader without a DistributedSampler under DDP ({size} ranks). "
        f"kseq uses a DataLoader as given, so every rank sees all of its data ({size}x the work "
        "of an epoch, on the same samples). Write DataLoader(dataset, batch_size=..., "
        "sampler=torch.utils.data.distributed.DistributedSampler(dataset)) (fit calls its "
        "set_epoch every epoch), or pass the dataset itself as `x` (kseq shards it by rank).",
        stacklevel=2,
    )


def shard_loader(dataset: Any, batch_size: int, shuffle: bool, shard: str) -> DataLoader:
    """A ``DataLoader`` over this rank's share of a torch ``Dataset`` (``shard``: ``"train"``
    pads and reshuffles, ``"eval"`` gives each sample to one rank).

    Example:
        >>> [b.tolist() for b in shard_loader(list(range(5)), 2, False, "eval")]
        [[0, 1], [2, 3], [4]]
    """
    train = shard == "train"
    if isinstance(dataset, IterableDataset):
        return DataLoader(IterableShard(dataset, pad=train), batch_size=batch_size)
    seed = shared_seed() if train and shuffle else 0
    sampler = ShardSampler(len(dataset), shuffle=train and bool(shuffle), seed=seed, pad=train)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
