"""``torch.compile`` helpers that keep ``import kseq`` fast.

Example:
    >>> @eager_only
    ... def build_state():
    ...     return 1
    >>> build_state()
    1
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import torch

F = TypeVar("F", bound=Callable[..., Any])


def eager_only(fn: F) -> F:
    """``torch.compiler.disable`` applied on first call: the function always runs eagerly, outside
    any compiled graph, but importing the module does not import ``torch._dynamo`` (about 1 s).

    Example:
        >>> eager_only(abs)(-2)
        2
    """
    disabled: list[Callable[..., Any]] = []

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not disabled:
            disabled.append(torch.compiler.disable(fn))
        return disabled[0](*args, **kwargs)

    return wrapper  # type: ignore[return-value]
