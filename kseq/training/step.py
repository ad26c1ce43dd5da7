"""The train / test steps: plain torch on device tensors, no host syncs.

One ``Steps`` object is built per compiled model once the data's shapes are known. Its
``train_step`` is the whole hot path of ``fit`` (and ``train_on_batch``), one path for every
dtype policy::

    forward -> loss (+ penalties) -> zero_grad -> backward -> optimizer step (skipped on the
            device when the loss or a gradient is non-finite, ``finite_guard.py``)
            -> weight constraints -> loss tracker and metric updates (device buffers)

The precision object (``precision.py``) supplies the autocast context, ``backward`` and the
optimizer step; for float32 it is a no-op. The loss and metric pieces are ``objective.py``'s,
shared with ``Model.compute_loss``/``compute_metrics``. Nothing here calls ``.item()``,
``.cpu()``, ``float(tensor)`` or branches on a tensor value (except float16 loss scaling). When the
model's last layer ends in sigmoid/softmax and the loss is the matching crossentropy, the loss is
computed from the logits (``logits fusion``).

With ``compile(jit_compile=True)`` the forward + loss + metric part runs under ``torch.compile``;
AOTAutograd compiles its backward with it, so the whole step except the optimizer is compiled. The
optimizer stays eager on purpose: it is already one fused (or foreach) kernel launch, torch refuses
to trace its fused kernels, and its per-step hyperparameters (Keras's step-dependent epsilon, a
learning-rate schedule) are host floats that would be guards, i.e. a recompile per step. Nothing
inside the compiled region reads a Python counter (the loss tracker and ``Mean`` count samples in
device buffers while compiling), so it compiles once per input signature: once for full batches,
once more for the last partial batch. Where torch cannot compile the step, it runs eagerly after
one warning.

Example:
    >>> import torch, kseq
    >>> model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> logs = model.train_on_batch(torch.ones(4, 3), torch.zeros(4, 1), return_dict=True)
    >>> sorted(logs)
    ['loss']
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from kseq import activations
from kseq.losses import Loss
from kseq.metrics import Mean, Metric
from kseq.optimizers import Optimizer
from kseq.training.data import batch_size_of, flatten
from kseq.training.finite_guard import FiniteGuard
from kseq.training.objective import added_losses, compiled_loss, update_metrics, with_penalties
from kseq.training.precision import Precision


class LossTracker(Mean):
    """The ``loss`` metric: batch-size-weighted mean of the step losses. The sample count is known on
    the host, so an update is a single device op.

    Example:
        >>> t = LossTracker(); t.add(torch.tensor(2.0), 3); t.update_state(torch.tensor(6.0))
        >>> float(t.result())
        3.0
    """

    def __init__(self, name: str = "loss") -> None:
        super().__init__(name=name)

    def add(self, loss: Tensor, weight: float) -> None:
        """Add one step's ``loss`` for ``weight`` samples: the one place the tracker is updated.
        The step calls it directly (not ``update_state``, which metrics wrap in ``no_grad``)."""
        self.total.add_(loss.detach(), alpha=weight)
        if torch.compiler.is_compiling():  # in a graph a host counter would be a guard that
            self.count.add_(weight)  # changes every step (one recompile per step)
        else:
            self._host_count[0] += weight  # folded into `count` when the value is read

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        self.add(values, 1.0 if sample_weight is None else float(sample_weight))


def compiled(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``torch.compile(fn)``, falling back to ``fn`` itself, with one warning, when torch cannot
    compile it (the first call raises): the step is then eager, never half-compiled or wrong.

    Example:
        >>> double = compiled(lambda t: t * 2)
        >>> double(torch.ones(2)).tolist()
        [2.0, 2.0]
    """
    graph = torch.compile(fn)
    chosen: list[Callable[..., Tensor]] = []

    def call(*args: Any) -> Tensor:
        if chosen:
            return chosen[0](*args)
        try:
            out = graph(*args)
        except Exception as error:
            if not type(error).__module__.startswith(("torch._dynamo", "torch._inductor")):
                raise  # the user's own error (a bad shape, a bad label), not the compiler's
            warnings.warn(
                f"`jit_compile=True`: torch.compile could not compile the step ({type(error).__name__}: "
                f"{error}); running it eagerly instead.",
                stacklevel=2,
            )
            chosen.append(fn)
            return fn(*args)
        chosen.append(graph)
        return out

    return call


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
        layers = model._flatten_layers()
        self._weight_regularizers = [
            (layer.get_parameter(path), reg, view)
            for layer in layers for path, reg, view in layer._weight_regularizers
        ]  # fmt: skip
        self._constraints = [
            (layer.get_parameter(path), constraint, view)
            for layer in layers for path, constraint, view in layer._weight_constraints
        ]  # fmt: skip
        self._guard: FiniteGuard | None = None  # built with the optimizer, on the first step
        self._forward_loss_train = self._make_forward_loss(training=True)
        self._forward_loss_test = self._make_forward_loss(training=False)
        if jit_compile:
            self._forward_loss_train = compiled(self._forward_loss_train)
            self._forward_loss_test = compiled(self._forward_loss_test)

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
    def _penalty_terms(self) -> list[Tensor]:
        """Weight regularization now, plus the losses layers added during this step's forward."""
        terms = [reg(view(p)) for p, reg, view in self._weight_regularizers]
        terms.extend(added_losses())
        return terms

    def _make_forward_loss(self, training: bool) -> Callable[[Any, Any, Any], Tensor]:
        model, weight = self.model, self.loss_weight
        fused_loss, activation = self._fused_loss, self._final_activation
        loss_fn = fused_loss if fused_loss is not None else self.loss_fn
        with_metrics = bool(self.metrics or self.weighted_metrics)
        net = self.net if training else model
        if fused_loss is None:
            forward: Callable[[Any], Tensor] = net
        elif net is model:
            forward = getattr(model, "_forward_logits", model)
        else:

            def forward(x: Any) -> Tensor:
                return net(x, return_logits=True)

        def forward_loss(x: Any, y: Any, sample_weight: Any) -> Tensor:
            y_pred = forward(x)
            if loss_fn is not None:
                loss = compiled_loss(loss_fn, weight, y, y_pred, sample_weight)
            else:
                loss = torch.zeros((), device=flatten(x)[0].device)
            terms = self._penalty_terms()
            if terms:
                loss = with_penalties(loss, terms)
            self.loss_tracker.add(loss, batch_size_of(x))
            if with_metrics and y is not None:
                if activation is not None:  # fused: the metrics see probabilities
                    y_pred = activation(y_pred.detach())
                update_metrics(self.metrics, self.weighted_metrics, y, y_pred, sample_weight)
            return loss

        return forward_loss

    def _apply_constraints(self) -> None:
        with torch.no_grad():
            for param, constraint, view in self._constraints:
                target = view(param)
                target.copy_(constraint(target))

    # ------------------------------------------------------------------- steps
    def train_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        """One training step on a device batch (``fit``, ``train_on_batch``)."""
        optimizer, precision = self.optimizer, self.precision
        assert optimizer is not None
        with precision.autocast():
            loss = self._forward_loss_train(x, y, sample_weight)
        if not optimizer.built:  # no trainable weights (Keras warns once and trains nothing)
            return
        optimizer.zero_grad()
        precision.backward(optimizer.scale_loss(loss))
        if precision.loss_scale is None:  # float16 loss scaling does its own skipping
            if self._guard is None:
                self._guard = FiniteGuard(optimizer)
            self._guard.step(optimizer, loss)
            applied = True
        else:
            applied = precision.step(optimizer)
        if applied and self._constraints:
            self._apply_constraints()

    def test_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        """One evaluation step: loss and metric updates only."""
        with self.precision.autocast():
            self._forward_loss_test(x, y, sample_weight)
