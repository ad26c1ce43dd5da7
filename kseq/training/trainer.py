"""``Trainer``: what ``compile()`` creates and ``fit``/``evaluate``/``predict`` run.

It validates the data (before anything changes), builds the model from the data if needed, places
model and data on the device, resolves losses/metrics from the shapes, builds the optimizer, and
runs the epoch loops with Keras's callbacks and logs. The per-batch work is in ``step.py``; inside
an epoch the only host syncs are the progress bar's (at most ~10 per second) and the epoch end.

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
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kseq import config, losses, mixed_precision, optimizers
from kseq import metrics as metrics_mod
from kseq.callbacks import CallbackList, History
from kseq.metrics import Metric
from kseq.training import compile_utils, custom_step, distributed
from kseq.training.data import (
    ArrayData,
    StreamData,
    class_weight_to_sample_weight,
    is_array_data,
    map_structure,
)
from kseq.training.precision import Precision
from kseq.training.step import LossTracker, Steps


class Trainer:
    """Compile state of a model plus the fit/evaluate/predict loops."""

    def __init__(
        self,
        model: Any,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: Any = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        self.model = model
        self.optimizer = optimizers.get(optimizer) if optimizer is not None else None
        self.loss = _single(loss, "loss")
        self.loss_weight = (
            float(_single(loss_weights, "loss_weights")) if loss_weights is not None else 1.0
        )
        self._metric_specs = _as_list(metrics, "metrics")
        self._weighted_specs = _as_list(weighted_metrics, "weighted_metrics")
        for spec in self._metric_specs + self._weighted_specs:
            _validate_metric_spec(spec)
        if isinstance(self.loss, str) and self.loss.lower() not in ("crossentropy", "ce"):
            losses.get(self.loss)  # unknown names fail at compile time, as in Keras
        self.run_eagerly = run_eagerly
        self.steps_per_execution = max(1, int(steps_per_execution))
        self.jit_compile = jit_compile is True
        self.auto_scale_loss = auto_scale_loss
        self.loss_tracker = LossTracker()
        self.loss_fn: losses.Loss | None = None
        self.compiled_metrics: list[Metric] = []
        self.compiled_weighted_metrics: list[Metric] = []
        self.steps: Steps | None = None
        self._device: torch.device | None = None
        self._ddp: torch.nn.Module | None = None  # DistributedDataParallel wrapper under torchrun
        # The dict the model's own `train_step`/`test_step` returned last (see custom_step.py).
        self._custom_logs: dict[str, Any] | None = None
        self._output_shape: tuple[int | None, ...] | None = None

    # ================================================================ setup
    @property
    def metrics(self) -> list[Metric]:
        """Keras's ``model.metrics``: the loss tracker, then the compiled metrics."""
        return [self.loss_tracker, *self.compiled_metrics, *self.compiled_weighted_metrics]

    def device(self) -> torch.device:
        """The device the model trains on: where the user put it, else the default device."""
        placed = self.model._user_device()
        if placed is not None:
            return placed
        return (
            distributed.local_device() if distributed.is_distributed() else config.default_device()
        )

    def _targets_are_indices(self) -> bool:
        if isinstance(self.loss, losses.Loss):
            return self.loss.sparse_targets
        if isinstance(self.loss, str):
            return "sparse" in self.loss.lower()
        return False

    def prepare(
        self, x_sample: Any, y_sample: Any, training: bool, batch_size: int | None = None
    ) -> None:
        """Build, place and resolve everything for data shaped like ``x_sample``/``y_sample``."""
        model = self.model
        x_shape = self._build_and_place(x_sample)
        if training and distributed.is_distributed() and self._ddp is None:
            assert self._device is not None
            self._ddp = distributed.wrap(model, self._device)
            self.steps = None  # rebuild the steps around the DDP wrapper
        custom = custom_step.overrides(model, "train" if training else "test")
        if self.steps is None or (
            y_sample is not None and self.loss_fn is None and self.loss is not None
        ):
            resolve = custom_step.resolve if custom else Trainer._resolve
            resolve(self, x_shape, None if y_sample is None else tuple(y_sample.shape), batch_size)
        if training and self.optimizer is not None and not self.optimizer.built and not custom:
            self._build_optimizer()  # an overridden train_step builds it with optimizer.apply()

    def _resolve(
        self, x_shape: Any, y_shape: tuple[int, ...] | None, batch_size: int | None = None
    ) -> None:
        out_shape = self.model.compute_output_shape(_with_none_batch(x_shape))
        if isinstance(out_shape, list):
            raise NotImplementedError("kseq's compile()/fit() supports single-output models.")
        out_shape = (y_shape[0] if y_shape else 1, *out_shape[1:])
        self._output_shape = out_shape
        if y_shape is not None and self.loss is not None:
            self.loss_fn = compile_utils.get_compile_loss(self.loss, y_shape, out_shape)
            n = y_shape[0]
            sizes = (
                (min(batch_size, n), n % batch_size or min(batch_size, n)) if batch_size else (n,)
            )
            compile_utils.check_target_shape(self.loss_fn, y_shape, out_shape, sizes)
        if y_shape is not None:
            self.compiled_metrics = [
                compile_utils.get_compile_metric(m, y_shape, out_shape) for m in self._metric_specs
            ]
            self.compiled_weighted_metrics = [
                compile_utils.get_compile_metric(m, y_shape, out_shape)
                for m in self._weighted_specs
            ]
            compile_utils.make_log_names_unique(
                self.compiled_metrics, self.compiled_weighted_metrics
            )
            for m in self.compiled_metrics:
                m._kseq_unweighted = True  # Keras never weights `metrics=` (only weighted_metrics)
            device = self._device or torch.device("cpu")
            for m in self.compiled_metrics + self.compiled_weighted_metrics:
                m.to(device)
        precision = Precision(mixed_precision.global_policy(), self._device or torch.device("cpu"))
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

    def _build_optimizer(self) -> None:
        assert self.optimizer is not None
        names = {id(p): n for n, p in self.model.named_parameters()}
        weights = self.model.trainable_weights
        if not weights:
            # Keras trains such a model anyway (the loss is still computed and logged), warning.
            warnings.warn("The model does not have any trainable weights.", stacklevel=4)
            return
        for p in weights:
            p._kseq_name = names.get(id(p), "")  # type: ignore[attr-defined]
        self.optimizer.build(weights)

    def reset_metrics(self) -> None:
        # `model.metrics` may be overridden (Keras's custom train_step guide): reset those too.
        seen: set[int] = set()
        for m in [*self.metrics, *self.model.metrics]:
            if id(m) not in seen:
                seen.add(id(m))
                m.reset_state()

    def _step(self, kind: str) -> custom_step.StepFn:
        """The per-batch step: the model's own ``train_step``/``test_step`` when it overrides it
        (Keras's "customizing fit" path, see ``custom_step.py``), else the fused step."""
        self._custom_logs = None
        custom = custom_step.step_fn(self, kind)
        if custom is not None:
            return custom
        assert self.steps is not None
        return self.steps.train_step if kind == "train" else self.steps.test_step

    def logs(self) -> dict[str, float]:
        """Current metric values as Python floats, sorted by name (Keras's ``pythonify_logs``)."""
        if self._custom_logs is not None:
            flat = custom_step.flatten_logs(self._custom_logs)
            return dict(sorted((k, _to_float(v)) for k, v in flat.items()))
        results: dict[str, float] = {}
        for m in self.metrics:
            value = m.result()
            if isinstance(value, dict):
                results.update({k: _to_float(v) for k, v in value.items()})
            else:
                results[m.name] = _to_float(
                    value
                )  # host sync: logs are read at <= 10 Hz and epoch end
        return dict(sorted(results.items()))

    # ============================================================== data
    def _adapter(
        self,
        x: Any,
        y: Any,
        sample_weight: Any,
        class_weight: Any,
        batch_size: int | None,
        what: str,
    ) -> ArrayData | StreamData:
        device = self.device()
        y_float = not self._targets_are_indices()
        if is_array_data(x):
            if y is not None and not is_array_data(y):
                raise ValueError(
                    f"When `x` is an array, `y` must be an array too. Received: y of type {type(y)}"
                )
            data = ArrayData.from_arrays(x, y, sample_weight, device, y_float=y_float)
            if class_weight is not None:
                data.sample_weight = _class_weights(data, class_weight, sample_weight)
            return data
        if y is not None:
            raise ValueError(
                f"`y` argument is not supported when using a dataset, generator or DataLoader as `x` in {what}(); "
                "yield (x, y) batches from it instead."
            )
        if sample_weight is not None:
            raise ValueError(
                f"`sample_weight` is not supported with a dataset `x` in {what}(); yield (x, y, sample_weight)."
            )
        if class_weight is not None:
            raise ValueError(
                "`class_weight` is only supported for array data in fit(); use sample weights in your dataset."
            )
        if batch_size is not None and what != "fit":
            pass  # Keras ignores batch_size for datasets
        return StreamData(x, device, y_float=y_float)

    # =============================================================== fit
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: Any = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int | Sequence[int] = 1,
    ) -> History:
        model = self.model
        if x is None:
            raise ValueError("fit() needs training data: pass `x` (and `y`).")
        if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
            raise ValueError(
                f"`validation_split` must be a float in [0, 1): the fraction of the data held out for "
                f"validation. Received: validation_split={validation_split!r}"
            )
        batch_size = _check_batch_size(batch_size, x)
        verbose = _check_verbose(verbose)
        train = self._adapter(x, y, sample_weight, class_weight, batch_size, "fit")
        val: Any = None
        if validation_split:
            if not isinstance(train, ArrayData):
                raise ValueError(
                    "`validation_split` is only supported for Tensors or NumPy arrays; pass `validation_data` instead."
                )
            train, val = train.split(validation_split)
        if validation_data is not None:
            val = self._validation_adapter(validation_data)
        sample_x, sample_y = self._peek(train)
        self.prepare(sample_x, sample_y, training=True, batch_size=batch_size)
        if val is not None:
            self._check_same_features(val)
        for data in (train, val):
            self._align_targets(data)
        steps = steps_per_epoch or (
            train.steps(batch_size, shard="train")
            if isinstance(train, ArrayData)
            else train.steps()
        )
        history = History()
        cbs = CallbackList(
            callbacks,
            add_history=False,
            add_progbar=verbose != 0,
            model=model,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
        )
        cbs.append(history)
        _move_history_before_progbar(cbs, history)
        model.stop_training = False
        batch_hooks = cbs.has_batch_hooks("train")
        train_step = self._step("train")
        epoch_iter = _EpochIterator(train, batch_size, shuffle, steps_per_epoch)
        spe = self.steps_per_execution
        model.train()
        model._initial_epoch = None
        cbs.on_train_begin()
        # A callback (BackupAndRestore) may resume an interrupted run at a later epoch.
        if model._initial_epoch is not None:
            initial_epoch = model._initial_epoch
        epoch_logs: dict[str, float] = {}
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                model.train()
                cbs.on_epoch_begin(epoch)
                for step, (xb, yb, swb) in enumerate(epoch_iter.epoch()):
                    # With steps_per_execution=N, Keras calls the batch hooks once per N steps.
                    if batch_hooks and step % spe == 0:
                        cbs.on_train_batch_begin(step)
                    train_step(xb, yb, swb)
                    if batch_hooks and ((step + 1) % spe == 0 or step + 1 == steps):
                        cbs.on_train_batch_end(step, logs_fn=self.logs)
                    if model.stop_training:
                        break
                distributed.all_reduce_metrics(self.metrics)
                epoch_logs = self.logs()
                if val is not None and _should_validate(epoch, validation_freq):
                    val_logs = self._evaluate_loop(
                        val, validation_batch_size or batch_size, validation_steps, cbs
                    )
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                    model.train()
                cbs.on_epoch_end(epoch, epoch_logs)
                if model.stop_training:
                    break
        finally:
            model.eval() if not model.training else None
        if self.optimizer is not None and self.optimizer.use_ema:
            self.optimizer.finalize_variable_values()
        cbs.on_train_end(epoch_logs)
        model.eval()
        return history

    def _align_targets(self, data: Any) -> None:
        """Give ``(N,)`` targets of a ``(N, 1)``-output model their trailing axis once (a view), so
        the loss and metrics do not reconcile ranks on every step (same values: Keras's rule)."""
        out = getattr(self, "_output_shape", None)
        if (
            not isinstance(data, ArrayData)
            or data.y is None
            or out is None
            or self._targets_are_indices()
        ):
            return
        if (
            data.y.ndim == len(out) - 1
            and out[-1] == 1
            and tuple(data.y.shape[1:]) == tuple(out[1:-1])
        ):
            data.y = data.y.unsqueeze(-1)

    def _validation_adapter(self, validation_data: Any) -> ArrayData | StreamData:
        if (
            isinstance(validation_data, (tuple, list))
            and 2 <= len(validation_data) <= 3
            and is_array_data(validation_data[0])
        ):
            vx, vy, vsw = (*validation_data, None)[:3]
            return self._adapter(vx, vy, vsw, None, None, "fit")
        if isinstance(validation_data, (tuple, list)) and len(validation_data) == 1:
            raise ValueError(
                "`validation_data` must be (x_val, y_val) or (x_val, y_val, sample_weight_val)."
            )
        return self._adapter(validation_data, None, None, None, None, "fit")

    def _peek(self, data: ArrayData | StreamData) -> tuple[Any, Any]:
        if isinstance(data, ArrayData):
            return data.x, data.y
        x, y, _ = data.peek()
        return x, y

    def _check_same_features(self, data: ArrayData | StreamData) -> None:
        if isinstance(data, ArrayData):
            self.model._check_input_shape(_batch_shapes(data.x))

    # =========================================================== evaluate
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        return_dict: bool = False,
    ) -> Any:
        if x is None:
            raise ValueError("evaluate() needs data: pass `x` (and `y`).")
        batch_size = _check_batch_size(batch_size, x)
        verbose = _check_verbose(verbose)
        data = self._adapter(x, y, sample_weight, None, batch_size, "evaluate")
        sample_x, sample_y = self._peek(data)
        self.prepare(sample_x, sample_y, training=False, batch_size=batch_size)
        n_steps = steps or (data.steps(batch_size) if isinstance(data, ArrayData) else data.steps())
        cbs = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self.model,
            verbose=verbose,
            epochs=1,
            steps=n_steps,
        )
        logs = self._evaluate_loop(data, batch_size, steps, cbs)
        return logs if return_dict else self._flatten_in_order(logs)

    def _evaluate_loop(
        self, data: ArrayData | StreamData, batch_size: int, steps: int | None, cbs: CallbackList
    ) -> dict[str, float]:
        model = self.model
        was_training = model.training
        model.eval()
        self.reset_metrics()
        model.stop_evaluating = False
        cbs.on_test_begin()
        batch_hooks = cbs.has_batch_hooks("test")
        test_step = self._step("test")
        with torch.inference_mode():
            for step, (xb, yb, swb) in enumerate(_batches(data, batch_size, steps, shard="eval")):
                if batch_hooks:
                    cbs.on_test_batch_begin(step)
                test_step(xb, yb, swb)
                if batch_hooks:
                    cbs.on_test_batch_end(step, logs_fn=self.logs)
                if model.stop_evaluating:
                    break
        distributed.all_reduce_metrics(self.metrics)
        logs = self.logs()
        self._custom_logs = None  # an overridden test_step's logs end with its loop
        cbs.on_test_end(logs)
        model.train(was_training)
        return logs

    def _flatten_in_order(self, logs: dict[str, float]) -> Any:
        names = [m.name for m in self.metrics]
        results = [logs[n] for n in names if n in logs] + [
            logs[k] for k in sorted(logs) if k not in names
        ]
        return results[0] if len(results) == 1 else results

    # ============================================================ predict
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
    ) -> Any:
        batch_size = _check_batch_size(batch_size, x)
        verbose = _check_verbose(verbose)
        data = self._adapter(x, None, None, None, batch_size, "predict")
        sample_x, _ = self._peek(data)
        self._build_and_place(sample_x)
        n_steps = steps or (data.steps(batch_size) if isinstance(data, ArrayData) else data.steps())
        cbs = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self.model,
            verbose=verbose,
            epochs=1,
            steps=n_steps,
        )
        outputs: list[Any] = []
        model = self.model
        was_training = model.training
        model.eval()
        model.stop_predicting = False
        cbs.on_predict_begin()
        batch_hooks = cbs.has_batch_hooks("predict")
        predict_step = model.predict_step if custom_step.overrides(model, "predict") else model
        with torch.inference_mode():
            for step, (xb, _, _) in enumerate(_batches(data, batch_size, steps)):
                if batch_hooks:
                    cbs.on_predict_batch_begin(step)
                out = predict_step(xb)
                outputs.append(out)
                if batch_hooks:
                    cbs.on_predict_batch_end(step, logs={"outputs": out})
                if model.stop_predicting:
                    break
        cbs.on_predict_end()
        model.train(was_training)
        if not outputs:
            raise ValueError(
                "Unexpected result of `predict_function` (Empty batch_outputs). The dataset is empty."
            )
        return _concat_to_numpy(outputs)

    def _build_and_place(self, x_sample: Any) -> Any:
        """Build the model for data like ``x_sample`` (checking its features) and move the model,
        the metrics and any optimizer state to the device; returns the data's batch shapes."""
        model = self.model
        x_shape = _batch_shapes(x_sample)
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

    # ======================================================= on-batch API
    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: Any = None,
        return_dict: bool = False,
    ) -> Any:
        data = self._adapter(x, y, sample_weight, class_weight, None, "train_on_batch")
        assert isinstance(data, ArrayData)
        self.prepare(data.x, data.y, training=True)
        self.reset_metrics()  # Keras reports this batch's values, not a running mean
        self.model.train()
        self._step("train")(data.x, data.y, data.sample_weight)
        logs = self.logs()
        return logs if return_dict else self._flatten_in_order(logs)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        data = self._adapter(x, y, sample_weight, None, None, "test_on_batch")
        assert isinstance(data, ArrayData)
        self.prepare(data.x, data.y, training=False)
        self.reset_metrics()
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            self._step("test")(data.x, data.y, data.sample_weight)
        self.model.train(was_training)
        logs = self.logs()
        return logs if return_dict else self._flatten_in_order(logs)


