"""Per-output losses and metrics of a model with several outputs (Keras's ``CompileLoss`` /
``CompileMetrics`` rules), resolved once, when the data's shapes are first known.

``compile(loss=..., loss_weights=..., metrics=..., weighted_metrics=...)`` take a single value
(the same for every output), a list (in output order) or a dict keyed by output name. Output
names are ``model.output_names`` when the model has them (functional models); a subclassed model
returning a dict uses its keys (sorted, as Keras does); one returning a list has no names, and
the logs use the loss's name (``mse_loss``) and the metric's name, as in Keras 3.

:class:`CompileMetrics` is the second entry of ``model.metrics`` (Keras's ``compile_metrics``);
its ``metrics`` are the compiled metric objects and its ``result()`` the logged values.

Example:
    >>> import torch
    >>> plan = OutputPlan.resolve(None, ["mse", "mae"], [1.0, 0.5], [["mae"], None], None,
    ...                           [(4, 1), (4, 2)], [(4, 1), (4, 2)])
    >>> [t.name for t in plan.loss_trackers], list(plan.compile_metrics.result())
    (['mse_loss', 'mae_loss'], ['mae'])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from kseq.metrics import Mean, Metric
from kseq.training import compile_utils


class CompileMetrics(Metric):
    """Keras's ``compile_metrics``: the compiled metrics (``.metrics``) and their logged values.

    Example:
        >>> from kseq.metrics import MeanAbsoluteError
        >>> cm = CompileMetrics(); cm.set_entries([("out_mae", MeanAbsoluteError(name="mae"))])
        >>> [m.name for m in cm.metrics], list(cm.result())
        (['mae'], ['out_mae'])
    """

    def __init__(self) -> None:
        super().__init__(name="compile_metrics")
        self._held = nn.ModuleList()
        self._entries: list[tuple[str, Metric]] = []
        self._update: Callable[..., None] | None = None

    def set_entries(
        self, entries: Sequence[tuple[str, Metric]], update: Callable[..., None] | None = None
    ) -> None:
        """Hold ``(log key, metric)`` pairs and the function that updates them from
        ``(y, y_pred, sample_weight)`` (called once the metrics are resolved)."""
        self._entries = list(entries)
        self._held = nn.ModuleList([m for _, m in entries])
        self._update = update

    @property
    def metrics(self) -> list[Metric]:  # type: ignore[override]
        """The compiled metric objects (empty until the first ``fit``/``evaluate`` builds them)."""
        return [m for _, m in self._entries]

    @property
    def variables(self) -> list[Tensor]:
        """The state of every compiled metric."""
        return [v for m in self.metrics for v in m.variables]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Update every compiled metric (``metrics`` unweighted, ``weighted_metrics`` with
        ``sample_weight``), as Keras's custom ``train_step`` guide does through ``model.metrics``."""
        if self._update is None:
            raise ValueError(
                "compile_metrics is not built yet: its metrics are created when `fit`/`evaluate` "
                "(or `train_on_batch`) first sees the data."
            )
        self._update(y_true, y_pred, sample_weight)

    def result(self) -> dict[str, Any]:
        """``{log key: value}`` for every compiled metric, in compile order."""
        return {name: m.result() for name, m in self._entries}

    def reset_state(self) -> None:
        """Reset every compiled metric."""
        for m in self.metrics:
            m.reset_state()


