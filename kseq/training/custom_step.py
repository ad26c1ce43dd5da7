"""Overridden ``train_step``/``test_step``/``predict_step``: Keras's "Customizing what happens in
``fit()``" on the torch backend.

A ``Model`` subclass may override ``train_step(self, data)`` (and ``test_step``/``predict_step``)
and write the step by hand, as in Keras's torch guide::

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            ...
        return {m.name: m.result() for m in self.metrics}

``fit``/``evaluate`` then take this module's *slow path*: each batch is packed as Keras packs it
(``x``, ``(x, y)`` or ``(x, y, sample_weight)``), handed to the method, and the dict it returns
becomes the logs (nested dicts flattened, tensors read on the host only when the progress bar or
a callback reads them, as on the fused path). The fused step's extras (logits fusion,
``torch.compile`` of the step, DDP, mixed precision) are the method's business on this path.

Example:
    >>> pack_data("x", "y", None), unpack_data(("x", "y"))
    (('x', 'y'), ('x', 'y', None))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

StepFn = Callable[[Any, Any, Any], None]
_KINDS = {"train": "train_step", "test": "test_step", "predict": "predict_step"}


def default_step(method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``Model``'s own step method, so that an override can be told apart from it.

    Example:
        >>> @default_step
        ... def train_step(self, data): ...
        >>> train_step._kseq_default_step
        True
    """
    method._kseq_default_step = True  # type: ignore[attr-defined]
    return method


def overrides(model: Any, kind: str) -> bool:
    """Whether ``model``'s class overrides ``train_step``/``test_step``/``predict_step``.

    Example:
        >>> class M:
        ...     def train_step(self, data): ...
        >>> overrides(M(), "train")
        True
    """
    method = getattr(type(model), _KINDS[kind], None)
    return method is not None and not getattr(method, "_kseq_default_step", False)


def pack_data(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """A batch as Keras hands it to ``train_step``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

    Example:
        >>> pack_data("x"), pack_data("x", "y", "w")
        ('x', ('x', 'y', 'w'))
    """
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_data(data: Any) -> tuple[Any, Any, Any]:
    """Keras's ``unpack_x_y_sample_weight``: ``(x, y, sample_weight)`` from a packed batch.

    Example:
        >>> unpack_data("x"), unpack_data(("x",))
        (('x', None, None), ('x', None, None))
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError(
            "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
            f"found a tuple of length {len(data)}."
        )
    return (*data, None, None)[:3]  # type: ignore[return-value]


def step_fn(trainer: Any, kind: str) -> StepFn | None:
    """The per-batch function calling the model's overridden step (``None`` when not overridden);
    the returned logs go to ``trainer.set_step_logs``."""
    model = trainer.model
    if not overrides(model, kind):
        return None
    method = getattr(model, _KINDS[kind])

    def run(x: Any, y: Any, sample_weight: Any) -> None:
        logs = method(pack_data(x, y, sample_weight))
        if not isinstance(logs, dict):
            raise ValueError(
                f"`{type(model).__name__}.{_KINDS[kind]}` must return a dict mapping metric names to "
                f"values (e.g. `{{m.name: m.result() for m in self.metrics}}`). Received: {logs!r}"
            )
        trainer.set_step_logs(logs)

    return run


def resolve(trainer: Any, x_shape: Any, y_shape: tuple[int, ...] | None, batch_size: Any) -> None:
    """Resolve the compiled loss/metrics from the data, when the model can say its output shape
    (a model whose ``train_step`` does everything, like a GAN, may have no ``call``)."""
    with contextlib.suppress(NotImplementedError):
        trainer.resolve(x_shape, y_shape, batch_size)


def metrics_results(metrics: list[Any]) -> dict[str, Any]:
    """``{name: result}`` of ``metrics`` as tensors (dict-valued results merged in).

    Example:
        >>> import torch
        >>> from kseq.metrics import Mean
        >>> m = Mean(name="m"); m.update_state(torch.tensor([2.0])); metrics_results([m])
        {'m': tensor(2.)}
    """
    results: dict[str, Any] = {}
    for metric in metrics:
        value = metric.result()
        if isinstance(value, dict):
            results.update(value)
        else:
            results[metric.name] = value
    return results


def flatten_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """A step's logs with nested dicts merged into the top level (Keras's ``pythonify_logs``).

    Example:
        >>> flatten_logs({"loss": 1.0, "compile_metrics": {"mae": 2.0}})
        {'loss': 1.0, 'mae': 2.0}
    """
    flat: dict[str, Any] = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            flat.update(flatten_logs(value))
        else:
            flat[key] = value
    return flat