# ===================================================================== helpers
class _EpochIterator:
    """Batches per epoch; with ``steps_per_epoch`` the data stream continues across epochs (Keras)."""

    def __init__(
        self, data: ArrayData | StreamData, batch_size: int, shuffle: Any, steps: int | None
    ) -> None:
        self.data, self.batch_size, self.shuffle, self.steps = data, batch_size, shuffle, steps
        self._stream: Iterator[Any] | None = None

    def _array_stream(self) -> Iterator[Any]:
        assert isinstance(self.data, ArrayData)
        while True:
            yield from self.data.batches(self.batch_size, shuffle=self.shuffle, shard="train")

    def epoch(self) -> Iterator[Any]:
        if isinstance(self.data, StreamData):
            return self.data.batches(steps=self.steps)
        if self.steps is None:
            return self.data.batches(self.batch_size, shuffle=self.shuffle, shard="train")
        if self._stream is None:
            self._stream = self._array_stream()
        stream = self._stream
        return (next(stream) for _ in range(self.steps))


def _batches(
    data: ArrayData | StreamData, batch_size: int, steps: int | None, shard: str | None = None
) -> Iterator[Any]:
    if isinstance(data, StreamData):
        return data.batches(steps=steps)
    it = data.batches(batch_size, shuffle=False, shard=shard)
    return it if steps is None else (b for _, b in zip(range(steps), it, strict=False))


