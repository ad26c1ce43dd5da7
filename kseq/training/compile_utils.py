"""What ``compile()`` arguments become once the data's shapes are known (Keras's compile_utils).

``"accuracy"``/``"acc"`` and ``"crossentropy"``/``"ce"`` pick the binary, sparse or categorical
variant from the target and prediction shapes; metric log keys are the strings the user wrote.

Example:
    >>> type(get_compile_metric("accuracy", (32, 1), (32, 1))).__name__
    'BinaryAccuracy'
"""

from __future__ import annotations

from typing import Any

from kseq import losses as _losses
from kseq import metrics as _metrics
from kseq.core.naming import to_snake_case
from kseq.metrics import (
    BinaryAccuracy,
    CategoricalAccuracy,
    MeanMetricWrapper,
    Metric,
    SparseCategoricalAccuracy,
)


def _is_binary_or_sparse(
    y_true_shape: tuple[int, ...], y_pred_shape: tuple[int, ...]
) -> tuple[bool, bool]:
    is_binary = y_pred_shape[-1] == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (
        y_true_shape[-1] == 1 and y_pred_shape[-1] > 1
    )
    return is_binary, is_sparse


def get_compile_metric(
    identifier: Any, y_true_shape: tuple[int, ...], y_pred_shape: tuple[int, ...]
) -> Metric:
    """What ``compile(metrics=[identifier])`` becomes once the target/prediction shapes are known.

    ``"accuracy"``/``"acc"`` pick Binary/Sparse/Categorical accuracy from the shapes, as Keras does;
    the log key is the string the user wrote.

    Example:
        >>> type(get_compile_metric("acc", (32,), (32, 10))).__name__
        'SparseCategoricalAccuracy'
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if str(identifier).lower() in ("accuracy", "acc"):
        is_binary, is_sparse = _is_binary_or_sparse(y_true_shape, y_pred_shape)
        cls = (
            BinaryAccuracy
            if is_binary
            else SparseCategoricalAccuracy
            if is_sparse
            else CategoricalAccuracy
        )
        return cls(name=str(identifier))
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = _is_binary_or_sparse(y_true_shape, y_pred_shape)
        fn = (
            _losses.binary_crossentropy
            if is_binary
            else _losses.sparse_categorical_crossentropy
            if is_sparse
            else _losses.categorical_crossentropy
        )
        return MeanMetricWrapper(fn, name=str(identifier))
    metric = _metrics.get(identifier)
    # Keras's get_object_name: the string written, else the metric's name or the function's name.
    name = identifier if isinstance(identifier, str) else getattr(metric, "name", None)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric)
    metric.name = name or to_snake_case(getattr(metric._fn, "__name__", "mean_metric_wrapper"))
    return metric


def make_log_names_unique(metrics: list[Metric], weighted_metrics: list[Metric]) -> None:
    """Rename compiled metrics whose log keys would collide, as Keras names its results.

    A repeated name among ``metrics`` gets ``_1``, ``_2``...; a weighted metric whose name is
    taken becomes ``weighted_<name>`` (then ``weighted_<name>_1``...).

    Example:
        >>> ms, ws = [MeanMetricWrapper(abs, name="m"), MeanMetricWrapper(abs, name="m")], [BinaryAccuracy(name="m")]
        >>> make_log_names_unique(ms, ws); [m.name for m in ms + ws]
        ['m', 'm_1', 'weighted_m']
    """
    seen: dict[str, int] = {}
    for metric in metrics:
        if metric.name in seen:
            seen[metric.name] += 1
            metric.name = f"{metric.name}_{seen[metric.name] - 1}"
        else:
            seen[metric.name] = 1
    for metric in weighted_metrics:
        if metric.name not in seen:
            seen[metric.name] = 1
            continue
        name = f"weighted_{metric.name}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name] - 1}"
        else:
            seen[name] = 1
        metric.name = name


def get_compile_loss(
    identifier: Any, y_true_shape: tuple[int, ...], y_pred_shape: tuple[int, ...]
) -> Any:
    """What ``compile(loss=identifier)`` becomes once shapes are known (``"crossentropy"``/``"ce"``
    pick binary / sparse / categorical crossentropy, as Keras does).

    Example:
        >>> type(get_compile_loss("ce", (32, 1), (32, 1))).__name__
        'BinaryCrossentropy'
    """
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = _is_binary_or_sparse(y_true_shape, y_pred_shape)
        cls = (_losses.BinaryCrossentropy if is_binary else _losses.SparseCategoricalCrossentropy
               if is_sparse else _losses.CategoricalCrossentropy)  # fmt: skip
        return cls(name=identifier)
    loss = _losses.get(identifier)
    if loss is not None and not isinstance(loss, _losses.Loss):
        name = (
            identifier
            if isinstance(identifier, str)
            else to_snake_case(getattr(loss, "__name__", "loss"))
        )
        loss = _losses.LossFunctionWrapper(loss, name=name)
    return loss


def check_target_shape(
    loss: Any,
    y_shape: tuple[int, ...],
    out_shape: tuple[int | None, ...],
    batch_sizes: tuple[int, ...] = (),
) -> None:
    """Fail before training when targets cannot match the model's output for this loss.

    Crossentropies need equal shapes (up to a trailing axis of size 1, Keras's rank rule). The
    element-wise regression losses, like Keras, also accept targets that *broadcast to* the output
    for the batch sizes ``fit`` will use — but not targets that would broadcast the output up
    (``(N, 3)`` targets against a ``(N, 1)`` output), which silently trains on the wrong thing.

    Example:
        >>> check_target_shape(_losses.BinaryCrossentropy(), (32, 3), (32, 1))
        Traceback (most recent call last):
        ...
        ValueError: Targets of shape (32, 3) do not match the model's output shape (None, 1) for loss binary_crossentropy: ...
    """
    out = (None, *out_shape[1:])
    name = getattr(loss, "name", type(loss).__name__)
    if getattr(loss, "sparse_targets", False):
        expected = tuple(out[1:-1])
        got = y_shape[1:-1] if len(y_shape) == len(out) and y_shape[-1] == 1 else y_shape[1:]
        if tuple(got) != expected:
            raise ValueError(
                f"Targets of shape {y_shape} do not match the model's output shape {out} for loss {name}: "
                f"sparse categorical losses take integer class indices of shape {(None, *expected)} "
                f"(or {(None, *expected, 1)}). For one-hot targets use 'categorical_crossentropy'."
            )
        return
    exact = isinstance(loss, (_losses.BinaryCrossentropy, _losses.CategoricalCrossentropy))
    elementwise = isinstance(loss, (_losses.MeanSquaredError, _losses.MeanAbsoluteError))
    if not (exact or elementwise):
        return  # custom losses decide for themselves
    t_rank, p_rank = len(y_shape), len(out)
    t, p = list(y_shape[1:]), list(out[1:])
    if t_rank == p_rank + 1 and t and t[-1] == 1:
        t = t[:-1]
    elif p_rank == t_rank + 1 and p and p[-1] == 1:
        p = p[:-1]
    if t == p or (elementwise and _broadcasts_to(t, p, batch_sizes or (y_shape[0],))):
        return
    hint = ""
    if (
        isinstance(loss, _losses.CategoricalCrossentropy) and len(y_shape) == len(out) - 1
    ) or y_shape[1:] == (1,):
        hint = " For integer class labels use 'sparse_categorical_crossentropy'."
    elif out[-1] == 1 and len(y_shape) == 2 and y_shape[-1] > 1:
        hint = (
            " The model has 1 output unit; did you mean Dense(%d) with 'categorical_crossentropy'?"
            % y_shape[-1]
        )
    raise ValueError(
        f"Targets of shape {y_shape} do not match the model's output shape {out} for loss {name}: "
        f"the shapes must be equal (a trailing axis of size 1 may be added or dropped).{hint}"
    )


def _broadcasts_to(target: list[Any], output: list[Any], batch_sizes: tuple[int, ...]) -> bool:
    """Whether ``(B, *target)`` broadcasts to ``(B, *output)`` for every batch size ``B``."""
    import torch

    for batch in batch_sizes:
        full_output = (batch, *(1 if d is None else d for d in output))
        try:
            if torch.broadcast_shapes((batch, *target), full_output) != full_output:
                return False
        except RuntimeError:
            return False
    return True
