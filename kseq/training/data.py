"""Data adapters: everything ``fit``/``evaluate``/``predict`` accept, turned into device batches.

* In-memory data (NumPy arrays, torch tensors, lists, pandas objects, and lists/tuples/dicts of
  them) is converted and moved to the device **once**; each epoch is shuffled with one
  ``torch.randperm`` on that device and batches are gathered there. No ``DataLoader``, no per-batch
  host work.
* Streams (a ``torch.utils.data.DataLoader``, a ``Dataset``, a ``kseq.utils.PyDataset``, a
  generator or any iterable of batches) are ``streams.py``'s.

Example:
    >>> import numpy as np
    >>> data = ArrayData.from_arrays(np.zeros((10, 3)), np.ones(10), None, torch.device("cpu"))
    >>> [tuple(b[0].shape) for b in data.batches(4, shuffle=False)]
    [(4, 3), (4, 3), (2, 3)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kseq import config
from kseq.training import distributed

Batch = tuple[Any, Any, Any]


def map_structure(fn: Callable[[Any], Any], data: Any) -> Any:
    """Apply ``fn`` to every leaf of a list/tuple/dict structure.

    Example:
        >>> map_structure(lambda v: v * 2, {"a": (1, 2)})
        {'a': (2, 4)}
    """
    if isinstance(data, dict):
        return {k: map_structure(fn, v) for k, v in data.items()}
    if isinstance(data, (list, tuple)) and not _is_array_like_list(data):
        return type(data)(map_structure(fn, v) for v in data)
    return fn(data)


def flatten(data: Any) -> list[Any]:
    """Leaves of a structure, in order.

    Example:
        >>> flatten({"a": (1, 2), "b": 3})
        [1, 2, 3]
    """
    out: list[Any] = []
    map_structure(out.append, data)
    return out


def batch_size_of(x: Any) -> int:
    """Rows in a batch (the first axis of its first leaf).

    Example:
        >>> batch_size_of({"a": np.zeros((3, 2))})
        3
    """
    leaf = x if isinstance(x, Tensor) else flatten(x)[0]
    return int(leaf.shape[0]) if hasattr(leaf, "shape") else len(leaf)


def _is_array_like_list(data: Any) -> bool:
    # A plain list of numbers (or of lists of numbers) is one array, not a structure of inputs.
    return (
        isinstance(data, list)
        and bool(data)
        and isinstance(data[0], (int, float, bool, list, np.number))
    )


def is_array_data(x: Any) -> bool:
    """Whether ``x`` is in-memory data (array-likes, possibly nested in lists/tuples/dicts).

    Example:
        >>> is_array_data(np.zeros(3)), is_array_data(iter([]))
        (True, False)
    """
    leaves = flatten(x)
    return bool(leaves) and all(_is_array_leaf(v) for v in leaves)


def _is_array_leaf(v: Any) -> bool:
    return isinstance(v, (np.ndarray, Tensor, list, int, float)) or hasattr(v, "__array__")


def to_tensor(
    value: Any,
    name: str,
    device: torch.device,
    *,
    float_dtype: torch.dtype | None = None,
    keep_int: bool = True,
) -> Tensor:
    """Convert one array-like to a tensor on ``device``: floats to ``floatx`` (or ``float_dtype``),
    integers to int64 (or float when ``keep_int`` is False), booleans to float.

    Raises a ``ValueError`` naming ``name`` for strings, objects, complex numbers and the like.

    Example:
        >>> to_tensor([1, 2], "y", torch.device("cpu")).dtype
        torch.int64
    """
    float_dtype = float_dtype or config.floatx_dtype()
    if isinstance(value, Tensor):
        t = value
    else:
        if hasattr(value, "to_numpy"):  # pandas
            value = value.to_numpy()
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise ValueError(
                f"`{name}` must hold numbers, but it has dtype {arr.dtype} ({_describe(arr)}). "
                "Encode text or category labels as integers first (e.g. with numpy.unique(..., return_inverse=True))."
            )
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.dtype == torch.bool or t.is_floating_point() or (not keep_int and not t.is_complex()):
        target = float_dtype
    elif t.is_complex():
        raise ValueError(f"`{name}` has complex dtype {t.dtype}; kseq models take real numbers.")
    else:
        target = torch.int64
    return t.to(device=device, dtype=target, non_blocking=True)


def _describe(arr: np.ndarray) -> str:
    sample = arr.reshape(-1)[:3].tolist() if arr.size else []
    return f"first values {sample!r}"


def num_samples(data: Any) -> int:
    """Length of the first axis shared by every leaf (raises Keras's cardinality error otherwise)."""
    sizes = {int(v.shape[0]) if hasattr(v, "shape") else len(v) for v in flatten(data)}
    if len(sizes) != 1:
        raise ValueError(f"Data cardinality is ambiguous: arrays have {sorted(sizes)} samples.")
    return sizes.pop()


class ArrayData:
    """In-memory ``(x, y, sample_weight)`` living on one device.

    Example:
        >>> d = ArrayData.from_arrays(np.zeros((5, 2)), None, None, torch.device("cpu"))
        >>> len(d), d.steps(2)
        (5, 3)
    """

    def __init__(self, x: Any, y: Tensor | None, sample_weight: Tensor | None) -> None:
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self._n = num_samples(x)

    @classmethod
    def from_arrays(
        cls, x: Any, y: Any, sample_weight: Any, device: torch.device, y_float: bool = True
    ) -> ArrayData:
        """Validate and move array-likes to ``device``; ``y_float=False`` keeps integer targets as
        int64 (sparse class indices)."""
        x_t = map_structure(lambda v: to_tensor(v, "x", device), x)
        y_t = None if y is None else map_structure(
            lambda v: to_tensor(v, "y", device, keep_int=not y_float), y
        )  # fmt: skip
        sw_t = (
            None
            if sample_weight is None
            else map_structure(
                lambda v: None if v is None else _squeeze_weight(
                    to_tensor(v, "sample_weight", device, keep_int=False)
                ),
                sample_weight,
            )
        )  # fmt: skip
        check_cardinality(x_t, y_t, sw_t)
        return cls(x_t, y_t, sw_t)

    def __len__(self) -> int:
        return self._n

    def steps(self, batch_size: int, shard: str | None = None) -> int:
        """Batches per epoch (on this rank, when ``shard`` is ``"train"``/``"eval"`` under DDP)."""
        return math.ceil(self._rows(shard) / batch_size)

    def _rows(self, shard: str | None) -> int:
        size, index = distributed.world_size(), distributed.rank()
        if shard is None or size == 1:
            return self._n
        return -(-self._n // size) if shard == "train" else len(range(index, self._n, size))

    def batches(
        self, batch_size: int, shuffle: bool | str = False, shard: str | None = None
    ) -> Iterator[Batch]:
        """Batches of one epoch. Shuffling is one ``randperm`` on the data's device per epoch.

        Under DDP, ``shard="train"`` gives this rank its slice of the (rank-synchronized)
        permutation, padded so all ranks run the same number of steps; ``shard="eval"`` gives an
        unpadded slice (each sample counted once).
        """
        n = self._n
        device = flatten(self.x)[0].device
        if shard is not None and distributed.is_distributed():
            order = (
                distributed.synchronized_permutation(n, device)
                if shuffle
                else torch.arange(n, device=device)
            )
            order = (
                distributed.shard_indices(order)
                if shard == "train"
                else order[distributed.rank() :: distributed.world_size()]
            )
            for start in range(0, order.shape[0], batch_size):
                yield self.take(order[start : start + batch_size])
        elif shuffle:
            perm = torch.randperm(n, device=device)
            for start in range(0, n, batch_size):
                yield self.take(perm[start : start + batch_size])
        else:
            for start in range(0, n, batch_size):
                yield self.take(slice(start, start + batch_size))

    def take(self, index: Tensor | slice) -> Batch:
        """The batch at ``index``: a slice (a view) or a tensor of row indices (a gather)."""
        if isinstance(index, slice):

            def pick(t: Tensor) -> Tensor:
                return t[index]
        else:

            def pick(t: Tensor) -> Tensor:
                return t.index_select(0, index)

        x, y, sw = self.x, self.y, self.sample_weight
        x = pick(x) if isinstance(x, Tensor) else map_structure(pick, x)
        y = y if y is None else pick(y) if isinstance(y, Tensor) else map_structure(pick, y)
        sw = (
            sw
            if sw is None
            else pick(sw)
            if isinstance(sw, Tensor)
            else map_structure(_maybe(pick), sw)
        )
        return x, y, sw

    def split(self, validation_split: float) -> tuple[ArrayData, ArrayData]:
        """Keras's split: the *last* ``validation_split`` fraction (before any shuffling) validates."""
        at = math.floor(self._n * (1.0 - validation_split))
        if at == 0 or at == self._n:
            raise ValueError(
                f"validation_split={validation_split} leaves no samples for "
                f"{'training' if at == 0 else 'validation'} out of {self._n}; use a split that keeps both non-empty."
            )

        def part(sl: slice) -> ArrayData:
            return ArrayData(*self.take(sl))

        return part(slice(0, at)), part(slice(at, None))


def _squeeze_weight(sw: Tensor) -> Tensor:
    # `(N, 1)` sample weights are per-sample weights `(N,)`, as in Keras.
    return sw.reshape(sw.shape[0], *sw.shape[1:-1]) if sw.ndim > 1 and sw.shape[-1] == 1 else sw


def _maybe(fn: Callable[[Tensor], Tensor]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else fn(v)


def check_cardinality(x: Any, y: Any, sample_weight: Any) -> None:
    """Keras's "Data cardinality is ambiguous" error when x, y and sample_weight lengths differ."""
    sizes = {"x": [int(v.shape[0]) for v in flatten(x)]}
    if y is not None:
        sizes["y"] = [int(v.shape[0]) for v in flatten(y)]
    if sample_weight is not None:
        sizes["sample_weight"] = [int(v.shape[0]) for v in flatten(sample_weight) if v is not None]
    if len({s for ss in sizes.values() for s in ss}) > 1:
        detail = "".join(f"'{k}' sizes: {', '.join(map(str, v))}\n" for k, v in sizes.items())
        raise ValueError(
            "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples."
            f"\n{detail}"
        )


def class_weight_to_sample_weight(y: Tensor, class_weight: dict[int, float]) -> Tensor:
    """Per-sample weights from ``class_weight`` (one-hot targets use their arg-max), as Keras does.

    Example:
        >>> class_weight_to_sample_weight(torch.tensor([0, 1, 1]), {1: 2.0})
        tensor([1., 2., 2.])
    """
    labels = y
    if labels.ndim > 1:
        labels = labels.argmax(dim=-1) if labels.shape[-1] != 1 else labels.squeeze(-1)
    labels = torch.round(labels.double()).long() if labels.is_floating_point() else labels.long()
    if labels.numel() and int(labels.min()) < 0:
        raise ValueError("class_weight needs non-negative class labels.")
    size = max(int(labels.max()) + 1 if labels.numel() else 0, max(class_weight, default=-1) + 1)
    table = torch.ones(size, dtype=config.floatx_dtype(), device=y.device)
    for cls, weight in class_weight.items():
        table[int(cls)] = float(weight)
    return table[labels]
