"""``Metric`` (an ``nn.Module`` whose state lives in device buffers) and the reduction metrics
``Mean``, ``Sum`` and ``MeanMetricWrapper``.

State never leaves the device during ``update_state``: ``result()`` returns a tensor, and the
training loop converts it to a Python float only when it prints or logs (a few times a second at
most and at epoch end). ``reset_state()`` refills the buffers in place, on whatever device they are.

Example:
    >>> import torch
    >>> m = Mean()
    >>> m.update_state(torch.tensor([1.0, 3.0])); float(m.result())
    2.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from kseq import config, initializers
from kseq.core.naming import auto_name
from kseq.losses.loss import squeeze_or_expand_to_same_rank
from kseq.mixed_precision import DTypePolicy
from kseq.variables import Variable

_DTYPE_ALIASES = {"int": "int32", "float": "float32", "uint": "uint32"}


def standardize_dtype(dtype: Any) -> str:
    """Keras's metric dtype: ``None`` is ``floatx()``, a policy gives its compute dtype.

    Example:
        >>> standardize_dtype(None), standardize_dtype("int"), standardize_dtype("mixed_float16")
        ('float32', 'int32', 'float16')
    """
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, DTypePolicy):
        return dtype.compute_dtype
    if isinstance(dtype, torch.dtype):
        return str(dtype).removeprefix("torch.")
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        return DTypePolicy(**dtype.get("config", dtype)).compute_dtype
    name = _DTYPE_ALIASES.get(str(dtype), str(dtype)).removeprefix("mixed_")
    if not isinstance(getattr(torch, name, None), torch.dtype):
        raise ValueError(
            f"Invalid metric dtype: {dtype!r}. Expected a dtype name such as 'float32', 'float64', "
            "'int32' or a dtype policy name such as 'mixed_float16'."
        )
    return name


def divide_no_nan(numerator: Tensor, denominator: Tensor) -> Tensor:
    """``numerator / denominator``, with 0 where the denominator is 0 (Keras's ``divide_no_nan``).

    Example:
        >>> divide_no_nan(torch.tensor([1.0, 1.0]), torch.tensor([2.0, 0.0]))
        tensor([0.5000, 0.0000])
    """
    return torch.where(denominator == 0, torch.zeros_like(numerator), numerator / denominator)


def check_2d_inputs(
    metric: str, y_true_shape: tuple[int, ...], y_pred_shape: tuple[int, ...]
) -> None:
    """Raise Keras's error unless both inputs are ``(batch_size, output_dim)``.

    Example:
        >>> check_2d_inputs("R2Score", (4,), (4, 1))
        Traceback (most recent call last):
        ...
        ValueError: R2Score expects 2D inputs with shape (batch_size, output_dim). Received input shapes: y_pred.shape=(4, 1) and y_true.shape=(4,).
    """
    if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
        raise ValueError(
            f"{metric} expects 2D inputs with shape (batch_size, output_dim). Received input "
            f"shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
        )


class DeviceConstant:
    """A constant tensor a metric uses (thresholds, class ids, label weights) but that is not state.

    Metric *buffers* are exactly the metric's state (what ``reset_state`` clears and a distributed
    run sums across processes), so constants live here instead: one copy per device, made the
    first time the metric's state is on that device.

    Example:
        >>> c = DeviceConstant(torch.tensor([0.5])); c.on(torch.device("cpu"))
        tensor([0.5000])
    """

    def __init__(self, value: Tensor) -> None:
        self.value = value
        self._copies: dict[torch.device, Tensor] = {value.device: value}

    def on(self, device: torch.device) -> Tensor:
        """The constant on ``device`` (copied there once)."""
        copy = self._copies.get(device)
        if copy is None:
            copy = self._copies[device] = self.value.to(device)
        return copy


class Metric(nn.Module):
    """Base class of stateful metrics: ``update_state``, ``result``, ``reset_state``.

    Create state with ``add_variable`` (a registered buffer, so ``metric.to(device)`` moves it);
    update it with in-place tensor ops, never reading a value back to the host. Calling the metric
    (``m(y_true, y_pred)``) updates and returns the result, as in Keras.

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

    # Marks metric modules: a layer or model holding a metric does not count its state as weights.
    _kseq_metric = True

    # Set on the metrics of `compile(metrics=...)`: Keras's CompileMetrics never weights them,
    # even when a custom train_step passes `sample_weight` to every metric of `model.metrics`.
    _kseq_unweighted = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Metric state is never differentiated (Keras updates it with `assign`): each subclass's
        # `update_state` runs under `torch.no_grad()`, so updating with a loss that requires grad
        # (a custom train_step's `metric.update_state(loss)`) keeps the state out of the graph.
        super().__init_subclass__(**kwargs)
        update = cls.__dict__.get("update_state")
        if update is not None and not getattr(update, "_kseq_no_grad", False):
            cls.update_state = _state_update(update)  # type: ignore[method-assign]

    def __init__(self, dtype: Any = None, name: str | None = None) -> None:  # Keras order
        super().__init__()
        self.name = name or auto_name(type(self).__name__)
        self._dtype = standardize_dtype(dtype)
        self._torch_dtype: torch.dtype = getattr(torch, self._dtype)
        # name -> initial value: a Python number (refilled with ``fill_``) or a tensor.
        self._initial_values: dict[str, float | Tensor] = {}

    @property
    def dtype(self) -> str:
        """The metric's dtype name (``"float32"`` unless given)."""
        return self._dtype

    def add_variable(
        self,
        shape: Sequence[int] = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "sum",
        name: str | None = None,
        *,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Create a state buffer (reset to its initial value by ``reset_state``).

        As in Keras, ``dtype=None`` means ``floatx()``. ``device`` places a variable created lazily
        inside ``update_state`` next to the data. ``aggregation`` is accepted for Keras
        compatibility.

        Example:
            >>> m = Metric(name="m"); v = m.add_variable((2,), "ones", name="v"); v
            <Variable path=m/v, shape=(2,), dtype=float32, value=[1. 1.]>
        """
        torch_dtype = getattr(torch, standardize_dtype(dtype))
        init = (
            initializer if isinstance(initializer, (int, float)) else initializers.get(initializer)
        )
        constant = _constant_of(init)
        name = name or f"variable_{len(self._initial_values)}"
        # Variables built lazily may be created under ``torch.inference_mode`` (evaluate); they
        # must stay normal tensors so that training can update them in place afterwards.
        with torch.inference_mode(False):
            if constant is not None:
                value = torch.full(tuple(shape), constant, dtype=torch_dtype, device=device)
                self._initial_values[name] = constant
            else:
                value = init(tuple(shape), dtype=torch_dtype).to(device=device, dtype=torch_dtype)
                self._initial_values[name] = value.clone()
            # A kseq.Variable (Keras's assign/assign_add/value API), registered as a buffer.
            state = Variable._make(value, trainable=False, name=name, path=f"{self.name}/{name}")
        self.register_buffer(name, state)
        return state

    def add_weight(
        self,
        shape: Sequence[int] = (),
        initializer: Any = None,
        dtype: Any = None,
        name: str | None = None,
    ) -> Tensor:
        """Keras's alias of :meth:`add_variable`.

        Example:
            >>> Metric(name="m").add_weight((1,), "zeros", name="w")
            <Variable path=m/w, shape=(1,), dtype=float32, value=[0.]>
        """
        return self.add_variable(shape, initializer or "zeros", dtype=dtype, name=name)

    @property
    def variables(self) -> list[Tensor]:
        """The state buffers of this metric and of the metrics it contains."""
        own = [getattr(self, name) for name in self._initial_values]
        nested = [v for m in self.children() if isinstance(m, Metric) for v in m.variables]
        return own + nested

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"Metric {type(self).__name__} must implement update_state().")

    def result(self) -> Any:
        raise NotImplementedError(f"Metric {type(self).__name__} must implement result().")

    def reset_state(self) -> None:
        """Refill every state buffer with its initial value, in place (no device change)."""
        with torch.no_grad():
            for name, value in self._initial_values.items():
                buffer = getattr(self, name)
                if isinstance(value, Tensor):
                    buffer.copy_(value.to(buffer.device, non_blocking=True))
                else:
                    buffer.fill_(value)
            for child in self.children():
                if isinstance(child, Metric):
                    child.reset_state()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, with Keras's keys.

        Example:
            >>> Mean(name="m").get_config()
            {'name': 'm', 'dtype': 'float32'}
        """
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Instantiate from :meth:`get_config`'s output.

        Example:
            >>> Mean.from_config({"name": "m", "dtype": "float32"}).name
            'm'
        """
        return cls(**config)

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Metric:
        """``nn.Module._apply`` (behind ``.to()``, ``.cuda()``, ``.double()``), keeping handles valid.

        Moving a module replaces its buffer tensors. A metric usually keeps the tensor that
        ``add_variable`` returned under another attribute name too (``self.tp = self.add_variable(
        name="true_positives")``), so such attributes are re-pointed at the moved buffers.
        """
        before = {name: buf for name, buf in self._buffers.items() if buf is not None}
        super()._apply(fn, recurse)
        moved = {}
        for name, old in before.items():
            if self._buffers[name] is not old:
                if isinstance(old, Variable):  # torch returns plain tensors: keep the Variable API
                    self._buffers[name] = old._rewrap(self._buffers[name])
                moved[id(old)] = self._buffers[name]
        for attr, value in list(vars(self).items()):
            if isinstance(value, Tensor) and id(value) in moved:
                vars(self)[attr] = moved[id(value)]
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        # `self.tp = self.add_variable(...)` keeps the state a buffer (a Variable is an
        # nn.Parameter, which nn.Module would otherwise register as a trainable parameter).
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Variable) and buffers and any(b is value for b in buffers.values()):
            if buffers.get(name) is not value:
                object.__setattr__(self, name, value)
            return
        super().__setattr__(name, value)

    def _state_device(self) -> torch.device:
        buffer = next(self.buffers(), None)
        return buffer.device if buffer is not None else torch.device("cpu")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _state_update(update: Callable[..., None]) -> Callable[..., None]:
    """``update_state`` run under ``torch.no_grad()`` (and without ``sample_weight`` for an
    unweighted compiled metric, whose signature is ``(y_true, y_pred, sample_weight=None)``)."""

    @functools.wraps(update)
    def wrapper(self: Metric, *args: Any, **kwargs: Any) -> None:
        if self._kseq_unweighted:
            kwargs.pop("sample_weight", None)
            args = args[:2]
        if not torch.is_grad_enabled():  # the training step already disabled it: skip the context
            update(self, *args, **kwargs)
            return
        with torch.no_grad():
            update(self, *args, **kwargs)

    wrapper._kseq_no_grad = True  # type: ignore[attr-defined]
    return wrapper


def _constant_of(initializer: Any) -> float | None:
    """The fill value of a constant initializer (so ``reset_state`` can ``fill_``), else None."""
    if isinstance(initializer, (int, float)):
        return float(initializer)
    if isinstance(initializer, initializers.Zeros):
        return 0.0
    if isinstance(initializer, initializers.Ones):
        return 1.0
    if isinstance(initializer, initializers.Constant) and isinstance(
        initializer.value, (int, float)
    ):
        return float(initializer.value)
    return None


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
            from kseq.registry.object_registration import get_registered_name

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
            from kseq.registry.object_config import deserialize_keras_object

            config["fn"] = deserialize_keras_object(config["fn"])
        if isinstance(config.get("fn"), str):
            from kseq.metrics import get_function

            config["fn"] = get_function(config["fn"])
        return cls(**config)