def _move_history_before_progbar(cbs: CallbackList, history: History) -> None:
    # Keras's order: user callbacks, History, then ProgbarLogger.
    cbs.callbacks.remove(history)
    progbar_at = next(
        (i for i, cb in enumerate(cbs.callbacks) if cb is cbs._progbar), len(cbs.callbacks)
    )
    cbs.callbacks.insert(progbar_at, history)
    cbs._history = history
    cbs._index_hooks()
    history.set_model(cbs.model)
    history.set_params(cbs.params)


def _should_validate(epoch: int, freq: int | Sequence[int]) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _check_batch_size(batch_size: Any, x: Any) -> int:
    if batch_size is None:
        return 32
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size <= 0
    ):
        raise ValueError(
            f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}"
        )
    return int(batch_size)


def _check_verbose(verbose: Any) -> int:
    if not distributed.is_main_process():
        return 0  # under DDP only rank 0 prints
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return int(verbose)


def _batch_shapes(x: Any) -> Any:
    shapes = map_structure(lambda t: tuple(int(d) for d in t.shape), x)
    return shapes


def _with_none_batch(shape: Any) -> Any:
    if isinstance(shape, tuple):
        return (None, *shape[1:])
    if isinstance(shape, list):
        return [_with_none_batch(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _with_none_batch(v) for k, v in shape.items()}
    return shape


def _class_weights(data: ArrayData, class_weight: dict[int, float], sample_weight: Any) -> Tensor:
    if sample_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    if data.y is None:
        raise ValueError("`class_weight` needs targets `y`.")
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"`class_weight` must be a dict mapping class indices to weights. Received: {class_weight!r}"
        )
    return class_weight_to_sample_weight(data.y, class_weight)


