"""The metric cases shared by the parity and config tests: for each case, a kseq factory and a
Keras factory (each takes its metrics-bearing module) and the kind of data it is fed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

N, C = 24, 4

# name -> (kseq factory, keras factory, data kind)
Factory = Callable[[Any], Any]


def _same(name: str, **kwargs: Any) -> tuple[Factory, Factory]:
    return (lambda mod: getattr(mod, name)(**kwargs)), (
        lambda k: getattr(k.metrics, name)(**kwargs)
    )


CASES: dict[str, tuple[tuple[Factory, Factory], str]] = {
    # accuracy family
    "Accuracy": (_same("Accuracy"), "classes"),
    "BinaryAccuracy": (_same("BinaryAccuracy"), "binary"),
    "BinaryAccuracy-threshold": (_same("BinaryAccuracy", threshold=0.7), "binary"),
    "CategoricalAccuracy": (_same("CategoricalAccuracy"), "onehot"),
    "SparseCategoricalAccuracy": (_same("SparseCategoricalAccuracy"), "sparse"),
    "SparseCategoricalAccuracy-col": (_same("SparseCategoricalAccuracy"), "sparse_col"),
    "TopKCategoricalAccuracy": (_same("TopKCategoricalAccuracy", k=2), "onehot"),
    "SparseTopKCategoricalAccuracy": (_same("SparseTopKCategoricalAccuracy", k=2), "sparse"),
    "SparseTopKCategoricalAccuracy-col": (
        _same("SparseTopKCategoricalAccuracy", k=3),
        "sparse_col",
    ),
    "SparseTopK-sorted-ids": (
        _same("SparseTopKCategoricalAccuracy", k=2, from_sorted_ids=True),
        "sorted_ids",
    ),
    # confusion counts
    "TruePositives": (_same("TruePositives"), "binary"),
    "FalsePositives": (_same("FalsePositives", thresholds=[0.2, 0.5, 0.8]), "binary"),
    "TrueNegatives": (_same("TrueNegatives", thresholds=0.3), "multilabel"),
    "FalseNegatives": (_same("FalseNegatives", thresholds=[0.0, 0.5, 1.0]), "binary"),
    "Precision": (_same("Precision"), "binary"),
    "Precision-thresholds": (_same("Precision", thresholds=[0.1, 0.4, 0.9]), "multilabel"),
    "Precision-top_k": (_same("Precision", top_k=2), "multilabel"),
    "Precision-class_id": (_same("Precision", class_id=1), "multilabel"),
    "Recall": (_same("Recall"), "binary_flat"),
    "Recall-top_k-class_id": (_same("Recall", top_k=2, class_id=2), "multilabel"),
    "Recall-evenly": (_same("Recall", thresholds=[0.0, 0.25, 0.5, 0.75, 1.0]), "binary"),
    "PrecisionAtRecall": (_same("PrecisionAtRecall", recall=0.6), "binary"),
    "RecallAtPrecision": (_same("RecallAtPrecision", precision=0.55, num_thresholds=50), "binary"),
    "SensitivityAtSpecificity": (_same("SensitivityAtSpecificity", specificity=0.5), "binary"),
    "SpecificityAtSensitivity": (
        _same("SpecificityAtSensitivity", sensitivity=0.4, class_id=1),
        "multilabel",
    ),
    "SpecificityAtSensitivity-1": (
        _same("SpecificityAtSensitivity", sensitivity=0.4, num_thresholds=1),
        "binary",
    ),
    # AUC
    "AUC": (_same("AUC"), "binary"),
    "AUC-PR": (_same("AUC", curve="PR"), "binary"),
    "AUC-PR-minoring": (_same("AUC", curve="PR", summation_method="minoring"), "binary"),
    "AUC-ROC-majoring": (_same("AUC", summation_method="majoring", num_thresholds=17), "binary"),
    "AUC-PRGAIN": (_same("AUC", curve="PRGAIN"), "binary"),
    "AUC-thresholds": (_same("AUC", thresholds=[0.1, 0.35, 0.5, 0.9]), "binary"),
    "AUC-thresholds-even": (_same("AUC", thresholds=[0.25, 0.5, 0.75]), "binary"),
    "AUC-multi_label": (_same("AUC", multi_label=True), "multilabel"),
    "AUC-multi_label-PR-weights": (
        _same("AUC", multi_label=True, curve="PR", label_weights=[0.1, 0.2, 0.3, 0.4]),
        "multilabel",
    ),
    "AUC-multi_label-num_labels": (_same("AUC", multi_label=True, num_labels=C), "multilabel"),
    "AUC-label_weights": (_same("AUC", label_weights=[0.5, 1.0, 2.0, 0.1]), "multilabel"),
    "AUC-logits": (_same("AUC", from_logits=True), "logits"),
    # F-scores
    "F1Score": (_same("F1Score"), "multilabel"),
    "F1Score-micro": (_same("F1Score", average="micro", threshold=0.5), "multilabel"),
    "F1Score-macro": (_same("F1Score", average="macro"), "onehot"),
    "F1Score-weighted": (_same("F1Score", average="weighted", threshold=0.4), "multilabel"),
    "FBetaScore": (_same("FBetaScore", beta=2.0, threshold=0.5), "multilabel"),
    # IoU
    "IoU": (_same("IoU", num_classes=C, target_class_ids=[0, 2]), "iou"),
    "IoU-ignore": (_same("IoU", num_classes=C, target_class_ids=[1], ignore_class=0), "iou"),
    "IoU-float": (_same("IoU", num_classes=C, target_class_ids=[0, 3], dtype="float32"), "iou"),
    "MeanIoU": (_same("MeanIoU", num_classes=C), "iou"),
    "MeanIoU-dense": (
        _same("MeanIoU", num_classes=C, sparse_y_true=False, sparse_y_pred=False),
        "onehot",
    ),
    "BinaryIoU": (_same("BinaryIoU", target_class_ids=[0, 1], threshold=0.3), "binary"),
    "BinaryIoU-float": (_same("BinaryIoU", target_class_ids=[1], dtype="float32"), "binary"),
    "OneHotIoU": (_same("OneHotIoU", num_classes=C, target_class_ids=[1, 2]), "onehot"),
    "OneHotMeanIoU": (_same("OneHotMeanIoU", num_classes=C), "onehot"),
    # regression
    "MeanSquaredError": (_same("MeanSquaredError"), "regression"),
    "RootMeanSquaredError": (_same("RootMeanSquaredError"), "regression"),
    "MeanAbsoluteError": (_same("MeanAbsoluteError"), "regression"),
    "MeanAbsolutePercentageError": (_same("MeanAbsolutePercentageError"), "regression"),
    "MeanSquaredLogarithmicError": (_same("MeanSquaredLogarithmicError"), "positive"),
    "CosineSimilarity": (_same("CosineSimilarity"), "regression"),
    "CosineSimilarity-axis0": (_same("CosineSimilarity", axis=0), "regression"),
    "LogCoshError": (_same("LogCoshError"), "regression"),
    "R2Score": (_same("R2Score"), "regression"),
    "R2Score-variance": (
        _same("R2Score", class_aggregation="variance_weighted_average"),
        "regression",
    ),
    "R2Score-raw": (_same("R2Score", class_aggregation=None), "regression"),
    "R2Score-adjusted": (_same("R2Score", num_regressors=3), "regression"),
    "R2Score-too-many-regressors": (_same("R2Score", num_regressors=500), "regression"),
    # hinge
    "Hinge": (_same("Hinge"), "binary"),
    "SquaredHinge": (_same("SquaredHinge"), "signed"),
    "CategoricalHinge": (_same("CategoricalHinge"), "onehot"),
    # probabilistic
    "KLDivergence": (_same("KLDivergence"), "onehot"),
    "Poisson": (_same("Poisson"), "positive"),
    "BinaryCrossentropy": (_same("BinaryCrossentropy"), "binary"),
    "BinaryCrossentropy-logits-smoothing": (
        _same("BinaryCrossentropy", from_logits=True, label_smoothing=0.1),
        "logits",
    ),
    "CategoricalCrossentropy": (_same("CategoricalCrossentropy", label_smoothing=0.2), "onehot"),
    "SparseCategoricalCrossentropy": (_same("SparseCategoricalCrossentropy"), "sparse"),
    "SparseCategoricalCrossentropy-ignore": (
        _same("SparseCategoricalCrossentropy", ignore_class=0),
        "sparse",
    ),
    # correlation
    "PearsonCorrelation": (_same("PearsonCorrelation"), "regression"),
    "ConcordanceCorrelation": (_same("ConcordanceCorrelation"), "regression"),
    # reduction
    "MeanMetricWrapper": (
        (
            lambda mod: mod.MeanMetricWrapper(mod.mean_squared_error),
            lambda k: k.metrics.MeanMetricWrapper(k.metrics.mean_squared_error),
        ),
        "regression",
    ),
}


EDGES = np.array([0.0, 1.0, 0.5, 0.25, 1 / 199, 100 / 199, 0.75, 1 / 3], dtype=np.float32)


def make_batch(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_pred)`` of one batch of the given kind (numpy arrays)."""
    probs = rng.random((N, C)).astype(np.float32)
    probs[0, : len(EDGES) // 2] = EDGES[: len(EDGES) // 2]
    probs[1, : len(EDGES) // 2] = EDGES[len(EDGES) // 2 :]
    softmax = np.exp(3 * probs) / np.exp(3 * probs).sum(-1, keepdims=True)
    labels = rng.integers(0, C, N)
    onehot = np.eye(C, dtype=np.float32)[labels]
    if kind == "binary":
        return (rng.random((N, 1)) > 0.5).astype(np.float32), probs[:, :1].copy()
    if kind == "binary_flat":
        return (rng.random(N) > 0.5).astype(np.float32), probs[:, 0].copy()
    if kind == "signed":
        return np.where(rng.random((N, 1)) > 0.5, 1.0, -1.0).astype(np.float32), 2 * probs[
            :, :1
        ] - 1
    if kind == "logits":
        return (rng.random((N, 1)) > 0.5).astype(np.float32), rng.normal(size=(N, 1)).astype(
            np.float32
        )
    if kind == "multilabel":
        return (rng.random((N, C)) > 0.5).astype(np.float32), probs
    if kind == "onehot":
        return onehot, softmax.astype(np.float32)
    if kind == "sparse":
        return labels, softmax.astype(np.float32)
    if kind == "sparse_col":
        return labels[:, None], softmax.astype(np.float32)
    if kind == "sorted_ids":
        return labels, np.argsort(-softmax, axis=-1).astype(np.float32)
    if kind == "classes":
        return labels.astype(np.float32), rng.integers(0, C, N).astype(np.float32)
    if kind == "iou":
        return labels, rng.integers(0, C, N)
    if kind == "regression":
        return rng.normal(size=(N, 3)).astype(np.float32), rng.normal(size=(N, 3)).astype(
            np.float32
        )
    if kind == "positive":
        return rng.random((N, 3)).astype(np.float32) * 3, rng.random((N, 3)).astype(np.float32) * 3
    raise AssertionError(kind)
