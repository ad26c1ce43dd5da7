"""The train / test / predict steps: plain torch on device tensors, no host syncs.

One ``Steps`` object is built per compiled model once the data's shapes are known. Its
``train_step`` is the whole hot path of ``fit``::

    forward -> loss (+ regularization) -> zero_grad -> backward -> optimizer step
            -> weight constraints -> metric updates (device buffers)

Nothing in it calls ``.item()``, ``.cpu()``, ``float(tensor)`` or branches on a tensor value (except
float16 loss scaling, see ``precision.py``). When the model's last layer ends in sigmoid/softmax and
the loss is the matching crossentropy, the loss is computed from the logits (``logits fusion``).
With ``compile(jit_compile=True)`` the forward + loss + metric part runs under ``torch.compile``.

Example:
    >>> import torch, kseq
    >>> model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> logs = model.train_on_batch(torch.ones(4, 3), torch.zeros(4, 1), return_dict=True)
    >>> sorted(logs)
    ['loss']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from kseq import activations
from kseq.layers.loss_collection import MODEL_CALL_LOSSES
from kseq.losses import Loss
from kseq.metrics import Mean, Metric
from kseq.optimizers import Optimizer
from kseq.training.data import batch_size_of, flatten
from kseq.training.precision import Precision


class LossTracker(Mean):
    """The ``loss`` metric: batch-size-weighted mean of the step losses. The sample count is known on
    the host, so an update is a single device op."""

    def __init__(self, name: str = "loss") -> None:
        super().__init__(name=name)

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        weight = 1.0 if sample_weight is None else float(sample_weight)
        self.total.add_(values.detach(), alpha=weight)
        self._host_count[0] += weight  # folded into `count` when the value is read


class Steps:
    """Step functions bound to a model, its loss, optimizer, metrics and precision."""

    def __init__(
        self,
        model: nn.Module,
        loss_fn: Loss | None,
        loss_weight: float,
        optimizer: Optimizer | None,
        metrics: list[Metric],
        weighted_metrics: list[Metric],
        loss_tracker: LossTracker,
        precision: Precision,
        jit_compile: bool,
        net: nn.Module | None = None,
    ) -> None:
        self.model = model
        # The module the training forward goes through: the model, or its DistributedDataParallel
        # wrapper (whose hooks all-reduce the gradients).
        self.net = net if net is not None else model
        self.loss_fn = loss_fn
        self.loss_weight = loss_weight
        self.optimizer = optimizer
        self.metrics = metrics
        self.weighted_metrics = weighted_metrics
        self.loss_tracker = loss_tracker
        self.precision = precision
        self._fused_loss, self._final_activation = self._fusion()
        self._layers = model._flatten_layers()
        self._weight_regularizers = [
            (layer.get_parameter(path), reg, view)
            for layer in self._layers for path, reg, view in layer._weight_regularizers
        ]  # fmt: skip
        self._constraints = [
            (layer.get_parameter(path), constraint, view)
            for layer in self._layers for path, constraint, view in layer._weight_constraints
        ]  # fmt: skip
        self._forward_loss_train = self._make_forward_loss(training=True)
        self._plain_train_step = (
            precision.autocast_dtype is None and precision.loss_scale is None and not self._constraints
            and (optimizer is None or optimizer.loss_scale_factor is None)
        )  # fmt: skip
        self._forward_loss_test = self._make_forward_loss(training=False)
        if jit_compile:
            self._forward_loss_train = torch.compile(self._forward_loss_train)
            self._forward_loss_test = torch.compile(self._forward_loss_test)

    # ------------------------------------------------------------------ fusion
    def _fusion(self) -> tuple[Loss | None, Callable[[Tensor], Tensor] | None]:
        """Loss-from-logits when the final activation and the loss allow it (DESIGN.md)."""
        split = getattr(self.model, "_final_activation_split", None)
        if self.loss_fn is None or split is None:
            return None, None
        activation = split()
        if activation is None:
            return None, None
        fused = self.loss_fn._from_logits_variant(activations.FUSABLE[activation])
        return (fused, activation) if fused is not None else (None, None)

    # ------------------------------------------------------------------ pieces
    def _regularization(self) -> Tensor | None:
        terms = [reg(view(p)) for p, reg, view in self._weight_regularizers]
        for layer in MODEL_CALL_LOSSES.layers:  # layers that called add_loss in this forward
            terms.extend(layer._losses)
        if not terms:
            return None
        return torch.stack([t.reshape(()).float() for t in terms]).sum()

    def _make_forward_loss(self, training: bool) -> Callable[[Any, Any, Any], tuple[Tensor, Any]]:
        model, loss_fn, weight = self.model, self.loss_fn, self.loss_weight
        fused_loss, activation = self._fused_loss, self._final_activation
        update_metrics = self._update_metrics
        net = self.net if training else model
        if net is model:
            forward_logits: Callable[[Any], Tensor] = getattr(model, "_forward_logits", model)
        else:

            def forward_logits(x: Any) -> Tensor:
                return net(x, return_logits=True)

        def forward_loss(x: Any, y: Any, sample_weight: Any) -> tuple[Tensor, Any]:
            if fused_loss is not None:
                logits = forward_logits(x)
                loss = fused_loss(y, logits, sample_weight)
                y_pred = (
                    activation(logits.detach()) if self.metrics or self.weighted_metrics else None
                )
            else:
                y_pred = net(x)
                if loss_fn is not None:
                    loss = loss_fn(y, y_pred, sample_weight)
                else:
                    loss = torch.zeros((), device=flatten(x)[0].device)
            if weight != 1.0:
                loss = loss * weight
            extra = self._regularization()
            if extra is not None:
                loss = loss + extra.to(loss.dtype)
            update_metrics(loss, y, y_pred, sample_weight, batch_size_of(x))
            return loss, y_pred

        return forward_loss

    def _update_metrics(
        self, loss: Tensor, y: Any, y_pred: Any, sample_weight: Any, batch_size: int
    ) -> None:
        # The loss tracker, inlined: one device op, and the sample count on the host.
        tracker = self.loss_tracker
        tracker.total.add_(loss.detach(), alpha=batch_size)
        tracker._host_count[0] += batch_size
        if y is None or y_pred is None or not (self.metrics or self.weighted_metrics):
            return
        with torch.no_grad():
            y_pred = y_pred.detach() if isinstance(y_pred, Tensor) else y_pred
            for metric in self.metrics:
                metric.update_state(y, y_pred)
            for metric in self.weighted_metrics:
                metric.update_state(y, y_pred, sample_weight)

    def _apply_constraints(self) -> None:
        with torch.no_grad():
            for param, constraint, view in self._constraints:
                target = view(param)
                target.copy_(constraint(target))

    # ------------------------------------------------------------------- steps
    def train_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        optimizer = self.optimizer
        assert optimizer is not None
        if self._plain_train_step and optimizer.built:
            # The common case (float32, no loss scaling, no constraints): nothing but the step.
            loss, _ = self._forward_loss_train(x, y, sample_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return
        with self.precision.autocast():
            loss, _ = self._forward_loss_train(x, y, sample_weight)
        if not optimizer.built:  # no trainable weights (Keras warns once and trains nothing)
            return
        optimizer.zero_grad()
        self.precision.scale(optimizer.scale_loss(loss)).backward()
        if self.precision.unscale_and_check(optimizer._params):
            optimizer.step()
            if self._constraints:
                self._apply_constraints()

    def test_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        with self.precision.autocast():
            self._forward_loss_test(x, y, sample_weight)

    def predict_step(self, x: Any) -> Any:
        with self.precision.autocast():
            return self.model(x)
