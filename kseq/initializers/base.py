"""The initializer contract (``Initializer``), Keras's fan arithmetic and the dtype/seed helpers
the built-in families share.

An initializer is called with the *Keras* shape of a weight (Dense kernel ``(in, out)``) and an
optional dtype, and returns a new tensor; ``get_config``/``from_config`` make it saveable.

Example:
    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq import config

ShapeLike = Sequence[int]


def float_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype an initializer draws in (``floatx()`` when ``dtype`` is ``None``).

    Example:
        >>> float_dtype("float64"), float_dtype(None)
        (torch.float64, torch.float32)
    """
    if dtype is None:
        return config.floatx_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    return getattr(torch, str(dtype))


def compute_fans(
    shape: ShapeLike,
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Keras's ``(fan_in, fan_out)`` for a weight shape in Keras layout.

    Conv kernels ``(..., in, out)`` multiply by the receptive field size.

    Example:
        >>> compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``__call__(shape, dtype=None) -> Tensor`` plus ``get_config``.

    Example:
        >>> class Twos(Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return torch.full(tuple(shape), 2.0)
        >>> Twos()((2,))
        tensor([2., 2.])
    """

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        raise NotImplementedError(
            f"Initializer subclass {type(self).__name__} must implement __call__."
        )

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def clone(self) -> Initializer:
        return type(self).from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def truncated_normal(
    shape: tuple[int, ...],
    mean: float,
    stddev: float,
    dtype: torch.dtype,
    generator: torch.Generator | None,
) -> Tensor:
    """Normal values truncated to two standard deviations around ``mean``.

    Example:
        >>> bool(truncated_normal((100,), 0.0, 1.0, torch.float32, None).abs().max() <= 2.0)
        True
    """
    out = torch.empty(shape, dtype=dtype)
    torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=generator)
    return out.mul_(stddev).add_(mean)
