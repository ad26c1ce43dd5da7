"""The reduction metrics: ``Mean``, ``Sum`` and ``MeanMetricWrapper`` (the mean of a function of
``y_true`` and ``y_pred``, which most built-in metrics are), and Keras's reduction of element-wise
values to one value per sample (``reduce_to_samplewise_values``).

Example:
    >>> import torch
    >>> m = Mean()
    >>> m.update_state(torch.tensor([1.0, 3.0])); float(m.result())
    2.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from kseq.core.naming import auto_name
from kseq.losses.loss import squeeze_or_expand_to_same_rank
from kseq.metrics.metric import Metric, divide_no_nan
from kseq.registry.namespace import NAMESPACES
from kseq.registry.object_config import deserialize_keras_object
from kseq.registry.object_registration import get_registered_name


def reduce_to_samplewise_values(
    values: Tensor,
    sample_weight: Any,
    dtype: torch.dtype,
    reduce_fn: Callable[..., Tensor] = torch.mean,
) -> tuple[Tensor, Tensor | None]:
    """Keras's reduction of element-wise metric values (and weights) to one value per sample.

    Example:
        >>> v, w = reduce_to_samplewise_values(torch.ones(2, 3), torch.tensor([1.0, 0.0]), torch.float32)
        >>> v.tolist(), w.tolist()
        ([1.0, 0.0], [1.0, 0.0])
    """
    values = values.to(dtype)
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, dtype=dtype, device=values.device)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce_fn(values, dim=tuple(range(sample_weight.ndim, values.ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.ndim)))
    return values, sample_weight


class Mean(Metric):
    """(Weighted) mean of the values it is given.

    Example:
        >>> m = Mean(); m.update_state(torch.tensor([1.0, 2.0]), sample_weight=torch.tensor([1.0, 0.0]))
        >>> float(m.result())
        1.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="count"
        )
        # Samples counted on the host since the last read (a list: updating it is not an
        # nn.Module attribute assignment, which costs microseconds per step).
        self._host_count = [0.0]

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        if not isinstance(values, Tensor) or values.device != self.total.device:
            values = torch.as_tensor(values, device=self.total.device)
        if sample_weight is None and values.ndim >= 1:
            # Fast path: sum of per-sample means == sum / (elements per sample); the sample count is
            # known on the host, so it is kept there until the next read (one device op per update).
            n = values.shape[0]
            if n:
                self.total.add_(values.sum(dtype=self.total.dtype), alpha=n / values.numel())
            if torch.compiler.is_compiling():  # a host counter read in a graph is a guard:
                self.count.add_(n)  # torch.compile would recompile on every step
            else:
                self._host_count[0] += n
            return
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, self.total.dtype)
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        else:
            self.count.add_(values.shape[0] if values.ndim >= 1 else 1)

    def result(self) -> Tensor:
        self._fold_host_count()
        return divide_no_nan(self.total, self.count)

    def _fold_host_count(self) -> None:
        if self._host_count[0]:
            self.count.add_(self._host_count[0])
            self._host_count[0] = 0.0

    @property
    def variables(self) -> list[Tensor]:
        self._fold_host_count()
        return super().variables

    def reset_state(self) -> None:
        super().reset_state()
        self._host_count[0] = 0.0


class Sum(Metric):
    """(Weighted) sum of the values it is given.

    Example:
        >>> s = Sum(); s.update_state(torch.tensor([[1.0, 2.0], [3.0, 4.0]])); float(s.result())
        10.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values = torch.as_tensor(values, device=self.total.device)
        values, _ = reduce_to_samplewise_values(
            values, sample_weight, self.total.dtype, reduce_fn=torch.sum
        )
        self.total.add_(values.sum())

    def result(self) -> Tensor:
        return self.total.clone()


class MeanMetricWrapper(Mean):
    """Mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    Example:
        >>> m = MeanMetricWrapper(lambda t, p: (t - p).abs(), name="mae")
        >>> m.update_state(torch.zeros(2), torch.tensor([1.0, 3.0])); float(m.result())
        2.0

    Without ``name``, the metric is auto-named ``mean_metric_wrapper`` (as in Keras; ``compile``
    names a wrapped function after the function).
    """

    def __init__(
        self, fn: Callable[..., Tensor], name: str | None = None, dtype: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(name=name or auto_name(type(self).__name__), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if getattr(fn, "__module__", "").startswith("kseq.losses"):
            # A loss wrapped as a metric is minimized (Keras's rule for mode="auto" callbacks).
            self._direction = "down"

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if not isinstance(y_pred, Tensor) or y_pred.device != self.total.device:
            y_pred = torch.as_tensor(y_pred, device=self.total.device)
        if not isinstance(y_true, Tensor) or y_true.device != y_pred.device:
            y_true = torch.as_tensor(y_true, device=y_pred.device)
        if y_true.ndim != y_pred.ndim:
            # Keras's rank rule ((N,) targets against (N, 1) predictions), which Keras itself only
            # applies in losses: `metrics=["binary_crossentropy"]` would fail there on (N,) labels.
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = getattr(values, "_keras_mask", None)
        if mask is not None:
            sample_weight = (
                mask.to(self.total.dtype) if sample_weight is None else sample_weight * mask
            )
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        """Keras's config: name, dtype, the function's registered name and its keyword arguments.

        Example:
            >>> from kseq.losses import mean_squared_error
            >>> MeanMetricWrapper(mean_squared_error, name="m").get_config()["fn"]
            'mean_squared_error'
        """
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            config["fn"] = get_registered_name(self._fn)
        return {**config, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Instantiate from :meth:`get_config`'s output (a named ``fn`` is looked up).

        Example:
            >>> from kseq.losses import mean_squared_error
            >>> m = MeanMetricWrapper(mean_squared_error, name="m")
            >>> MeanMetricWrapper.from_config(m.get_config())._fn is mean_squared_error
            True
        """
        config = dict(config)
        if isinstance(
            config.get("fn"), dict
        ):  # Keras 3 files store {"class_name": "function", ...}
            config["fn"] = deserialize_keras_object(config["fn"])
        if isinstance(config.get("fn"), str):
            config["fn"] = NAMESPACES["metrics"].get_function(config["fn"])
        return cls(**config)
