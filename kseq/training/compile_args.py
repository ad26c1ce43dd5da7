"""``compile()``'s arguments, checked and resolved from names once, at compile time.

The optimizer becomes an object (``"adam"`` -> ``Adam``), one-output ``loss``/``loss_weights``
lists or dicts become their single entry, and unknown loss and metric names fail here, as in
Keras. What needs the data's shapes (``"accuracy"`` -> binary/sparse/categorical, the loss's
target checks) happens later, in ``compile_utils.py``. The raw arguments are kept for
``Model.get_compile_config``.

Example:
    >>> args = CompileArgs(optimizer="sgd", loss=["mse"], metrics="mae")
    >>> type(args.optimizer).__name__, args.loss, args.metric_specs
    ('SGD', 'mse', ['mae'])
"""

from __future__ import annotations

from typing import Any

from kseq import losses, optimizers
from kseq import metrics as metrics_mod
from kseq.losses.loss import Loss

_AUTO_NAMES = ("crossentropy", "ce")  # resolved from the shapes, not by name lookup


class CompileArgs:
    """The validated ``compile()`` arguments of one model.

    Args:
        optimizer, loss, loss_weights, metrics, weighted_metrics, run_eagerly,
        steps_per_execution, jit_compile, auto_scale_loss: ``Model.compile``'s arguments.
    """

    def __init__(
        self,
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
        self.optimizer = optimizers.get(optimizer) if optimizer is not None else None
        # Several outputs (a list/dict of more than one entry): kept as given and resolved per
        # output once the outputs are known (outputs.py).
        self.multi = {
            k: v for k, v in (("loss", loss), ("loss_weights", loss_weights), ("metrics", metrics),
                              ("weighted_metrics", weighted_metrics))
        }  # fmt: skip
        multi_loss = any(
            isinstance(v, (list, tuple, dict)) and len(v) > 1 for v in (loss, loss_weights)
        )
        self.loss = loss if multi_loss else _single(loss, "loss")
        weight = None if multi_loss else _single(loss_weights, "loss_weights")
        self.loss_weight = float(weight) if weight is not None else 1.0
        self.metric_specs = [] if _is_multi(metrics) else _as_list(metrics, "metrics")
        self.weighted_specs = (
            [] if _is_multi(weighted_metrics) else _as_list(weighted_metrics, "weighted_metrics")
        )
        for spec in self.metric_specs + self.weighted_specs:
            _validate_metric_spec(spec)
        for spec in _leaves(loss):
            if isinstance(spec, str) and spec.lower() not in _AUTO_NAMES:
                losses.get(spec)  # unknown names fail at compile time, as in Keras
        self.run_eagerly = run_eagerly
        self.steps_per_execution = max(1, int(steps_per_execution))
        self.jit_compile = jit_compile is True
        self.auto_scale_loss = auto_scale_loss
        self.config: dict[str, Any] = {
            "optimizer": optimizer, "loss": loss, "loss_weights": loss_weights, "metrics": metrics,
            "weighted_metrics": weighted_metrics, "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution, "jit_compile": jit_compile,
        }  # fmt: skip

    def targets_are_indices(self) -> bool:
        """Whether the loss takes integer class indices (a sparse loss), so targets stay int64.

        Example:
            >>> CompileArgs(loss="sparse_categorical_crossentropy").targets_are_indices()
            True
        """
        if isinstance(self.loss, Loss):
            return self.loss.sparse_targets
        if isinstance(self.loss, str):
            return "sparse" in self.loss.lower()
        return False


def _is_multi(value: Any) -> bool:
    # A per-output structure: a dict of several entries, or a list with a nested entry / several
    # losses (`metrics=["mae", "mse"]` stays a one-output list of two metrics until resolved).
    if isinstance(value, dict):
        return len(value) > 1
    return isinstance(value, (list, tuple)) and any(
        isinstance(v, (list, tuple, dict)) or v is None for v in value
    )


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


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
    if isinstance(spec, str) and spec.lower() not in ("accuracy", "acc", *_AUTO_NAMES):
        metrics_mod.get(spec)
    elif spec is None:
        raise ValueError("Expected metric, received `None`")
