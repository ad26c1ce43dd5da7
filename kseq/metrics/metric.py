"""``Metric``: the base of every metric, an ``nn.Module`` whose state lives in device buffers, and
the small helpers metrics share (``standardize_dtype``, ``divide_no_nan``, ``check_2d_inputs``,
``DeviceConstant``). The reduction metrics ``Mean``, ``Sum`` and ``MeanMetricWrapper`` live in
:mod:`kseq.metrics.reduction_metrics`.

State never leaves the device during ``update_state``: ``result()`` returns a tensor, and the
training loop converts it to a Python float only when it prints or logs (a few times a second at
most and at epoch end). ``reset_state()`` refills the buffers in place, on whatever device they are.

Example:
    >>> import torch
    >>> from kseq.metrics import Mean
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
            >>> from kseq.metrics import Mean
            >>> Mean(name="m").get_config()
            {'name': 'm', 'dtype': 'float32'}
        """
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Instantiate from :meth:`get_config`'s output.

        Example:
            >>> from kseq.metrics import Mean
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
