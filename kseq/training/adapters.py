"""From ``fit``/``evaluate``/``predict`` arguments to ``ArrayData``/``Stream`` and their batches.

``data.py`` owns the two data kinds; this module owns the choice between them for the loops'
arguments (``x``/``y``/``sample_weight``/``class_weight``, ``validation_data``), the errors
for combinations Keras rejects, the per-epoch batch iterators, and the shape helpers the
trainer builds and checks the model with.

Example:
    >>> import numpy as np, torch
    >>> data = adapt(np.zeros((5, 2)), np.ones(5), None, None, torch.device("cpu"), True, "fit")
    >>> [tuple(b[0].shape) for b in batches(data, 2, None)]
    [(2, 2), (2, 2), (1, 2)]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from kseq.training.data import (
    ArrayData,
    class_weight_to_sample_weight,
    is_array_data,
    map_structure,
)
from kseq.training.streams import Stream, check_stream_args

Data = ArrayData | Stream


def adapt(
    x: Any,
    y: Any,
    sample_weight: Any,
    class_weight: Any,
    device: torch.device,
    y_float: bool,
    what: str,
    batch_size: int | None = None,
    shuffle: Any = False,
) -> Data:
    """In-memory data moved to ``device`` once, or a stream; ``what`` names the caller in errors.

    ``batch_size`` is the caller's argument as given (``None`` when omitted): a torch ``Dataset``
    is batched by it (32 by default), a ``DataLoader`` must not get one.

    Example:
        >>> adapt([[1, 2]], None, None, None, torch.device("cpu"), True, "predict").x.shape
        torch.Size([1, 2])
    """
    if is_array_data(x):
        if y is not None and not is_array_data(y):
            raise ValueError(
                f"When `x` is an array, `y` must be an array too. Received: y of type {type(y)}"
            )
        data = ArrayData.from_arrays(x, y, sample_weight, device, y_float=y_float)
        if class_weight is not None:
            data.sample_weight = _class_weights(data, class_weight, sample_weight)
        return data
    check_stream_args(x, y, sample_weight, batch_size, what)
    shard = {"fit": "train", "evaluate": "eval"}.get(what)  # predict reads all (as arrays do)
    return Stream(x, device, y_float, batch_size, shuffle, class_weight, shard=shard)


def adapt_validation(
    validation_data: Any,
    device: torch.device,
    y_float: bool,
    batch_size: int | None = None,
) -> Data:
    """``fit(validation_data=...)``: ``(x, y[, sample_weight])`` arrays, or a stream (a torch
    ``Dataset`` batched by ``batch_size``, 32 when ``None``).

    Example:
        >>> import numpy as np
        >>> len(adapt_validation((np.zeros((3, 2)), np.ones(3)), torch.device("cpu"), True))
        3
    """
    if (
        isinstance(validation_data, (tuple, list))
        and 2 <= len(validation_data) <= 3
        and is_array_data(validation_data[0])
    ):
        vx, vy, vsw = (*validation_data, None)[:3]
        return adapt(vx, vy, vsw, None, device, y_float, "fit")
    if isinstance(validation_data, (tuple, list)) and len(validation_data) == 1:
        raise ValueError(
            "`validation_data` must be (x_val, y_val) or (x_val, y_val, sample_weight_val)."
        )
    return Stream(validation_data, device, y_float, batch_size, shard="eval")


def peek(data: Data) -> tuple[Any, Any]:
    """``(x, y)`` of the whole arrays, or of a stream's first batch (to build and resolve from).

    Example:
        >>> import numpy as np
        >>> x, y = peek(ArrayData.from_arrays(np.zeros((3, 2)), None, None, torch.device("cpu")))
        >>> tuple(x.shape), y
        ((3, 2), None)
    """
    if isinstance(data, ArrayData):
        return data.x, data.y
    x, y, _ = data.peek()
    return x, y


def steps_of(data: Data, batch_size: int, shard: str | None = None) -> int | None:
    """Batches in one pass over ``data`` (``None`` for a stream of unknown length).

    Example:
        >>> import numpy as np
        >>> steps_of(ArrayData.from_arrays(np.zeros((5, 1)), None, None, torch.device("cpu")), 2)
        3
    """
    return data.steps(batch_size, shard=shard) if isinstance(data, ArrayData) else data.steps()


def align_targets(data: Data | None, out_shape: Any, sparse_targets: bool) -> None:
    """Give ``(N,)`` targets of a ``(N, 1)``-output model their trailing axis once (a view), so
    the loss and metrics do not reconcile ranks on every step (same values: Keras's rule).

    Example:
        >>> import numpy as np
        >>> d = ArrayData.from_arrays(np.zeros((4, 2)), np.ones(4), None, torch.device("cpu"))
        >>> align_targets(d, (4, 1), False); tuple(d.y.shape)
        (4, 1)
    """
    if data is None or out_shape is None or sparse_targets:
        return
    if isinstance(data, Stream):
        if len(out_shape) == 2 and out_shape[-1] == 1:
            data.expand_targets()  # its 1-D target batches get the axis as they come
        return
    if data.y is None:
        return
    y = data.y
    if (
        y.ndim == len(out_shape) - 1
        and out_shape[-1] == 1
        and tuple(y.shape[1:]) == tuple(out_shape[1:-1])
    ):
        data.y = y.unsqueeze(-1)


class EpochIterator:
    """Batches per epoch; with ``steps_per_epoch`` the data stream continues across epochs (Keras).

    Example:
        >>> import numpy as np
        >>> d = ArrayData.from_arrays(np.zeros((3, 1)), None, None, torch.device("cpu"))
        >>> it = EpochIterator(d, 2, False, 3)
        >>> [len(list(it.epoch())) for _ in range(2)]
        [3, 3]
    """

    def __init__(self, data: Data, batch_size: int, shuffle: Any, steps: int | None) -> None:
        self.data, self.batch_size, self.shuffle, self.steps = data, batch_size, shuffle, steps
        self._stream: Iterator[Any] | None = None

    def _array_stream(self) -> Iterator[Any]:
        assert isinstance(self.data, ArrayData)
        while True:
            yield from self.data.batches(self.batch_size, shuffle=self.shuffle, shard="train")

    def epoch(self, epoch: int | None = None) -> Iterator[Any]:
        """The batches of the next epoch (``epoch``: its number, for a sampler's ``set_epoch``)."""
        if isinstance(self.data, Stream):
            return self.data.batches(steps=self.steps, epoch=epoch)
        if self.steps is None:
            return self.data.batches(self.batch_size, shuffle=self.shuffle, shard="train")
        if self._stream is None:
            self._stream = self._array_stream()
        stream = self._stream
        return (next(stream) for _ in range(self.steps))


def batches(
    data: Data, batch_size: int, steps: int | None, shard: str | None = None
) -> Iterator[Any]:
    """One unshuffled pass (``evaluate``/``predict``), at most ``steps`` batches.

    Example:
        >>> import numpy as np
        >>> d = ArrayData.from_arrays(np.zeros((5, 1)), None, None, torch.device("cpu"))
        >>> len(list(batches(d, 2, 2)))
        2
    """
    if isinstance(data, Stream):
        return data.batches(steps=steps)
    it = data.batches(batch_size, shuffle=False, shard=shard)
    return it if steps is None else (b for _, b in zip(range(steps), it, strict=False))


def batch_shapes(x: Any) -> Any:
    """The shapes of a structure of tensors, as tuples of ints.

    Example:
        >>> batch_shapes({"a": torch.zeros(2, 3)})
        {'a': (2, 3)}
    """
    return map_structure(lambda t: tuple(int(d) for d in t.shape), x)


def with_none_batch(shape: Any) -> Any:
    """``shape`` (or a structure of shapes) with the batch axis unknown.

    Example:
        >>> with_none_batch([(8, 3), (8, 1)])
        [(None, 3), (None, 1)]
    """
    if isinstance(shape, tuple):
        return (None, *shape[1:])
    if isinstance(shape, list):
        return [with_none_batch(s) for s in shape]
    if isinstance(shape, dict):
        return {k: with_none_batch(v) for k, v in shape.items()}
    return shape


def concat_to_numpy(outputs: list[Any]) -> Any:
    """``predict``'s batch outputs joined into NumPy arrays (half precision read as float32).

    Example:
        >>> concat_to_numpy([torch.ones(2, 1), torch.zeros(1, 1)]).shape
        (3, 1)
    """
    first = outputs[0]
    if isinstance(first, Tensor):
        joined = torch.cat(outputs)
        if first.dtype in (torch.float16, torch.bfloat16):
            joined = joined.float()
        return joined.cpu().numpy()
    if isinstance(first, (list, tuple)):
        return type(first)(concat_to_numpy([o[i] for o in outputs]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: concat_to_numpy([o[k] for o in outputs]) for k in first}
    raise TypeError(f"Unsupported model output type for predict(): {type(first)}")


def _class_weights(data: ArrayData, class_weight: dict[int, float], sample_weight: Any) -> Tensor:
    if sample_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    if data.y is None:
        raise ValueError("`class_weight` needs targets `y`.")
    if not isinstance(data.y, Tensor):
        raise ValueError("`class_weight` is only supported for Models with a single output.")
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"`class_weight` must be a dict mapping class indices to weights. Received: {class_weight!r}"
        )
    return class_weight_to_sample_weight(data.y, class_weight)
