"""``Trainer``: the compile state of one model and the hooks between ``Model`` and the loops.

``compile()`` creates a ``Trainer`` from :class:`~kseq.training.compile_args.CompileArgs`. Once
the data is known, :meth:`Trainer.prepare` builds the model from it if needed, places model,
metrics and optimizer state on the device, resolves losses/metrics from the shapes
(``compile_utils.py``), builds the step (``step.py``) and the optimizer. The loops
(``loops.py``) and ``Model``'s facade methods use only the public methods documented here; the
data plumbing is ``adapters.py``'s.

The model-side hooks the trainer calls are ``Model``'s placement/build helpers
(``_user_device``, ``_place``, ``_build_from_data_shape``, ``_check_input_shape``).

Example:
    >>> import numpy as np, kseq
    >>> model = kseq.Sequential([kseq.Input(shape=(4,)), kseq.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> history = model.fit(np.zeros((8, 4)), np.zeros(8), epochs=2, verbose=0)
    >>> history.epoch
    [0, 1]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from kseq import config, mixed_precision
from kseq.callbacks.history import History
from kseq.losses.loss import Loss
from kseq.metrics.metric import Metric
from kseq.training import (
    adapters,
    compile_utils,
    custom_step,
    distributed,
    loops,
    objective,
    outputs,
    structures,
)
from kseq.training.adapters import Data
from kseq.training.compile_args import CompileArgs
from kseq.training.data import ArrayData
from kseq.training.options import FitOptions
from kseq.training.precision import for_policy
from kseq.training.step import LossTracker, Steps


class Trainer:
    """Compile state of a model plus the hooks its loops and its ``Model`` facade call.

    Args:
        model: The model it trains.
        args: The checked ``compile()`` arguments (``None``: not compiled, e.g. for ``predict``).

    Example (what ``train_on_batch`` does, hook by hook):
        >>> import numpy as np, kseq
        >>> model = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
        >>> trainer = Trainer(model, CompileArgs(optimizer="sgd", loss="mse"))
        >>> data = trainer.adapt(np.ones((4, 2)), np.zeros(4))
        >>> trainer.prepare(data.x, data.y, training=True)
        >>> trainer.step_fn("train")(data.x, data.y, None)
        >>> sorted(trainer.logs()), type(trainer.ordered_results(trainer.logs())).__name__
        (['loss'], 'float')
    """

    def __init__(self, model: Any, args: CompileArgs | None = None) -> None:
        args = args if args is not None else CompileArgs(optimizer=None)
        self.model = model
        self.compile_args = args
        self.optimizer = args.optimizer
        self.loss = args.loss
        self.loss_weight = args.loss_weight
        self.steps_per_execution = args.steps_per_execution
        self.jit_compile = args.jit_compile
        self.loss_tracker = LossTracker()
        self.loss_fn: Loss | None = None
        self.compiled_metrics: list[Metric] = []
        self.compiled_weighted_metrics: list[Metric] = []
        self.steps: Steps | None = None
        # Keras's `compile_metrics` (model.metrics[1]) and, for several outputs, their plan.
        has_metrics = args.multi.get("metrics") is not None or args.multi.get("weighted_metrics")
        self.compile_metrics = outputs.CompileMetrics() if has_metrics else None
        self.plan: outputs.OutputPlan | None = None
        self.output_shape: tuple[int | None, ...] | None = None
        self._device: torch.device | None = None
        self._ddp: torch.nn.Module | None = None  # DistributedDataParallel wrapper under torchrun
        # The dict the model's own `train_step`/`test_step` returned last (see custom_step.py).
        self._step_logs: dict[str, Any] | None = None

    # ================================================================ state
    @property
    def metrics(self) -> list[Metric]:
        """Keras's ``model.metrics``: the loss tracker, ``compile_metrics`` (holding the compiled
        metrics in its ``.metrics``), then each output's loss tracker (several outputs)."""
        found: list[Metric] = [self.loss_tracker]
        if self.compile_metrics is not None:
            found.append(self.compile_metrics)
        if self.plan is not None:
            found.extend(self.plan.loss_trackers)
        return found

    def device(self) -> torch.device:
        """The device the model trains on: where the user put it, else the default device."""
        placed = self.model._user_device()
        if placed is not None:
            return placed
        return (
            distributed.local_device() if distributed.is_distributed() else config.default_device()
        )

    # ============================================================ preparing
    def prepare(
        self,
        x_sample: Any,
        y_sample: Any,
        training: bool,
        batch_size: int | None = None,
        check: Callable[[], None] | None = None,
    ) -> None:
        """Build, place and resolve everything for data shaped like ``x_sample``/``y_sample``;
        ``check`` runs once the loss is resolved, before the optimizer creates its state."""
        model = self.model
        x_shape = self.build_and_place(x_sample)
        if training and distributed.is_distributed() and self._ddp is None:
            assert self._device is not None
            self._ddp = distributed.wrap(model, self._device)
            self.steps = None  # rebuild the steps around the DDP wrapper
        custom = custom_step.overrides(model, "train" if training else "test")
        if self.steps is None or (
            y_sample is not None and self.loss_fn is None and self.loss is not None
        ):
            y_shape = None if y_sample is None else adapters.batch_shapes(y_sample)
            if custom:
                custom_step.resolve(self, x_shape, y_shape, batch_size)
            else:
                self.resolve(x_shape, y_shape, batch_size, x_sample=x_sample)
        if check is not None:
            check()
        if training and self.optimizer is not None and not self.optimizer.built and not custom:
            self.build_optimizer()  # an overridden train_step builds it with optimizer.apply()

    def resolve(
        self,
        x_shape: Any,
        y_shape: Any,
        batch_size: int | None = None,
        x_sample: Any = None,
    ) -> None:
        """Resolve the compiled loss and metrics for these data shapes and build the step."""
        if x_sample is None or isinstance(x_shape, tuple):
            out_shape = self.model.compute_output_shape(adapters.with_none_batch(x_shape))
            if structures.is_multi(out_shape) and x_sample is not None:
                out_shape = structures.output_shapes(self.model, x_sample)
        else:
            out_shape = structures.output_shapes(self.model, x_sample)
        if structures.is_multi(out_shape) or isinstance(y_shape, (list, dict)):
            return self._resolve_outputs(out_shape, y_shape)
        out_shape = (y_shape[0] if y_shape else 1, *out_shape[1:])
        self.output_shape = out_shape
        if y_shape is not None and self.loss is not None:
            self.loss_fn = compile_utils.get_compile_loss(self.loss, y_shape, out_shape)
            n = y_shape[0]
            sizes = (
                (min(batch_size, n), n % batch_size or min(batch_size, n)) if batch_size else (n,)
            )
            compile_utils.check_target_shape(self.loss_fn, y_shape, out_shape, sizes)
        if y_shape is not None:
            self._resolve_metrics(y_shape, out_shape)
        self._build_steps()

    def _resolve_outputs(self, out_shape: Any, y_shape: Any) -> None:
        """Several outputs: resolve each one's loss and metrics (``outputs.py``)."""
        if not structures.is_multi(out_shape):
            out_shape = [out_shape]
        out = outputs.output_names(self.model, out_shape)
        rows = None if y_shape is None else outputs.flat(y_shape, out, "y")
        batch = rows[0][0] if rows else 1
        fill = {k: (batch, *s[1:]) for k, s in out_shape.items()} if isinstance(out_shape, dict) \
            else [(batch, *s[1:]) for s in out_shape]  # fmt: skip
        multi = self.compile_args.multi
        self.plan = outputs.OutputPlan.resolve(
            self.model, multi.get("loss"), multi.get("loss_weights"), multi.get("metrics"),
            multi.get("weighted_metrics"), y_shape, fill,
        )  # fmt: skip
        self.output_shape = None
        device = self._device or torch.device("cpu")
        for m in [*self.plan.all_metrics, *self.plan.loss_trackers]:
            m.to(device)
        if self.compile_metrics is not None:
            self.compile_metrics = self.plan.compile_metrics
        has_loss = any(fn is not None for fn in self.plan.losses)
        self.loss_fn = outputs.PlanLoss(self.plan) if has_loss else None  # type: ignore[assignment]
        self.loss_weight = 1.0
        updater = [outputs.PlanMetrics(self.plan)] if self.plan.all_metrics else []
        self.compiled_metrics, self.compiled_weighted_metrics = updater, []  # type: ignore[assignment]
        self._build_steps()

    def _build_steps(self) -> None:
        precision = for_policy(mixed_precision.global_policy(), self._device or torch.device("cpu"))
        self.steps = Steps(
            self.model,
            self.loss_fn,
            self.loss_weight,
            self.optimizer,
            self.compiled_metrics,
            self.compiled_weighted_metrics,
            self.loss_tracker,
            precision,
            self.jit_compile,
            net=self._ddp,
        )

    def _resolve_metrics(self, y_shape: tuple[int, ...], out_shape: tuple[Any, ...]) -> None:
        args = self.compile_args
        self.compiled_metrics = [
            compile_utils.get_compile_metric(m, y_shape, out_shape) for m in args.metric_specs
        ]
        self.compiled_weighted_metrics = [
            compile_utils.get_compile_metric(m, y_shape, out_shape) for m in args.weighted_specs
        ]
        compile_utils.make_log_names_unique(self.compiled_metrics, self.compiled_weighted_metrics)
        for m in self.compiled_metrics:
            m._kseq_unweighted = True  # Keras never weights `metrics=` (only weighted_metrics)
        device = self._device or torch.device("cpu")
        for m in self.compiled_metrics + self.compiled_weighted_metrics:
            m.to(device)
        if self.compile_metrics is not None:
            entries = self.compiled_metrics + self.compiled_weighted_metrics
            self.compile_metrics.set_entries([(m.name, m) for m in entries], self.compute_metrics)

    def build_optimizer(self) -> None:
        """Create the optimizer's state for the model's trainable weights (warns when none)."""
        assert self.optimizer is not None
        names = {id(p): n for n, p in self.model.named_parameters()}
        weights = self.model._torch_trainable_weights()  # fit trains the torch face
        if not weights:
            # Keras trains such a model anyway (the loss is still computed and logged), warning.
            warnings.warn("The model does not have any trainable weights.", stacklevel=4)
            return
        for p in weights:
            p._kseq_name = names.get(id(p), "")  # type: ignore[attr-defined]
        self.optimizer.build(weights)

    def build_and_place(self, x_sample: Any) -> Any:
        """Build the model for data like ``x_sample`` (checking its features) and move the model,
        the metrics and any optimizer state to the device; returns the data's batch shapes."""
        model = self.model
        x_shape = adapters.batch_shapes(x_sample)
        if not model.built:
            model._build_from_data_shape(x_shape)
        model._check_input_shape(x_shape)
        device = self.device()
        if self._device != device:
            model._place(device)
            self._device = device
            for m in self.metrics:
                m.to(device)
            if self.optimizer is not None and self.optimizer.built:
                self.optimizer.move_state(device)  # the model moved after training started
        return x_shape

    def ready_steps(self, x: Any, y: Any, training: bool) -> Steps:
        """The fused step, resolved for this batch and with its optimizer built (a custom
        ``train_step`` calling ``super().train_step`` reaches the fused step this way)."""
        if self.steps is None or (y is not None and self.loss_fn is None):
            y_shape = None if y is None else adapters.batch_shapes(y)
            self.resolve(adapters.batch_shapes(x), y_shape, x_sample=x)
        if training and self.optimizer is not None and not self.optimizer.built:
            self.build_optimizer()
        assert self.steps is not None
        return self.steps

    # ================================================================= data
    def adapt(
        self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: Any = None,
        what: str = "fit", batch_size: int | None = None, shuffle: Any = False,
    ) -> Data:  # fmt: skip
        """The loops' data for these arguments, on the training device (``adapters.adapt``)."""
        sparse = self.compile_args.targets_are_indices()
        device = self.device()
        return adapters.adapt(
            x, y, sample_weight, class_weight, device, not sparse, what, batch_size, shuffle
        )

    def adapt_validation(self, validation_data: Any, batch_size: int | None = None) -> Data:
        """``fit``'s ``validation_data`` as loop data."""
        sparse = self.compile_args.targets_are_indices()
        return adapters.adapt_validation(validation_data, self.device(), not sparse, batch_size)

    def align_targets(self, data: Data | None) -> None:
        """Give ``(N,)`` targets of an ``(N, 1)``-output model their trailing axis once."""
        if self.plan is not None:
            return  # several outputs: each loss reconciles its target's rank
        sparse = self.compile_args.targets_are_indices()
        adapters.align_targets(data, self.output_shape, sparse)

    def check_features(self, data: Data) -> None:
        """Raise the model's clear error when in-memory ``data`` does not fit the built model."""
        if isinstance(data, ArrayData):
            self.model._check_input_shape(adapters.batch_shapes(data.x))

    # ================================================================ steps
    def step_fn(self, kind: str) -> Callable[..., Any]:
        """The per-batch step of ``kind`` (``"train"``, ``"test"``, ``"predict"``): the model's
        own ``train_step``/``test_step``/``predict_step`` when it overrides it (Keras's
        "customizing fit" path, see ``custom_step.py``), else the fused step."""
        if kind == "predict":
            model = self.model
            return model.predict_step if custom_step.overrides(model, "predict") else model
        self._step_logs = None
        custom = custom_step.step_fn(self, kind)
        if custom is not None:
            return custom
        assert self.steps is not None
        return self.steps.train_step if kind == "train" else self.steps.test_step

    def set_step_logs(self, logs: dict[str, Any]) -> None:
        """Record the logs an overridden ``train_step``/``test_step`` returned."""
        self._step_logs = logs

    def end_step_logs(self) -> None:
        """Forget an overridden step's logs (they end with their loop)."""
        self._step_logs = None

    def compute_loss(self, y: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """Keras's ``Model.compute_loss``: the compiled loss (times its weight) plus
        ``model.losses``, through the same functions as the fused step (``objective.py``).

        Example:
            >>> import torch, kseq
            >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
            >>> m.compile(loss="mse")
            >>> round(float(m._trainer.compute_loss(torch.zeros(3, 1), torch.ones(3, 1))), 4)
            1.0
        """
        if self.loss_fn is None and self.loss is not None and y is not None:
            y_shape = tuple(torch.as_tensor(y).shape)
            self.loss_fn = compile_utils.get_compile_loss(self.loss, y_shape, tuple(y_pred.shape))
        loss = None
        if self.loss_fn is not None and y is not None:
            loss = objective.compiled_loss(self.loss_fn, self.loss_weight, y, y_pred, sample_weight)
        total = objective.with_penalties(loss, self.model.losses)
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def compute_metrics(self, y: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Update the compiled metrics with ``(y, y_pred)`` (the step's own update, shared)."""
        objective.update_metrics(
            self.compiled_metrics, self.compiled_weighted_metrics, y, y_pred, sample_weight
        )

    # ============================================================== metrics
    def reset_metrics(self) -> None:
        """Reset the compiled metrics and any the model's ``metrics`` property adds."""
        # `model.metrics` may be overridden (Keras's custom train_step guide): reset those too.
        seen: set[int] = set()
        for m in [*self.metrics, *self.model.metrics]:
            if id(m) not in seen:
                seen.add(id(m))
                m.reset_state()

    def logs(self) -> dict[str, float]:
        """Current metric values as Python floats, sorted by name (Keras's ``pythonify_logs``)."""
        if self._step_logs is not None:
            flat = custom_step.flatten_logs(self._step_logs)
            return dict(sorted((k, _to_float(v)) for k, v in flat.items()))
        results: dict[str, float] = {}
        for m in self.metrics:
            value = m.result()
            if isinstance(value, dict):
                results.update({k: _to_float(v) for k, v in value.items()})
            else:
                # host sync: logs are read at <= 10 Hz and epoch end
                results[m.name] = _to_float(value)
        return dict(sorted(results.items()))

    def ordered_results(self, logs: dict[str, float]) -> Any:
        """``evaluate``'s list: values in ``metrics`` order, then the others by name (a scalar
        when there is one)."""
        names = [
            sub.name
            for m in self.metrics
            for sub in (m.metrics if m is self.compile_metrics else [m])
        ]  # Keras's _flatten_metrics_in_order
        results = [logs[n] for n in names if n in logs] + [
            logs[k] for k in sorted(logs) if k not in names
        ]
        return results[0] if len(results) == 1 else results

    # ================================================================ loops
    def fit(self, options: FitOptions) -> History:
        """``Model.fit`` with checked options (``loops.fit``)."""
        return loops.fit(self, options)

    def evaluate(self, x: Any, **kwargs: Any) -> Any:
        """``Model.evaluate`` (``loops.evaluate``)."""
        return loops.evaluate(self, x, **kwargs)

    def predict(self, x: Any, **kwargs: Any) -> Any:
        """``Model.predict`` (``loops.predict``)."""
        return loops.predict(self, x, **kwargs)

    def train_on_batch(self, x: Any, **kwargs: Any) -> Any:
        """``Model.train_on_batch`` (``loops.train_on_batch``)."""
        return loops.train_on_batch(self, x, **kwargs)

    def test_on_batch(self, x: Any, **kwargs: Any) -> Any:
        """``Model.test_on_batch`` (``loops.test_on_batch``)."""
        return loops.test_on_batch(self, x, **kwargs)


def _to_float(value: Any) -> Any:
    if isinstance(value, Tensor):
        return (
            float(value.detach().float().cpu()) if value.ndim == 0 else value.detach().cpu().numpy()
        )
    return float(value)
