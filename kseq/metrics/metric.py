"""``Metric`` (an ``nn.Module`` whose state lives in device buffers) and the reduction metrics
``Mean``, ``Sum`` and ``MeanMetricWrapper``.

State never leaves the device during ``update_state``: ``result()`` returns a 0-d tensor, and the
training loop converts it to a Python float only when it prints or logs (a few times a second at
most and at epoch end).

Example:
    >>> import torch
    >>> m = Mean()
    >>> m.update_state(torch.tensor([1.0, 3.0])); float(m.result())
    2.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from kseq import initializers, mixed_precision
from kseq.losses.loss import squeeze_or_expand_to_same_rank
from kseq.utils.naming import auto_name


class Metric(nn.Module):
    """Base class of stateful metrics: ``update_state``, ``result``, ``reset_state``.

    Create state with ``add_variable`` (a registered buffer, so ``metric.to(device)`` moves it);
    update it with in-place tensor ops. Calling the metric (``m(y_true, y_pred)``) updates and
    returns the result, as in Keras.

    Example:
        >>> class Count(Metric):
        ...     def __init__(self, **kw):
        ...         super().__init__(**kw)
        ...         self.n = self.add_variable(shape=(), initializer="zeros", name="n")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.n.add_(y_pred.shape[0])
        ...     def result(self):
        ...         return self.n.clone()
        >>> c = Count(); c.update_state(None, torch.zeros(3)); int(c.result())
        3
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        self.name = name or auto_name(type(self).__name__)
        self.dtype_policy = mixed_precision.get(dtype)
        self._torch_dtype = self.dtype_policy.torch_variable_dtype
        self._initial_values: dict[str, Tensor] = {}

    @property
    def dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    def add_variable(
        self,
        shape: Sequence[int] = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "sum",
        name: str | None = None,
    ) -> Tensor:
        """Create a state buffer (reset to its initial value by ``reset_state``)."""
        torch_dtype = getattr(torch, str(dtype)) if dtype is not None else self._torch_dtype
        init = initializers.get(initializer)
        value = (
            init(tuple(shape), dtype=torch_dtype)
            if callable(init)
            else torch.as_tensor(init, dtype=torch_dtype)
        )
        name = name or f"variable_{len(self._initial_values)}"
        self._initial_values[name] = value.clone()
        self.register_buffer(name, value)
        return getattr(self, name)

    add_weight = add_variable

    @property
    def variables(self) -> list[Tensor]:
        return [getattr(self, name) for name in self._initial_values]

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"Metric {type(self).__name__} must implement update_state().")

    def result(self) -> Tensor:
        raise NotImplementedError(f"Metric {type(self).__name__} must implement result().")

    def reset_state(self) -> None:
        """Reset every state variable to its initial value (on its current device)."""
        with torch.no_grad():
            for name, value in self._initial_values.items():
                getattr(self, name).copy_(value)

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def reduce_to_samplewise_values(
    values: Tensor, sample_weight: Tensor | None, dtype: torch.dtype
) -> tuple[Tensor, Tensor | None]:
    """Keras's reduction of element-wise metric values (and weights) to one value per sample."""
    values = values.to(dtype)
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, dtype=dtype, device=values.device)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = values.mean(dim=tuple(range(sample_weight.ndim, values.ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = sample_weight.mean(dim=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = values.mean(dim=tuple(range(1, values.ndim)))
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
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values = torch.as_tensor(values, device=self.total.device)
        if sample_weight is None and values.ndim >= 1:
            # Fast path: sum of per-sample means == sum / (elements per sample).
            n = values.shape[0]
            if n:
                self.total.add_(values.sum().to(self.total.dtype), alpha=n / values.numel())
            self.count.add_(n)
            return
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, self.total.dtype)
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        else:
            self.count.add_(values.shape[0] if values.ndim >= 1 else 1)

    def result(self) -> Tensor:
        return torch.where(self.count == 0, torch.zeros_like(self.total), self.total / self.count)


class Sum(Metric):
    """(Weighted) sum of the values it is given.

    Example:
        >>> s = Sum(); s.update_state(torch.tensor([1.0, 2.0])); float(s.result())
        3.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values = torch.as_tensor(values, device=self.total.device)
        values, _ = reduce_to_samplewise_values(values, sample_weight, self.total.dtype)
        self.total.add_(values.sum())

    def result(self) -> Tensor:
        return self.total.clone()


class MeanMetricWrapper(Mean):
    """Mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    Example:
        >>> m = MeanMetricWrapper(lambda t, p: (t - p).abs(), name="mae")
        >>> m.update_state(torch.zeros(2), torch.tensor([1.0, 3.0])); float(m.result())
        2.0
    """

    def __init__(
        self, fn: Callable[..., Tensor], name: str | None = None, dtype: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(
            name=name or auto_name(getattr(fn, "__name__", "mean_metric_wrapper")), dtype=dtype
        )
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = torch.as_tensor(y_pred)
        y_true = torch.as_tensor(y_true, device=y_pred.device)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = getattr(values, "_keras_mask", None)
        if mask is not None:
            sample_weight = (
                mask.to(self.total.dtype) if sample_weight is None else sample_weight * mask
            )
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            from kseq.saving.object_registration import get_registered_name

            config["fn"] = get_registered_name(self._fn)
        return {**config, **self._fn_kwargs}