def _named(spec: Any, names: list[str | None], what: str, allow_single: bool) -> list[Any]:
    """``spec`` as one entry per output (list in output order, dict by name, or broadcast)."""
    n = len(names)
    if isinstance(spec, dict):
        known = [k for k in names if k is not None]
        wrong = [k for k in spec if k not in known]
        if wrong or not known:
            raise ValueError(
                f"Expected keys {known} in `{what}` dict (the model's output names), but found "
                f"{what}.keys()={list(spec)}. Use the output names as keys, or pass a list in output order."
            )
        return [spec.get(k) for k in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != n:
            raise ValueError(
                f"`{what}` must have one entry per model output: expected {n} entries, but received "
                f"{len(spec)}: {what}={spec!r}."
            )
        return list(spec)
    if not allow_single and spec is not None:
        raise ValueError(
            f"The model has {n} outputs: `{what}` must be a list of {n} entries or a dict keyed by "
            f"output name. Received: {what}={spec!r}."
        )
    return [spec] * n


def output_names(model: Any, out: Any) -> list[str | None]:
    """The outputs' names in output order: ``model.output_names`` when it has them, a dict
    output's keys (the model's order when they match, else sorted), else ``None`` each.

    Example:
        >>> output_names(None, {"b": (1,), "a": (1,)})
        ['a', 'b']
    """
    names = list(getattr(model, "output_names", None) or [])
    if isinstance(out, dict):
        return names if set(names) == set(out) else sorted(out)
    return names if len(names) == len(out) else [None] * len(out)


def flat(value: Any, names: list[str | None], what: str) -> list[Any]:
    """A per-output structure (list, tuple or dict by name) as a list in output order.

    Example:
        >>> flat({"a": 1, "b": 2}, ["b", "a"], "y")
        [2, 1]
    """
    if isinstance(value, dict):
        if set(value) != set(names):
            raise ValueError(
                f"Expected `{what}` keys {names} (the model's output names), but received "
                f"keys {list(value)}."
            )
        return [value[k] for k in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"The model has {len(names)} outputs, so `{what}` must be a list of {len(names)} "
                f"arrays (or a dict keyed by output name), but received a list of {len(value)}."
            )
        return list(value)
    raise ValueError(
        f"The model has {len(names)} outputs, so `{what}` must be a list of {len(names)} arrays "
        f"(or a dict keyed by output name). Received a single {type(value).__name__}."
    )


class OutputPlan:
    """Everything resolved for a multi-output model: names, losses, weights, trackers, metrics.

    Build it with :meth:`resolve` (example in the module docstring).
    """

    def __init__(self) -> None:
        self.names: list[str | None] = []
        self.losses: list[Any] = []
        self.weights: list[float | None] = []
        self.loss_trackers: list[Mean] = []
        self.metric_sets: list[list[Metric]] = []
        self.weighted_sets: list[list[Metric]] = []
        self.compile_metrics = CompileMetrics()

    @classmethod
    def resolve(
        cls,
        model: Any,
        loss: Any,
        loss_weights: Any,
        metrics: Any,
        weighted_metrics: Any,
        y_shape: Any,
        out_shape: Any,
    ) -> OutputPlan:
        """Resolve the ``compile()`` arguments for these target and output shape structures."""
        plan = cls()
        names = output_names(model, out_shape)
        plan.names = names
        outs = flat(out_shape, names, "outputs") if isinstance(out_shape, dict) else list(out_shape)
        ys = flat(y_shape, names, "y") if y_shape is not None else [None] * len(outs)
        specs = _named(loss, names, "loss", allow_single=True)
        weights = _named(loss_weights, names, "loss_weights", allow_single=loss_weights is None)
        for spec, yt, yp in zip(specs, ys, outs, strict=True):
            fn = (
                None if spec is None or yt is None else compile_utils.get_compile_loss(spec, yt, yp)
            )
            if fn is not None:
                compile_utils.check_target_shape(fn, yt, yp)
            plan.losses.append(fn)
        plan.weights = [None if w is None else float(w) for w in weights]
        named = [(i, fn) for i, fn in enumerate(plan.losses) if fn is not None]
        if len(named) > 1:  # Keras: the output's name, else the loss as written, else its name
            plan.loss_trackers = [
                Mean(
                    name=f"{names[i] or (specs[i] if isinstance(specs[i], str) else fn.name)}_loss"
                )
                for i, fn in named
            ]
        plan._tracker_of = {i: t for (i, _), t in zip(named, plan.loss_trackers, strict=False)}
        plan.metric_sets = plan._metrics(metrics, ys, outs, "metrics")
        plan.weighted_sets = plan._metrics(weighted_metrics, ys, outs, "weighted_metrics")
        plan.compile_metrics.set_entries(plan._log_names(), plan.update_metrics)
        return plan

    def _metrics(self, spec: Any, ys: list[Any], outs: list[Any], what: str) -> list[list[Metric]]:
        if not spec:
            return [[] for _ in outs]
        entries = _named(spec, self.names, what, allow_single=False)
        sets = []
        for entry, yt, yp in zip(entries, ys, outs, strict=True):
            items = [] if entry is None else entry if isinstance(entry, (list, tuple)) else [entry]
            sets.append([compile_utils.get_compile_metric(m, yt, yp) for m in items])
        return sets

    def _log_names(self) -> list[tuple[str, Metric]]:
        """Keras's ``CompileMetrics.result()`` keys: ``<output>_<metric>``, de-duplicated."""
        seen: dict[str, int] = {}
        entries: list[tuple[str, Metric]] = []
        for weighted, sets in ((False, self.metric_sets), (True, self.weighted_sets)):
            for out_name, ms in zip(self.names, sets, strict=True):
                for m in ms:
                    name = f"{out_name}_{m.name}" if out_name else m.name
                    if name in seen and weighted:
                        name = f"{out_name}_weighted_{m.name}" if out_name else f"weighted_{m.name}"
                    if name in seen:
                        seen[name] += 1
                        name = f"{name}_{seen[name] - 1}"
                    else:
                        seen[name] = 1
                    entries.append((name, m))
        return entries

    # --------------------------------------------------------------- per step
    def per_output(self, value: Any, what: str) -> list[Any]:
        """``y``/``y_pred`` as a list in output order."""
        return flat(value, self.names, what)

    def weights_of(self, sample_weight: Any) -> list[Any]:
        """``sample_weight`` per output: one array is shared by every output, as in Keras."""
        if sample_weight is None or isinstance(sample_weight, Tensor):
            return [sample_weight] * len(self.names)
        return flat(sample_weight, self.names, "sample_weight")

    def loss(self, y: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The weighted sum of the outputs' losses; records each unweighted loss in its tracker."""
        ys, ps = self.per_output(y, "y"), self.per_output(y_pred, "y_pred")
        sws = self.weights_of(sample_weight)
        total: Tensor | None = None
        for i, fn in enumerate(self.losses):
            if fn is None:
                continue
            value = fn(ys[i], ps[i], sws[i])
            tracker = self._tracker_of.get(i)
            if tracker is not None:
                tracker.total.add_(value.detach(), alpha=int(ps[i].shape[0]))
                tracker._host_count[0] += int(ps[i].shape[0])  # no device sync: a host count
            weight = self.weights[i]
            value = value * weight if weight is not None else value
            total = value if total is None else total + value
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def update_metrics(self, y: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Update every output's compiled metrics (``metrics`` unweighted)."""
        ys, ps = self.per_output(y, "y"), self.per_output(y_pred, "y_pred")
        sws = self.weights_of(sample_weight)
        with torch.no_grad():
            for i, ms in enumerate(self.metric_sets):
                for m in ms:
                    m.update_state(ys[i], ps[i].detach())
            for i, ms in enumerate(self.weighted_sets):
                for m in ms:
                    m.update_state(ys[i], ps[i].detach(), sws[i])

    @property
    def all_metrics(self) -> list[Metric]:
        """The compiled metric objects, flat."""
        return [m for ms in self.metric_sets + self.weighted_sets for m in ms]


class PlanLoss:
    """The step's loss callable for a multi-output model (``fn(y, y_pred, sample_weight)``).

    Example:
        >>> plan = OutputPlan.resolve(None, "mse", None, None, None, [(2, 1)] * 2, [(2, 1)] * 2)
        >>> float(PlanLoss(plan)([torch.zeros(2, 1)] * 2, [torch.ones(2, 1)] * 2, None))
        2.0
    """

    sparse_targets = False

    def __init__(self, plan: OutputPlan) -> None:
        self.plan = plan
        self.name = "loss"

    def __call__(self, y: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        return self.plan.loss(y, y_pred, sample_weight)

    def _from_logits_variant(self, activation: Any) -> None:
        return None  # the fused logits path is per-output; not fused here


class PlanMetrics:
    """The step's metric updater for a multi-output model (duck-types a metric's
    ``update_state``); ``sample_weight`` goes to the ``weighted_metrics`` only.

    Example:
        >>> plan = OutputPlan.resolve(None, "mse", None, [["mae"], None], None, [(2, 1)] * 2, [(2, 1)] * 2)
        >>> PlanMetrics(plan).update_state([torch.zeros(2, 1)] * 2, [torch.ones(2, 1)] * 2)
        >>> float(plan.compile_metrics.result()["mae"])
        1.0
    """

    def __init__(self, plan: OutputPlan) -> None:
        self.plan = plan

    def update_state(self, y: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self.plan.update_metrics(y, y_pred, sample_weight)
