"""The ``fit`` / ``evaluate`` / ``predict`` loops: epochs, batches, callbacks and logs.

A loop talks to its :class:`~kseq.training.trainer.Trainer` only through the trainer's public
hooks: ``adapt``/``adapt_validation`` (arguments -> data), ``prepare`` (build, place, resolve),
``step_fn`` (the per-batch step), ``reset_metrics``, ``logs``/``end_step_logs`` and
``ordered_results``. Inside an epoch the loop calls the step and, only when a callback
overrides them, the batch hooks; the host syncs are the progress bar's (at most ~10 per second)
and the epoch end's.

Example:
    >>> import numpy as np, kseq
    >>> from kseq.training.options import FitOptions
    >>> model = kseq.Sequential([kseq.Input(shape=(4,)), kseq.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> fit(model._trainer, FitOptions(np.zeros((8, 4)), np.zeros(8), epochs=2, verbose=0)).epoch
    [0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from kseq.callbacks.callback_list import CallbackList
from kseq.callbacks.history import History
from kseq.layers.modes import default_modes, modes_of, restore_modes
from kseq.training import checks, distributed
from kseq.training.adapters import Data, EpochIterator, batches, concat_to_numpy, peek, steps_of
from kseq.training.data import ArrayData
from kseq.training.options import FitOptions, check_batch_size, check_verbose

if TYPE_CHECKING:
    from kseq.training.trainer import Trainer


# ===================================================================== fit
def fit(trainer: Trainer, options: FitOptions) -> History:
    """Run ``Model.fit`` with checked ``options``; returns the ``History`` (example above)."""
    train, val = _fit_data(trainer, options)
    assert options.batch_size is not None
    steps = options.steps_per_epoch or steps_of(train, options.batch_size, shard="train")
    history = History()
    cbs = CallbackList(
        options.callbacks,
        add_history=False,
        add_progbar=options.verbose != 0,
        model=trainer.model,
        verbose=options.verbose,
        epochs=options.epochs,
        steps=steps,
    )
    cbs.append(history)
    _move_history_before_progbar(cbs, history)
    try:
        epoch_logs = _run_epochs(trainer, options, train, val, steps, cbs)
        if trainer.optimizer is not None and trainer.optimizer.use_ema:
            trainer.optimizer.finalize_variable_values()
        cbs.on_train_end(epoch_logs)
    finally:  # every exit (Ctrl-C, a callback's exception) leaves the model in inference mode
        trainer.end_step_logs()
        default_modes(trainer.model)  # outside fit, `training=None` is each layer's own default
    return history


def _fit_data(trainer: Trainer, options: FitOptions) -> tuple[Data, Data | None]:
    """The training and validation data, with the model built, placed and resolved for them."""
    given = options.given_batch_size
    train = trainer.adapt(
        options.x, options.y, options.sample_weight, options.class_weight, "fit",
        batch_size=given, shuffle=options.shuffle,
    )  # fmt: skip
    checks.check_not_empty(train, "fit")
    val: Data | None = None
    if options.validation_split:
        if not isinstance(train, ArrayData):
            raise ValueError(
                "`validation_split` is only supported for Tensors or NumPy arrays. Received: x of "
                f"type {type(options.x).__name__}. Hold out the validation samples yourself and "
                "pass them as `validation_data=` (a Dataset, DataLoader or (x_val, y_val))."
            )
        train, val = train.split(options.validation_split)
    if options.validation_data is not None:
        val_batch_size = options.validation_batch_size or given
        val = trainer.adapt_validation(options.validation_data, val_batch_size)
        checks.check_not_empty(val, "fit", "validation_data")
    sample_x, sample_y = peek(train)

    def check() -> None:
        if val is not None:
            trainer.check_features(val)
        _check_labels(trainer, [train, val], "fit")

    trainer.prepare(sample_x, sample_y, True, options.batch_size, check)
    for data in (train, val):
        trainer.align_targets(data)
    return train, val


def _run_epochs(
    trainer: Trainer,
    options: FitOptions,
    train: Data,
    val: Data | None,
    steps: int | None,
    cbs: CallbackList,
) -> dict[str, float]:
    """The epochs from ``initial_epoch`` (or where a callback resumes) to ``epochs``."""
    model = trainer.model
    model.stop_training = False
    assert options.batch_size is not None
    epoch_iter = EpochIterator(train, options.batch_size, options.shuffle, options.steps_per_epoch)
    run_epoch = _epoch_runner(trainer, cbs, steps)
    model.train()
    model._initial_epoch = None
    cbs.on_train_begin()
    # A callback (BackupAndRestore) may resume an interrupted run at a later epoch.
    initial_epoch = options.initial_epoch
    if model._initial_epoch is not None:
        initial_epoch = model._initial_epoch
    epoch_logs: dict[str, float] = {}
    for epoch in range(initial_epoch, options.epochs):
        trainer.reset_metrics()
        model.train()
        cbs.on_epoch_begin(epoch)
        run_epoch(epoch_iter.epoch(epoch))
        distributed.all_reduce_metrics(trainer.metrics)
        epoch_logs = trainer.logs()
        if val is not None and options.validates(epoch):
            val_batch_size = options.validation_batch_size or options.batch_size
            val_logs = evaluate_loop(trainer, val, val_batch_size, options.validation_steps, cbs)
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            model.train()
        cbs.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    return epoch_logs


def _check_labels(trainer: Trainer, datas: list[Data | None], what: str) -> None:
    """Sparse class labels of in-memory data checked against the output, once (``checks.py``)."""
    targets = [d.y for d in datas if isinstance(d, ArrayData)]
    checks.check_class_labels(trainer.loss_fn, trainer.output_shape, targets, what)


def _epoch_runner(trainer: Trainer, cbs: CallbackList, steps: int | None) -> Any:
    """The batch loop of one training epoch, with the step and the hooks bound once."""
    model = trainer.model
    batch_hooks = cbs.has_batch_hooks("train")
    train_step = trainer.step_fn("train")
    spe = trainer.steps_per_execution

    def run_epoch(epoch_batches: Any) -> None:
        for step, (xb, yb, swb) in enumerate(epoch_batches):
            # With steps_per_execution=N, Keras calls the batch hooks once per N steps.
            if batch_hooks and step % spe == 0:
                cbs.on_train_batch_begin(step)
            train_step(xb, yb, swb)
            if batch_hooks and ((step + 1) % spe == 0 or step + 1 == steps):
                cbs.on_train_batch_end(step, logs_fn=trainer.logs)
            if model.stop_training:
                break

    return run_epoch


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


# ================================================================ evaluate
def evaluate(
    trainer: Trainer,
    x: Any,
    y: Any = None,
    batch_size: int | None = None,
    verbose: Any = "auto",
    sample_weight: Any = None,
    steps: int | None = None,
    callbacks: Sequence[Any] | None = None,
    return_dict: bool = False,
) -> Any:
    """Run ``Model.evaluate``: the loss and metrics, as a dict, a list or a scalar.

    Example:
        >>> import numpy as np, kseq
        >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
        >>> m.compile(loss="mse", metrics=["mae"])
        >>> sorted(evaluate(m._trainer, np.ones((4, 2)), np.ones(4), verbose=0, return_dict=True))
        ['loss', 'mae']
    """
    if x is None:
        raise ValueError("evaluate() needs data: pass `x` (and `y`).")
    given, batch_size = batch_size, check_batch_size(batch_size)
    verbose = check_verbose(verbose)
    data = trainer.adapt(x, y, sample_weight, None, "evaluate", batch_size=given)
    checks.check_not_empty(data, "evaluate")
    sample_x, sample_y = peek(data)
    trainer.prepare(
        sample_x, sample_y, False, batch_size, lambda: _check_labels(trainer, [data], "evaluate")
    )
    cbs = _inference_callbacks(trainer, callbacks, verbose, steps or steps_of(data, batch_size))
    logs = evaluate_loop(trainer, data, batch_size, steps, cbs)
    return logs if return_dict else trainer.ordered_results(logs)


def evaluate_loop(
    trainer: Trainer, data: Data, batch_size: int, steps: int | None, cbs: CallbackList
) -> dict[str, float]:
    """One pass of ``data`` through the test step, in inference mode; returns the logs
    (``evaluate`` and ``fit``'s validation)."""
    model = trainer.model
    was_training = modes_of(model)
    model.eval()
    trainer.reset_metrics()
    model.stop_evaluating = False
    cbs.on_test_begin()
    batch_hooks = cbs.has_batch_hooks("test")
    try:
        test_step = trainer.step_fn("test")
        with torch.inference_mode():
            for step, (xb, yb, swb) in enumerate(batches(data, batch_size, steps, shard="eval")):
                if batch_hooks:
                    cbs.on_test_batch_begin(step)
                test_step(xb, yb, swb)
                if batch_hooks:
                    cbs.on_test_batch_end(step, logs_fn=trainer.logs)
                if model.stop_evaluating:
                    break
        distributed.all_reduce_metrics(trainer.metrics)
        logs = trainer.logs()
        trainer.end_step_logs()  # an overridden test_step's logs end with its loop
        cbs.on_test_end(logs)
    finally:  # every exit restores the caller's mode
        restore_modes(model, was_training)
    return logs


# ================================================================= predict
def predict(
    trainer: Trainer,
    x: Any,
    batch_size: int | None = None,
    verbose: Any = "auto",
    steps: int | None = None,
    callbacks: Sequence[Any] | None = None,
) -> Any:
    """Run ``Model.predict``: the outputs for ``x`` in batches, as NumPy.

    Example:
        >>> import numpy as np, kseq
        >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(3)])
        >>> m.compile(loss="mse")
        >>> predict(m._trainer, np.ones((5, 2)), batch_size=2, verbose=0).shape
        (5, 3)
    """
    given, batch_size = batch_size, check_batch_size(batch_size)
    verbose = check_verbose(verbose)
    data = trainer.adapt(x, None, None, None, "predict", batch_size=given)
    checks.check_not_empty(data, "predict")
    sample_x, _ = peek(data)
    trainer.build_and_place(sample_x)
    cbs = _inference_callbacks(trainer, callbacks, verbose, steps or steps_of(data, batch_size))
    model = trainer.model
    was_training = modes_of(model)
    model.eval()
    model.stop_predicting = False
    cbs.on_predict_begin()
    batch_hooks = cbs.has_batch_hooks("predict")
    predict_step = trainer.step_fn("predict")
    outputs: list[Any] = []
    try:
        with torch.inference_mode():
            for step, (xb, _, _) in enumerate(batches(data, batch_size, steps)):
                if batch_hooks:
                    cbs.on_predict_batch_begin(step)
                out = predict_step(xb)
                outputs.append(out)
                if batch_hooks:
                    cbs.on_predict_batch_end(step, logs={"outputs": out})
                if model.stop_predicting:
                    break
        cbs.on_predict_end()
    finally:  # every exit restores the caller's mode
        restore_modes(model, was_training)
    if not outputs:
        raise ValueError(
            "Unexpected result of `predict_function` (Empty batch_outputs). The dataset is empty."
        )
    return concat_to_numpy(outputs)


def _inference_callbacks(
    trainer: Trainer, callbacks: Sequence[Any] | None, verbose: int, steps: int | None
) -> CallbackList:
    return CallbackList(
        callbacks,
        add_progbar=verbose != 0,
        model=trainer.model,
        verbose=verbose,
        epochs=1,
        steps=steps,
    )


# ============================================================ on-batch API
def train_on_batch(
    trainer: Trainer,
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    class_weight: Any = None,
    return_dict: bool = False,
) -> Any:
    """Run ``Model.train_on_batch``: one training step; this batch's loss and metrics.

    Example:
        >>> import numpy as np, kseq
        >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> sorted(train_on_batch(m._trainer, np.ones((4, 2)), np.ones(4), return_dict=True))
        ['loss']
    """
    data = trainer.adapt(x, y, sample_weight, class_weight, "train_on_batch")
    assert isinstance(data, ArrayData)
    trainer.prepare(data.x, data.y, training=True)
    trainer.reset_metrics()  # Keras reports this batch's values, not a running mean
    trainer.model.train()
    trainer.step_fn("train")(data.x, data.y, data.sample_weight)
    logs = trainer.logs()
    return logs if return_dict else trainer.ordered_results(logs)


def test_on_batch(
    trainer: Trainer, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
) -> Any:
    """Run ``Model.test_on_batch``: this batch's loss and metrics, in inference mode.

    Example:
        >>> import numpy as np, kseq
        >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
        >>> m.compile(loss="mse")
        >>> type(test_on_batch(m._trainer, np.ones((4, 2)), np.ones(4))).__name__
        'float'
    """
    data = trainer.adapt(x, y, sample_weight, None, "test_on_batch")
    assert isinstance(data, ArrayData)
    trainer.prepare(data.x, data.y, training=False)
    trainer.reset_metrics()
    model = trainer.model
    was_training = modes_of(model)
    model.eval()
    with torch.inference_mode():
        trainer.step_fn("test")(data.x, data.y, data.sample_weight)
    restore_modes(model, was_training)
    logs = trainer.logs()
    return logs if return_dict else trainer.ordered_results(logs)
