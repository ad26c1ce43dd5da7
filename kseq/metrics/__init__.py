"""``kseq.metrics``: stateful Keras metrics with device-resident state, plus string lookup.

Example:
    >>> import torch
    >>> m = get("binary_accuracy")
    >>> float(m(torch.tensor([1.0, 0.0]), torch.tensor([0.9, 0.1])))
    1.0
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from kseq import losses as _losses
from kseq.metrics.accuracy import Accuracy as Accuracy
from kseq.metrics.accuracy import BinaryAccuracy as BinaryAccuracy
from kseq.metrics.accuracy import CategoricalAccuracy as CategoricalAccuracy
from kseq.metrics.accuracy import SparseCategoricalAccuracy as SparseCategoricalAccuracy
from kseq.metrics.accuracy import accuracy as accuracy
from kseq.metrics.accuracy import binary_accuracy as binary_accuracy
from kseq.metrics.accuracy import categorical_accuracy as categorical_accuracy
from kseq.metrics.accuracy import sparse_categorical_accuracy as sparse_categorical_accuracy
from kseq.metrics.metric import Mean as Mean
from kseq.metrics.metric import MeanMetricWrapper as MeanMetricWrapper
from kseq.metrics.metric import Metric as Metric
from kseq.metrics.metric import Sum as Sum
from kseq.saving.serialization import (
    deserialize_keras_object,
    resolve_class,
    serialize_keras_object,
)
from kseq.utils.naming import to_snake_case

# Loss functions double as metric functions, as in keras.metrics.
binary_crossentropy = _losses.binary_crossentropy
categorical_crossentropy = _losses.categorical_crossentropy
sparse_categorical_crossentropy = _losses.sparse_categorical_crossentropy
mean_squared_error = _losses.mean_squared_error
mean_absolute_error = _losses.mean_absolute_error

_ALL: dict[str, Any] = {}


def register_builtin(*objects: Any, aliases: dict[str, Any] | None = None) -> None:
    """Add built-in metric classes/functions (by class name, snake_case name and aliases).

    Used by the modules of this package; user code registers with ``register_keras_serializable``.
    """
    for obj in objects:
        _ALL[obj.__name__] = obj
        if inspect.isclass(obj):
            _ALL[to_snake_case(obj.__name__)] = obj
    _ALL.update(aliases or {})


register_builtin(
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    mean_squared_error, mean_absolute_error,
    aliases={"mse": mean_squared_error, "MSE": mean_squared_error, "mae": mean_absolute_error,
             "MAE": mean_absolute_error, "bce": binary_crossentropy, "BCE": binary_crossentropy},
)  # fmt: skip


def names() -> list[str]:
    """Every string ``get()`` (and ``compile(metrics=[...])``) accepts.

    Example:
        >>> "sparse_categorical_accuracy" in names()
        True
    """
    return sorted({*_ALL, "accuracy", "acc", "crossentropy", "ce"})


def get(identifier: Any) -> Metric | Callable[..., Any]:
    """Resolve a metric name, config dict, class, instance or function.

    Strings naming a function give a ``MeanMetricWrapper`` named after the string.

    Example:
        >>> m = get("mae"); type(m).__name__, m.name
        ('MeanMetricWrapper', 'mae')
    """
    if isinstance(identifier, dict):
        return deserialize(identifier)
    obj = resolve_class("metric", identifier, _ALL) if isinstance(identifier, str) else identifier
    if inspect.isclass(obj):
        return obj()
    if isinstance(obj, Metric):
        return obj
    if callable(obj):
        name = (
            identifier
            if isinstance(identifier, str)
            else to_snake_case(getattr(obj, "__name__", "metric"))
        )
        return MeanMetricWrapper(obj, name=name)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric: Any) -> Any:
    """Config of a metric object.

    Example:
        >>> serialize(BinaryAccuracy())["class_name"]
        'BinaryAccuracy'
    """
    return serialize_keras_object(metric, "keras.metrics", _ALL)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Inverse of :func:`serialize`.

    Example:
        >>> deserialize({"class_name": "Accuracy", "config": {"name": "acc"}}).name
        'acc'
    """
    return deserialize_keras_object(config, "metric", _ALL, custom_objects)
