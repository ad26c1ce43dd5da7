"""``kseq.metrics``: stateful Keras metrics with device-resident state, plus string lookup.

``get()`` accepts exactly the strings Keras's ``keras.metrics.get`` accepts: class names, their
snake_case forms (``"auc"``, ``"f1_score"``, ``"mean_io_u"``...) and the aliases ``mse``, ``mae``,
``mape``, ``msle`` and ``bce`` (upper case too). A string gives an instance of the class; a
function is returned as is (``compile`` wraps it in ``MeanMetricWrapper``).

``names()`` lists every string ``get()`` (and ``compile(metrics=[...])``) accepts; a string or
class gives a new instance (named after the class: ``get("mse").name`` is
``"mean_squared_error"``; ``compile`` renames it to the string), an instance or function is
returned unchanged. ``get_function`` gives the metric function registered under a name (for
``MeanMetricWrapper`` configs); ``serialize`` gives the config of a metric object (or the
registered name of a metric function) and ``deserialize`` is its inverse.

Example:
    >>> import torch
    >>> m = get("binary_accuracy")
    >>> float(m(torch.tensor([1.0, 0.0]), torch.tensor([0.9, 0.1])))
    1.0
    >>> m = get("mae"); type(m).__name__, m.name
    ('MeanAbsoluteError', 'mean_absolute_error')
    >>> "sparse_categorical_accuracy" in names(), "mean_io_u" in names()
    (True, True)
    >>> get_function("binary_accuracy").__name__, serialize(BinaryAccuracy())["class_name"]
    ('binary_accuracy', 'BinaryAccuracy')
    >>> deserialize({"class_name": "Accuracy", "config": {"name": "acc"}}).name
    'acc'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from kseq import losses as _losses
from kseq.core.naming import to_snake_case as to_snake_case
from kseq.metrics.accuracy import Accuracy as Accuracy
from kseq.metrics.accuracy import BinaryAccuracy as BinaryAccuracy
from kseq.metrics.accuracy import CategoricalAccuracy as CategoricalAccuracy
from kseq.metrics.accuracy import SparseCategoricalAccuracy as SparseCategoricalAccuracy
from kseq.metrics.accuracy import SparseTopKCategoricalAccuracy as SparseTopKCategoricalAccuracy
from kseq.metrics.accuracy import TopKCategoricalAccuracy as TopKCategoricalAccuracy
from kseq.metrics.accuracy import accuracy as accuracy
from kseq.metrics.accuracy import binary_accuracy as binary_accuracy
from kseq.metrics.accuracy import categorical_accuracy as categorical_accuracy
from kseq.metrics.accuracy import sparse_categorical_accuracy as sparse_categorical_accuracy
from kseq.metrics.accuracy import (
    sparse_top_k_categorical_accuracy as sparse_top_k_categorical_accuracy,
)
from kseq.metrics.accuracy import top_k_categorical_accuracy as top_k_categorical_accuracy
from kseq.metrics.auc import AUC as AUC
from kseq.metrics.confusion import FalseNegatives as FalseNegatives
from kseq.metrics.confusion import FalsePositives as FalsePositives
from kseq.metrics.confusion import Precision as Precision
from kseq.metrics.confusion import PrecisionAtRecall as PrecisionAtRecall
from kseq.metrics.confusion import Recall as Recall
from kseq.metrics.confusion import RecallAtPrecision as RecallAtPrecision
from kseq.metrics.confusion import SensitivityAtSpecificity as SensitivityAtSpecificity
from kseq.metrics.confusion import SpecificityAtSensitivity as SpecificityAtSensitivity
from kseq.metrics.confusion import TrueNegatives as TrueNegatives
from kseq.metrics.confusion import TruePositives as TruePositives
from kseq.metrics.correlation import ConcordanceCorrelation as ConcordanceCorrelation
from kseq.metrics.correlation import PearsonCorrelation as PearsonCorrelation
from kseq.metrics.correlation import concordance_correlation as concordance_correlation
from kseq.metrics.correlation import pearson_correlation as pearson_correlation
from kseq.metrics.fscore import F1Score as F1Score
from kseq.metrics.fscore import FBetaScore as FBetaScore
from kseq.metrics.hinge import CategoricalHinge as CategoricalHinge
from kseq.metrics.hinge import Hinge as Hinge
from kseq.metrics.hinge import SquaredHinge as SquaredHinge
from kseq.metrics.iou import BinaryIoU as BinaryIoU
from kseq.metrics.iou import IoU as IoU
from kseq.metrics.iou import MeanIoU as MeanIoU
from kseq.metrics.iou import OneHotIoU as OneHotIoU
from kseq.metrics.iou import OneHotMeanIoU as OneHotMeanIoU
from kseq.metrics.metric import Metric as Metric
from kseq.metrics.probabilistic import BinaryCrossentropy as BinaryCrossentropy
from kseq.metrics.probabilistic import CategoricalCrossentropy as CategoricalCrossentropy
from kseq.metrics.probabilistic import KLDivergence as KLDivergence
from kseq.metrics.probabilistic import Poisson as Poisson
from kseq.metrics.probabilistic import (
    SparseCategoricalCrossentropy as SparseCategoricalCrossentropy,
)
from kseq.metrics.reduction_metrics import Mean as Mean
from kseq.metrics.reduction_metrics import MeanMetricWrapper as MeanMetricWrapper
from kseq.metrics.reduction_metrics import Sum as Sum
from kseq.metrics.regression import CosineSimilarity as CosineSimilarity
from kseq.metrics.regression import LogCoshError as LogCoshError
from kseq.metrics.regression import MeanAbsoluteError as MeanAbsoluteError
from kseq.metrics.regression import MeanAbsolutePercentageError as MeanAbsolutePercentageError
from kseq.metrics.regression import MeanSquaredError as MeanSquaredError
from kseq.metrics.regression import MeanSquaredLogarithmicError as MeanSquaredLogarithmicError
from kseq.metrics.regression import R2Score as R2Score
from kseq.metrics.regression import RootMeanSquaredError as RootMeanSquaredError
from kseq.registry.namespace import Namespace as _Namespace

# Importable from here as before (kseq's public API snapshot lists them).
from kseq.registry.serialization import deserialize_keras_object as deserialize_keras_object
from kseq.registry.serialization import resolve_class as resolve_class
from kseq.registry.serialization import serialize_keras_object as serialize_keras_object

# Loss functions double as metric functions, as in keras.metrics.
binary_crossentropy = _losses.binary_crossentropy
binary_focal_crossentropy = _losses.binary_focal_crossentropy
categorical_crossentropy = _losses.categorical_crossentropy
categorical_focal_crossentropy = _losses.categorical_focal_crossentropy
sparse_categorical_crossentropy = _losses.sparse_categorical_crossentropy
mean_squared_error = _losses.mean_squared_error
mean_absolute_error = _losses.mean_absolute_error
mean_absolute_percentage_error = _losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = _losses.mean_squared_logarithmic_error
hinge = _losses.hinge
squared_hinge = _losses.squared_hinge
categorical_hinge = _losses.categorical_hinge
kl_divergence = _losses.kl_divergence
poisson = _losses.poisson
huber = _losses.huber
log_cosh = _losses.log_cosh


class _Metrics(_Namespace):
    """A string or class gives a new instance, a function is returned as is; a plain string that
    names no class deserializes to the metric *function* of that name; metric functions save under
    their registered name; ``names()`` also lists ``"accuracy"``/``"acc"`` (which ``compile``
    resolves from the data's shapes)."""

    def names(self) -> list[str]:
        """Every string ``get()`` (and ``compile(metrics=[...])``) accepts."""
        return sorted({*self.table, "accuracy", "acc"})

    def from_name(self, name: str) -> Any:
        """A new instance of the metric class ``name`` stands for (a function as is)."""
        return self._instance(self.lookup(name), name)

    def get(self, identifier: Any) -> Metric | Callable[..., Any] | None:
        """Resolve a metric name, config dict, class, instance or function, as ``keras.metrics.get``."""
        if isinstance(identifier, dict):
            return self._instance(self.deserialize(identifier), identifier)
        return super().get(identifier)

    @staticmethod
    def _instance(obj: Any, identifier: Any) -> Any:
        if inspect.isclass(obj):
            return obj()
        if callable(obj):
            return obj
        raise ValueError(f"Could not interpret metric identifier: {identifier!r}")

    def serialize(self, metric: Any) -> Any:
        """Config of a metric object (or the registered name of a metric function)."""
        if isinstance(metric, Metric) or inspect.isclass(metric):
            return super().serialize(metric)
        return self.registered_name(metric)

    def deserialize(self, config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """Inverse of :meth:`serialize` (a name that is no class gives the metric function)."""
        if isinstance(config, str) and config not in self.table:
            if custom_objects and config in custom_objects:
                return custom_objects[config]
            return self.get_function(config)
        return super().deserialize(config, custom_objects)


_METRICS = _Metrics("metric", "metrics", "keras.metrics", base=object)
_ALL = _METRICS.table
_FUNCTIONS = _METRICS.functions


def register_builtin(*objects: Any, aliases: dict[str, Any] | None = None) -> None:
    """Add built-in metric classes (by class name and snake_case name) and functions.

    Classes and ``aliases`` are what ``get()`` resolves strings to; functions are what a
    ``MeanMetricWrapper`` config can name. Used by the modules of this package; user code
    registers with ``register_keras_serializable``.

    Example:
        >>> "top_k_categorical_accuracy" in names()
        True
    """
    _METRICS.register(*(obj for obj in objects if inspect.isclass(obj)), snake_case=True)
    _METRICS.register_function(*(obj for obj in objects if not inspect.isclass(obj)))
    _METRICS.register(aliases=aliases)


register_builtin(
    # Base and reduction
    Metric, Mean, Sum, MeanMetricWrapper,
    # Regression
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    # Classification (confusion counts)
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives,
    # Correlation, hinge, probabilistic
    ConcordanceCorrelation, PearsonCorrelation, Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    # Accuracy
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    # F-score and IoU
    F1Score, FBetaScore, IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
    # Functions
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, pearson_correlation,
    concordance_correlation, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy, sparse_categorical_crossentropy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, hinge, squared_hinge, categorical_hinge, kl_divergence,
    poisson, huber, log_cosh,
    aliases={
        "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError, "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    },
)  # fmt: skip


names = _METRICS.names
get = _METRICS.get
get_function = _METRICS.get_function
serialize = _METRICS.serialize
deserialize = _METRICS.deserialize
