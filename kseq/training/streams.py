"""``Stream``: every non-array data form ``fit``/``evaluate``/``predict`` take, as device batches.

* A map-style ``torch.utils.data.Dataset`` (samples) is batched by a ``DataLoader`` made here:
  ``batch_size`` samples (32 by default) joined with torch's ``default_collate``, in a new order
  every epoch (``shuffle``) drawn by a generator seeded from torch's global one, so
  :func:`kseq.utils.set_random_seed` makes the order reproducible.
* An ``IterableDataset`` (samples) is batched the same way, in its own order.
* A ``DataLoader`` is used as given: its batch size, sampler and workers win (``batch_size=`` next
  to it is an error, ``shuffle=`` is ignored).
* A ``kseq.utils.PyDataset``, a generator or any other iterable yields whole batches.

Each element is ``x``, ``(x,)``, ``(x, y)``, ``(x, y, sample_weight)`` or a dict with ``"x"``
(``"y"``, ``"sample_weight"``) keys. Batches reach the device through :class:`Prefetcher`
(pinned memory, ``non_blocking`` copies one batch ahead on CUDA; on the CPU a tensor that needs no
dtype cast is passed on as it is). ``class_weight`` turns each batch's targets into sample weights
on the device.

Example:
    >>> import torch
    >>> ds = torch.utils.data.TensorDataset(torch.zeros(5, 2), torch.ones(5))
    >>> s = Stream(ds, torch.device("cpu"), batch_size=2)
    >>> [tuple(x.shape) for x, _, _ in s.batches()], s.steps()
    ([(2, 2), (2, 2), (1, 2)], 3)
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, IterableDataset, RandomSampler, default_collate

from kseq import config
from kseq.core.py_dataset import PyDataset
from kseq.training import distributed, sharding
from kseq.training.data import map_structure, to_tensor
from kseq.training.prefetch import Prefetcher

Batch = tuple[Any, Any, Any]


def input_type(data: Any) -> str:
    """How errors name a stream ``x``.

    Example:
        >>> input_type(iter([]))
        'iterable'
    """
    if isinstance(data, DataLoader):
        return "torch DataLoader"
    if isinstance(data, IterableDataset):
        return "torch IterableDataset"
    if isinstance(data, Dataset):
        return "torch Dataset"
    if isinstance(data, PyDataset):
        return "PyDataset"
    if isinstance(data, types.GeneratorType):
        return "generator"
    return "iterable"


def check_stream_args(
    x: Any, y: Any, sample_weight: Any, batch_size: int | None, what: str
) -> None:
    """Keras's errors for arguments a stream ``x`` carries itself (``y``, ``sample_weight``) and
    for ``batch_size`` next to a ``DataLoader`` (which batches its data itself).

    Example:
        >>> check_stream_args(iter([]), None, None, None, "fit")
    """
    kind = input_type(x)
    for given, arg, description in (
        (y, "y", "the targets"),
        (sample_weight, "sample_weights", "the sample weights"),
    ):
        if given is not None:
            raise ValueError(
                f"When providing `x` as a {kind}, `{arg}` should not be passed. Instead, "
                f"{description} should be included as part of the {kind}."
            )
    if batch_size is not None and isinstance(x, DataLoader):
        raise ValueError(
            "The `batch_size` argument must not be specified when `x` is a torch DataLoader: the "
            f"DataLoader batches its data itself (its batch_size is {x.batch_size}). Received: "
            f"batch_size={batch_size} in {what}(). Set the batch size on the DataLoader "
            f"(DataLoader(dataset, batch_size={batch_size})), or pass its dataset as `x`."
        )


def as_loader(data: Any, batch_size: int, shuffle: Any, shard: str | None = None) -> Any:
    """A torch ``Dataset`` batched by a new ``DataLoader``; anything else as given. Under DDP,
    ``shard`` (``"train"``/``"eval"``) gives this rank its share (``sharding.py``).

    Example:
        >>> import torch
        >>> loader = as_loader(torch.utils.data.TensorDataset(torch.arange(4)), 3, False)
        >>> [len(b[0]) for b in loader]
        [3, 1]
    """
    if shard is not None and distributed.is_distributed():
        if isinstance(data, DataLoader):
            sharding.check_loader(data, shard)
        elif isinstance(data, Dataset):
            return sharding.shard_loader(data, batch_size, bool(shuffle), shard)
    if isinstance(data, IterableDataset):
        return DataLoader(data, batch_size=batch_size)
    if isinstance(data, Dataset) and not isinstance(data, DataLoader):
        sampler = None
        if shuffle:
            generator = torch.Generator()
            generator.manual_seed(int(torch.randint(0, 2**62, ()).item()))
            sampler = RandomSampler(data, generator=generator)  # a new order every epoch
        return DataLoader(data, batch_size=batch_size, sampler=sampler)
    return data


def _is_batch_indexed(data: Any) -> bool:
    """A PyDataset-like object of batches indexed by batch number (not a list, not a loader)."""
    return (
        hasattr(data, "__getitem__") and hasattr(data, "__len__")
        and not isinstance(data, (list, tuple, DataLoader, Dataset)) and not hasattr(data, "__next__")
    )  # fmt: skip


class Stream:
    """Batches of a Dataset / DataLoader / PyDataset / generator / iterable on ``device``.

    Args:
        data: The stream (see the module docstring for each form).
        device: Where the batches go.
        y_float: Convert integer targets to floats (``False`` keeps class indices as int64).
        batch_size: Samples per batch for a torch ``Dataset`` (32 when ``None``).
        shuffle: Reorder a map-style ``Dataset`` every epoch.
        class_weight: ``{class: weight}`` turned into each batch's sample weights.
        shard: Under DDP, this rank's share of a torch ``Dataset`` for ``"train"`` (``fit``)
            or ``"eval"`` (``evaluate``, ``validation_data``); ``None`` (``predict``) reads all.

    Example:
        >>> s = Stream([(torch.zeros(2, 3), torch.ones(2))], torch.device("cpu"))
        >>> [tuple(b[0].shape) for b in s.batches()]
        [(2, 3)]
    """

    def __init__(
        self,
        data: Any,
        device: torch.device,
        y_float: bool = True,
        batch_size: int | None = None,
        shuffle: Any = False,
        class_weight: dict[int, float] | None = None,
        shard: str | None = None,
    ) -> None:
        if isinstance(data, Dataset) and not isinstance(data, IterableDataset) and not len(data):  # type: ignore[arg-type]
            raise ValueError(f"The {input_type(data)} passed as `x` is empty.")
        self.dataset = data
        self.batch_size = batch_size or 32
        self.data = as_loader(data, self.batch_size, shuffle, shard)
        self.device = device
        self.y_float = y_float
        self.class_weight = _check_class_weight(class_weight)
        self._table: Tensor | None = None
        self._prefetcher = Prefetcher(device)
        self._iterator: Iterator[Any] | None = None
        self._pending: list[Any] = []  # an item peeked from a one-shot iterator, yielded first
        # The layout of batches needing no conversion, found on the first batch (False: convert).
        self._layout: tuple[type, tuple[tuple[torch.dtype, int], ...]] | bool | None = None
        self._plain_device = None if self._prefetcher.ahead else device
        self._expand_y = False  # `(N,)` targets of an `(N, 1)` output get their axis here

    def peek(self) -> Batch:
        """The first batch, without losing it: ``fit`` builds the model from its shapes."""
        data, dataset = self.data, self.dataset
        if isinstance(dataset, Dataset) and not isinstance(dataset, IterableDataset):
            n = min(self.batch_size, len(dataset))  # type: ignore[arg-type]
            return self._to_device(default_collate([dataset[i] for i in range(n)]))
        if _is_batch_indexed(data):
            if len(data) == 0:
                raise ValueError("The dataset passed to fit()/evaluate()/predict() is empty.")
            return self._to_device(data[0])
        if hasattr(data, "__next__"):  # a generator: what we take must be given back
            if not self._pending:
                try:
                    self._pending.append(next(data))
                except StopIteration as exc:
                    raise ValueError(
                        "The generator passed to fit()/evaluate()/predict() is exhausted."
                    ) from exc
            return self._to_device(self._pending[0])
        for item in data:  # re-iterable (a DataLoader, a list): a fresh iterator each epoch anyway
            return self._to_device(item)
        raise ValueError(f"The {input_type(data)} passed as `x` is empty.")

    def steps(self) -> int | None:
        """Batches per epoch, when the source has a length."""
        try:
            return len(self.data)
        except TypeError:
            return None

    def _host(self, item: Any) -> Batch:
        """``(x, y, sample_weight)`` of one element, as host tensors in their own dtypes."""
        if isinstance(item, dict) and "x" in item:
            x, y, sw = item["x"], item.get("y"), item.get("sample_weight")
        elif isinstance(item, (tuple, list)) and not _is_number_list(item):
            if not 1 <= len(item) <= 3:
                raise ValueError(
                    "Data batches must be `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`; "
                    f"received a tuple of length {len(item)}."
                )
            x, y, sw = (*item, None, None)[:3]
        else:
            x, y, sw = item, None, None
        cpu = torch.device("cpu")

        def host(v: Any, name: str, keep_int: bool) -> Tensor:
            return v if isinstance(v, Tensor) else to_tensor(v, name, cpu, keep_int=keep_int)

        x = map_structure(lambda v: host(v, "x", True), x)
        y = None if y is None else host(y, "y", not self.y_float)
        sw = None if sw is None else host(sw, "sample_weight", False)
        return x, y, sw

    def _cast(self, batch: Batch) -> Batch:
        """Dtypes fixed on the device (a no-op for tensors already right) and class weights."""
        x, y, sw = batch
        device = self.device
        x = map_structure(lambda v: to_tensor(v, "x", device), x)
        y = None if y is None else to_tensor(y, "y", device, keep_int=not self.y_float)
        if sw is not None:
            sw = to_tensor(sw, "sample_weight", device, keep_int=False)
            if sw.ndim > 1 and sw.shape[-1] == 1:
                sw = sw.reshape(sw.shape[0], *sw.shape[1:-1])
        if self.class_weight is not None:
            sw = self._class_weights(y, sw)
        return x, y, sw

    def _to_device(self, item: Any) -> Batch:
        host = iter([self._host(item)])
        return self._cast(next(iter(self._prefetcher.run(host))))

    def _class_weights(self, y: Tensor | None, sw: Tensor | None) -> Tensor:
        if sw is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        if y is None:
            raise ValueError("`class_weight` needs targets: yield (x, y) from the dataset.")
        assert self.class_weight is not None
        if self._table is None or self._table.device != y.device:
            size = max(self.class_weight) + 2  # the last entry weighs unlisted classes: 1
            table = torch.ones(size, dtype=config.floatx_dtype())
            for cls, weight in self.class_weight.items():
                table[int(cls)] = float(weight)
            self._table = table.to(y.device)
        labels = y
        if labels.ndim > 1:
            labels = labels.argmax(dim=-1) if labels.shape[-1] != 1 else labels.squeeze(-1)
        labels = torch.round(labels).long() if labels.is_floating_point() else labels.long()
        last = self._table.shape[0] - 1
        return self._table[labels.clamp(0, last)]

    def _source(self) -> Iterable[Any]:
        data = self.data
        if _is_batch_indexed(data):
            if hasattr(data, "on_epoch_begin"):
                data.on_epoch_begin()
            return (data[i] for i in range(len(data)))
        if self._pending:
            pending, self._pending = self._pending, []
            return itertools.chain(pending, data)
        return data

    def expand_targets(self) -> None:
        """Give ``(N,)`` target batches of an ``(N, 1)``-output model their trailing axis (a
        view), so the loss and metrics do not reconcile ranks on every step (the arrays path does
        it once, ``adapters.align_targets``)."""
        self._expand_y = True

    def _plain_layout(self, item: Any) -> tuple[type, tuple[tuple[torch.dtype, int], ...]] | bool:
        """``(type, ((dtype, ndim), ...))`` when ``item`` is an ``(x[, y[, sample_weight]])``
        tuple/list of tensors in the dtypes the step takes (``False`` otherwise); ``ndim`` is the
        rank a slot must keep (0: any)."""
        if self.class_weight is not None or type(item) not in (tuple, list):
            return False
        if not 1 <= len(item) <= 3 or any(type(t) is not Tensor for t in item):
            return False
        floatx = config.floatx_dtype()
        x, y, sw = (*item, None, None)[:3]
        if x.dtype not in (floatx, torch.int64):
            return False
        if y is not None and y.dtype is not floatx and (self.y_float or y.dtype is not torch.int64):
            return False
        if sw is not None and (sw.dtype is not floatx or sw.ndim != 1):
            return False
        expand = self._expand_y and y is not None and y.ndim == 1
        self._expand_y = expand  # from here on: for the plain batches (all 1-D targets)
        ranks = (0, 1 if expand else 0, 1)
        return type(item), tuple((t.dtype, ranks[i]) for i, t in enumerate(item))

    def _plain(self, item: Any) -> bool:
        """Whether ``item`` goes to the step as it is: it has the layout of a first batch that
        needed no conversion (off CUDA: on the device too). The first batch is inspected; later
        ones are only checked against it (no structure walk, no dtype casts, no copies)."""
        layout = self._layout
        if layout is None:
            layout = self._layout = self._plain_layout(item)
        if layout is False or type(item) is not layout[0] or len(item) != len(layout[1]):  # type: ignore[index]
            return False
        device = self._plain_device
        for t, (dtype, ndim) in zip(item, layout[1], strict=True):  # type: ignore[index]
            if type(t) is not Tensor or t.dtype is not dtype or (ndim and t.ndim != ndim):
                return False
            if device is not None and t.device != device:
                return False
        return True

    def _device_batches(self, end_epoch: bool = False) -> Iterator[Batch]:
        """The batches of one pass over the source on the device (then ``on_epoch_end``)."""
        plain, host, cast = self._plain, self._host, self._cast
        source = self._source()
        if not self._prefetcher.ahead:  # no copy stream: converted (and moved) here, or as given
            for item in source:
                if plain(item):
                    x, y, sw = (*item, None, None)[:3]
                    yield x, y if y is None or not self._expand_y else y.unsqueeze(-1), sw
                else:
                    yield cast(host(item))
        else:
            pairs = (
                ((*item, None, None)[:3], True) if plain(item) else (host(item), False)
                for item in source
            )
            for (x, y, sw), ready in self._prefetcher.run(pairs):
                if not ready:
                    yield cast((x, y, sw))
                else:
                    yield x, y if y is None or not self._expand_y else y.unsqueeze(-1), sw
        if end_epoch:
            self._end_epoch()

    def batches(self, steps: int | None = None, epoch: int | None = None) -> Iterator[Batch]:
        """One epoch of batches (``steps`` of them when given, the iterator continuing across
        epochs, as Keras does when ``steps_per_epoch`` is set). ``fit`` gives the ``epoch``: a
        ``DataLoader``'s (``Distributed``)``Sampler.set_epoch`` gets it when a pass begins."""
        if steps is None:
            if epoch is not None:
                sharding.set_epoch(self.data, epoch)
            return self._device_batches(end_epoch=True)
        return self._steps(steps, epoch)

    def _steps(self, steps: int, epoch: int | None) -> Iterator[Batch]:
        for _ in range(steps):
            if self._iterator is None:
                if epoch is not None:
                    sharding.set_epoch(self.data, epoch)
                self._iterator = self._device_batches()
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                self._end_epoch()
                return
            yield batch

    def _end_epoch(self) -> None:
        if hasattr(self.data, "on_epoch_end"):
            self.data.on_epoch_end()


def _is_number_list(item: Any) -> bool:
    return isinstance(item, list) and bool(item) and isinstance(item[0], (int, float, bool, list))


def _check_class_weight(class_weight: Any) -> dict[int, float] | None:
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"`class_weight` must be a dict mapping class indices to weights. Received: {class_weight!r}"
        )
    return {int(k): float(v) for k, v in class_weight.items()}
