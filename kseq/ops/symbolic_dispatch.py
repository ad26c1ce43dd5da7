"""Ops on symbolic tensors: ``ops.mean(x)`` with ``x = kseq.Input(...)`` records a graph step.

Keras's ops accept symbolic tensors (``KerasTensor``) and return symbolic results, so functional
models can be written with ``ops`` calls and operators between layers. kseq's ops are plain torch
functions; the public face (``kseq.ops``) wraps each one in :func:`symbolic_aware`, which calls
it as it is and, only when that fails and a symbolic tensor is among the arguments, hands the call
to the handler the layers floor registers (:func:`register_symbolic_handler`, from
``kseq.layers.symbolic_ops``: the call becomes a ``TensorOp`` layer in the graph). The fast path
costs one Python call and a ``try``; internal kseq code calls the unwrapped functions.

Example:
    >>> import torch
    >>> double = symbolic_aware("double", lambda x: x * 2)
    >>> double(torch.ones(2))
    tensor([2., 2.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["dispatch", "has_symbolic", "register_symbolic_handler", "symbolic_aware"]

SymbolicHandler = Callable[[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]
_HANDLER: list[SymbolicHandler] = []


def register_symbolic_handler(handler: SymbolicHandler) -> None:
    """Set the function that turns an op call on symbolic tensors into a graph step.

    Example:
        >>> len(_HANDLER) <= 1
        True
    """
    _HANDLER[:] = [handler]


def has_symbolic(value: Any) -> bool:
    """Whether ``value`` is a symbolic tensor (it carries a Keras history) or a list / tuple /
    dict holding one.

    Example:
        >>> has_symbolic([1, 2.0]), has_symbolic({"a": (3,)})
        (False, False)
    """
    if hasattr(value, "_keras_history") and not hasattr(value, "data_ptr"):
        return True
    if isinstance(value, (list, tuple)):
        return any(has_symbolic(v) for v in value)
    if isinstance(value, dict):
        return any(has_symbolic(v) for v in value.values())
    return False


def symbolic_aware(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, which also takes symbolic tensors (a graph step named ``name`` when it meets one).

    Example:
        >>> import torch
        >>> symbolic_aware("neg", torch.neg)(torch.ones(1))
        tensor([-1.])
    """

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception:
            if _HANDLER and (has_symbolic(args) or has_symbolic(kwargs)):
                return _HANDLER[0](name, fn, args, kwargs)
            raise

    op.__wrapped_op__ = fn  # type: ignore[attr-defined]
    return op


def dispatch(name: str, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> Any:
    """Record op ``name`` on symbolic ``args`` directly (Python operators on symbolic tensors).

    Example:
        >>> import kseq
        >>> x = kseq.Input((2,))
        >>> dispatch("add", (x, 1.0)).shape
        (None, 2)
    """
    if not _HANDLER:
        raise TypeError(f"'{name}' on a symbolic tensor needs kseq.layers (import kseq first).")
    return _HANDLER[0](name, None, args, dict(kwargs or {}))  # type: ignore[arg-type]