def _to_float(value: Any) -> float:
    if isinstance(value, Tensor):
        return (
            float(value.detach().float().cpu()) if value.ndim == 0 else value.detach().cpu().numpy()
        )
    return float(value)


def _concat_to_numpy(outputs: list[Any]) -> Any:
    first = outputs[0]
    if isinstance(first, Tensor):
        return (
            torch.cat(outputs).float().cpu().numpy()
            if first.dtype in (torch.float16, torch.bfloat16)
            else torch.cat(outputs).cpu().numpy()
        )
    if isinstance(first, (list, tuple)):
        return type(first)(_concat_to_numpy([o[i] for o in outputs]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _concat_to_numpy([o[k] for o in outputs]) for k in first}
    raise TypeError(f"Unsupported model output type for predict(): {type(first)}")


def _single(value: Any, name: str) -> Any:
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(
                f"`{name}` has {len(value)} entries but a Sequential model has one output: pass a single value."
            )
        return value[0]
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError(
                f"`{name}` as a dict is for multi-output models; pass a single value for one output."
            )
        return next(iter(value.values()))
    return value


def _as_list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError(
                f"`{name}` as a dict is for multi-output models; pass a list for one output."
            )
        value = next(iter(value.values()))
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _validate_metric_spec(spec: Any) -> None:
    if isinstance(spec, str) and spec.lower() not in ("accuracy", "acc", "crossentropy", "ce"):
        metrics_mod.get(spec)
    elif spec is None:
        raise ValueError("Expected metric, received `None`")
