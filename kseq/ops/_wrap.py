"""Factories turning a torch function into a documented Keras op (one place for the many ops
that are "convert the inputs as Keras does, then call torch").

Each generated op gets its name and a Google docstring with a runnable example, so it documents
itself like a hand-written one (and its example runs with the doctests).

Example:
    >>> import torch
    >>> cube = unary_op(lambda t: t**3, "cube", "``x ** 3``.", "cube(2.0)", "tensor(8.)")
    >>> cube(torch.tensor([1.0, 2.0]))
    tensor([1., 8.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from kseq.ops.core import convert_to_tensor, operands

__all__: list[str] = []


def _document(
    op: Callable[..., Tensor], name: str, summary: str, example: str, result: str
) -> None:
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{summary}\n\n    Example:\n        >>> {example}\n        {result}\n    "


def unary_op(
    fn: Callable[[Tensor], Tensor], name: str, summary: str, example: str, result: str
) -> Callable[[Any], Tensor]:
    """The op ``x -> fn(convert_to_tensor(x))``, named ``name`` and documented.

    Example:
        >>> import torch
        >>> unary_op(torch.neg, "neg", "``-x``.", "neg(1.0)", "tensor(-1.)")(torch.ones(1))
        tensor([-1.])
    """

    def op(x: Any) -> Tensor:
        return fn(convert_to_tensor(x))

    _document(op, name, summary, example, result)
    return op


def binary_op(
    fn: Callable[[Any, Any], Tensor],
    name: str,
    summary: str,
    example: str,
    result: str,
    raw_scalars: bool = False,
) -> Callable[[Any, Any], Tensor]:
    """The op ``(x1, x2) -> fn(*operands(x1, x2))`` (Keras's conversion and promotion of both
    operands, see :func:`kseq.ops.core.operands`), named ``name`` and documented.

    Example:
        >>> import torch
        >>> binary_op(torch.mul, "mul", "``x1 * x2``.", "mul(2, 3)", "tensor(6)")(torch.ones(1), 2)
        tensor([2.])
    """

    def op(x1: Any, x2: Any) -> Tensor:
        return fn(*operands(x1, x2, raw_scalars=raw_scalars))

    _document(op, name, summary, example, result)
    return op
