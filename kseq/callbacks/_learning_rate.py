"""Reading an optimizer's learning rate the way Keras's callbacks see it.

Keras keeps the learning rate in a float32 variable, so ``float(optimizer.learning_rate)`` after
``learning_rate = 1e-3`` is ``0.0010000000474974513``. The learning-rate callbacks
(``ReduceLROnPlateau``, ``LearningRateScheduler``, ``TensorBoard``) read it through
``read_learning_rate`` so that the values they compute, log and print are Keras's, digit for digit.

Example:
    >>> from kseq.optimizers import SGD
    >>> read_learning_rate(SGD(learning_rate=1e-3))
    0.0010000000474974513
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kseq.callbacks.callback import Logs


def read_learning_rate(optimizer: Any) -> float:
    """``optimizer.learning_rate`` as a Python float rounded to float32 (Keras's variable dtype).

    Raises:
        ValueError: If the optimizer has no ``learning_rate``.

    Example:
        >>> from kseq.optimizers import SGD
        >>> read_learning_rate(SGD(learning_rate=0.5))
        0.5
    """
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return float(np.float32(float(optimizer.learning_rate)))


def log_learning_rate(model: Any, logs: Logs) -> dict[str, Any]:
    """Add ``"learning_rate"`` (the model optimizer's) to ``logs`` in place and return it, so
    that the callbacks after this one (``History``, ``CSVLogger``) see it, as in Keras.

    Example:
        >>> from types import SimpleNamespace
        >>> from kseq.optimizers import SGD
        >>> log_learning_rate(SimpleNamespace(optimizer=SGD(learning_rate=0.25)), {"loss": 1.0})
        {'loss': 1.0, 'learning_rate': 0.25}
    """
    logs = logs or {}  # as Keras: an empty dict is not shared
    logs["learning_rate"] = read_learning_rate(model.optimizer)
    return logs
