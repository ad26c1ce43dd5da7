"""``LambdaCallback``: a callback made of plain functions, one per hook.

The functions become instance attributes, so the callback list sees exactly the hooks that were
given (a ``LambdaCallback`` with no batch function adds no per-batch call or host sync).

Example:
    >>> seen = []
    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["loss"])))
    >>> cb.on_epoch_end(0, {"loss": 0.5}); seen
    [(0, 0.5)]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from kseq.callbacks.callback import HOOKS, Callback

__all__ = ["LambdaCallback"]

_ALLOWED = frozenset((*HOOKS, "on_batch_begin", "on_batch_end"))


class LambdaCallback(Callback):
    """Callback for creating simple, custom callbacks on-the-fly.

    Functions are called with positional arguments as the hooks are: ``on_epoch_begin`` /
    ``on_epoch_end`` take ``(epoch, logs)``; ``on_train_begin`` / ``on_train_end`` take
    ``(logs)``; batch functions take ``(batch, logs)`` (``logs`` passed by keyword, as Keras).

    Args:
        on_epoch_begin: Called at the beginning of every epoch.
        on_epoch_end: Called at the end of every epoch.
        on_train_begin: Called at the beginning of training.
        on_train_end: Called at the end of training.
        on_train_batch_begin: Called at the beginning of every training batch.
        on_train_batch_end: Called at the end of every training batch.
        **kwargs: Any other hook, e.g. ``on_test_end=fn`` or ``on_predict_batch_end=fn``. Other
            keywords are stored as attributes, as in Keras; one that starts with ``on_`` but is
            not a hook (a typo) warns.

    Example:
        >>> cb = LambdaCallback(on_train_end=lambda logs: print("done"))
        >>> cb.on_train_end({})
        done
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Callable[..., Any],
    ) -> None:
        super().__init__()
        typos = sorted(k for k in kwargs if k.startswith("on_") and k not in _ALLOWED)
        if typos:
            # Keras stores any keyword silently; a misspelled hook would then never run.
            warnings.warn(
                f"LambdaCallback received {typos}, which are not callback hooks and will never "
                f"be called. Hooks are: {sorted(_ALLOWED)}.",
                stacklevel=2,
            )
        hooks: dict[str, Any] = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
