"""``Optimizer``: Keras's optimizer arguments and update order on top of torch tensors.

Keras semantics kept here, in this order, at every step (``keras/src/optimizers/base_optimizer.py``):

1. gradient accumulation (``gradient_accumulation_steps``),
2. clipping: ``clipnorm`` per tensor, ``global_clipnorm`` over all, or ``clipvalue``,
3. decoupled weight decay for every optimizer: ``var -= var * weight_decay * lr``,
4. the optimizer's own update (torch's fused/foreach kernels where they match Keras's formula,
   hand-written ``torch._foreach_*`` updates where they don't),
5. EMA of the weights (``use_ema``), 6. ``iterations += 1``.

The learning rate is a float or a step-based schedule evaluated on ``iterations`` on the host, so
no step needs a device sync. The shared-argument checks live in :mod:`kseq.optimizers.arguments`,
accumulation and clipping in :mod:`kseq.optimizers.gradients`, the Keras state order and the saved
state's checks in :mod:`kseq.optimizers.state`; this module owns the ``Optimizer`` class itself.

Example:
    >>> import torch
    >>> from kseq.optimizers import SGD
    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> opt = SGD(learning_rate=0.1)
    >>> opt.build([w]); w.grad = torch.ones(2); opt.step()
    >>> [round(v, 4) for v in w.detach().tolist()], opt.iterations
    ([0.9, 0.9], 1)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from kseq.core.naming import auto_name
from kseq.optimizers import schedules
from kseq.optimizers.arguments import check_arguments, check_learning_rate, current_learning_rate
from kseq.optimizers.gradients import (
    accumulate_gradients,
    clip_gradients,
    paired_gradients,
    present_gradients,
    torch_face,
)
from kseq.optimizers.state import copy_saved_state, keras_order
from kseq.registry.object_registration import get_registered_name


class Optimizer:
    """Base class. Subclasses implement ``_create_state()`` and ``_update(params, grads, lr)``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` (called with ``iterations``) or a
            zero-argument callable. (Keras rejects an ``int``; kseq accepts it as a float.)
        weight_decay: Decoupled weight decay rate (applied before the update, as in Keras).
        clipnorm: Clip each gradient tensor to this L2 norm.
        clipvalue: Clip gradient entries to ``[-clipvalue, clipvalue]``.
        global_clipnorm: Clip all gradients together to this global L2 norm.
        use_ema: Keep an exponential moving average of the weights; ``fit`` writes it into the
            model at the end of training (or every ``ema_overwrite_frequency`` steps).
        ema_momentum: EMA decay.
        loss_scale_factor: Multiply the loss by this before ``backward`` and divide gradients after.
        gradient_accumulation_steps: Update only every N steps, with the mean of N gradients.
        name: Optimizer name.

    Example:
        >>> class SignSGD(Optimizer):
        ...     def _update(self, params, grads, lr):
        ...         torch._foreach_add_(params, torch._foreach_sign(grads), alpha=-lr)
        >>> w = torch.nn.Parameter(torch.zeros(2))
        >>> opt = SignSGD(learning_rate=0.5); opt.build([w])
        >>> w.grad = torch.tensor([3.0, -0.1]); opt.step(); w.detach().tolist()
        [-0.5, 0.5]
    """

    # How many leading slots Keras creates together, interleaved per weight (Adam: 2).
    _keras_interleaved = 1

    # Hand-written updates modify parameters in place and need autograd off; torch-backed ones
    # call torch's own step, which handles that itself.
    _update_needs_no_grad: ClassVar[bool] = True

    def __init__(
        self,
        learning_rate: Any,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        check_arguments(
            type(self).__name__,
            kwargs,
            clipnorm,
            clipvalue,
            global_clipnorm,
            use_ema,
            ema_momentum,
            ema_overwrite_frequency,
            gradient_accumulation_steps,
        )
        self.name = name or auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum = use_ema, ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._learning_rate: Any = check_learning_rate(learning_rate)
        self._iterations = 0
        self._params: list[Tensor] = []
        self._accumulators: list[Tensor] = []
        self._ema: list[Tensor] = []
        self._exclude_ids: set[int] = set()
        self._exclude_names: tuple[str, ...] = ()
        self._decay_params: list[Tensor] = []
        self.built = False

    # ------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> float:
        """The current learning rate as a float (a schedule is evaluated at ``iterations``)."""
        return current_learning_rate(self._learning_rate, self._iterations)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(self._learning_rate, schedules.LearningRateSchedule) and not (
            isinstance(value, schedules.LearningRateSchedule) or callable(value)
        ):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning "
                "rate to be settable, you should instantiate the optimizer with a float `learning_rate` argument."
            )
        self._learning_rate = check_learning_rate(value)

    lr = learning_rate

    @property
    def iterations(self) -> int:
        """Number of optimizer updates applied so far (a Python int: reading it never syncs)."""
        if self.gradient_accumulation_steps:
            return self._iterations // self.gradient_accumulation_steps
        return self._iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._iterations = int(value) * (self.gradient_accumulation_steps or 1)

    # ------------------------------------------------------------------- build
    def build(self, variables: Iterable[Tensor]) -> None:
        """Bind the optimizer to the trainable tensors and create its state (Keras-layout
        variables from ``layer.trainable_weights`` bind their torch parameters)."""
        variables = list(variables)
        _, variables = torch_face([None] * len(variables), variables)
        self._params = [p for p in variables if p.requires_grad]
        if not self._params:
            raise ValueError(
                "The optimizer has no trainable weights to update: every weight of the model is frozen "
                "(trainable=False) or the model has no weights."
            )
        self._decay_params = [p for p in self._params if self._use_weight_decay(p)]
        with torch.no_grad():
            if self.gradient_accumulation_steps:
                self._accumulators = [torch.zeros_like(p) for p in self._params]
            if self.use_ema:
                self._ema = [p.detach().clone() for p in self._params]
        self._create_state()
        self.built = True

    def _create_state(self) -> None:
        """Create per-parameter state (subclasses)."""

    def exclude_from_weight_decay(
        self, var_list: Iterable[Tensor] | None = None, var_names: Iterable[str] | None = None
    ) -> None:
        """Exclude tensors (or tensors whose parameter name contains one of ``var_names``)."""
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer is built."
            )
        var_list = list(var_list or ())
        self._exclude_ids = {id(v) for v in torch_face([None] * len(var_list), var_list)[1]}
        self._exclude_names = tuple(var_names or ())

    def _use_weight_decay(self, p: Tensor) -> bool:
        if id(p) in self._exclude_ids:
            return False
        name = getattr(p, "_kseq_name", "")
        return not any(n in name for n in self._exclude_names)

    # -------------------------------------------------------------------- step
    def scale_loss(self, loss: Tensor) -> Tensor:
        """Multiply by ``loss_scale_factor`` (if set) before ``backward``."""
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self._params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def step(self) -> None:
        """Apply one update from the ``.grad`` of the bound tensors (Keras's ``apply``)."""
        if not self.built:
            raise ValueError(
                "The optimizer is not built: call `optimizer.build(model.trainable_weights)` first."
            )
        if self._plain:
            params = self._params
            grads = [p.grad for p in params]
            if all(g is not None for g in grads):
                # No scaling, accumulation, clipping, decay or EMA: straight to the update.
                lr = self._learning_rate
                lr = lr if type(lr) is float else self.learning_rate
                if self._update_needs_no_grad:
                    with torch.no_grad():
                        self._update(params, grads, lr)  # type: ignore[arg-type]
                else:
                    self._update(params, grads, lr)  # type: ignore[arg-type]
                self._iterations += 1
                return
        self._apply_update(*present_gradients(self._params))

    @property
    def _plain(self) -> bool:
        """Whether a step is just the update (recomputed each step: these settings are mutable)."""
        return not (
            self.loss_scale_factor is not None or self.gradient_accumulation_steps
            or (self.clipnorm and self.clipnorm > 0) or (self.global_clipnorm and self.global_clipnorm > 0)
            or (self.clipvalue and self.clipvalue > 0) or self.weight_decay or self.use_ema
        )  # fmt: skip

    def apply(
        self, grads: Iterable[Any], trainable_variables: Iterable[Tensor] | None = None
    ) -> None:
        """Keras's ``optimizer.apply(grads, trainable_variables)``: one update from given gradients.

        The first call builds the optimizer for ``trainable_variables`` (as Keras does); later
        calls may pass any of those variables, in any order. ``None`` gradients are skipped.

        Example:
            >>> from kseq.optimizers import SGD
            >>> w = torch.nn.Parameter(torch.ones(2))
            >>> opt = SGD(learning_rate=0.5); opt.apply([torch.ones(2)], [w]); w.detach().tolist()
            [0.5, 0.5]
        """
        grads = list(grads)
        variables = self._params if trainable_variables is None else list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"`grads` and `trainable_variables` must have the same length. Received: "
                f"{len(grads)} gradients for {len(variables)} variables."
            )
        if not self.built:
            self.build(variables)
        grads, variables = torch_face(grads, variables)
        self._apply_update(*paired_gradients(grads, variables, self._params))

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Tensor]]) -> None:
        """Keras's ``optimizer.apply_gradients(zip(grads, vars))``.

        Example:
            >>> from kseq.optimizers import SGD
            >>> w = torch.nn.Parameter(torch.zeros(1))
            >>> SGD(learning_rate=1.0).apply_gradients([(torch.ones(1), w)]); w.detach().tolist()
            [-1.0]
        """
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    @torch.no_grad()
    def _apply_update(self, params: list[Tensor], grads: list[Tensor]) -> None:
        """Loss-scale division, accumulation, clipping, weight decay, update, EMA, iteration."""
        if self.loss_scale_factor is not None:
            torch._foreach_div_(grads, self.loss_scale_factor)
        if not self.gradient_accumulation_steps or self._accumulate(params, grads):
            lr = self.learning_rate
            self._clip(grads)
            if self.weight_decay:
                decay = (
                    self._decay_params
                    if params is self._params
                    else [p for p in params if self._use_weight_decay(p)]
                )
                if decay:
                    torch._foreach_mul_(decay, 1.0 - lr * self.weight_decay)
            self._update(params, grads, lr)
        if self.use_ema:
            # Every call, accumulation-only steps included (as Keras does).
            self._update_ema()
        self._iterations += 1

    def _accumulate(self, params: list[Tensor], grads: list[Tensor]) -> bool:
        """Gradient accumulation (see :func:`~kseq.optimizers.gradients.accumulate_gradients`)."""
        accs = self._slots(self._accumulators, params)
        return accumulate_gradients(
            accs, grads, self._iterations, self.gradient_accumulation_steps or 1
        )

    def _slots(self, state: list[Tensor], params: list[Tensor]) -> list[Tensor]:
        """The entries of a per-parameter state list for ``params`` (usually all of them)."""
        return state if params is self._params else self._matching(state, params)

    def _matching(self, state: list[Tensor], params: list[Tensor]) -> list[Tensor]:
        index = {id(p): i for i, p in enumerate(self._params)}
        return [state[index[id(p)]] for p in params]

    def _zeros_like_params(self, value: float = 0.0) -> list[Tensor]:
        """One new state tensor per bound tensor, filled with ``value``."""
        return [
            torch.full_like(p, value, memory_format=torch.preserve_format) for p in self._params
        ]

    def _clip(self, grads: list[Tensor]) -> None:
        clip_gradients(grads, self.clipnorm, self.global_clipnorm, self.clipvalue)

    def _update(self, params: list[Tensor], grads: list[Tensor], lr: float) -> None:
        raise NotImplementedError(f"Optimizer {type(self).__name__} must implement _update().")

    def _update_ema(self) -> None:
        momentum = self.ema_momentum if self.iterations != 0 else 0.0
        torch._foreach_lerp_(self._ema, self._params, 1.0 - momentum)
        freq = self.ema_overwrite_frequency
        if freq and (self.iterations + 1) % freq == 0:
            torch._foreach_copy_(self._params, self._ema)

    def finalize_variable_values(self, var_list: Iterable[Tensor] | None = None) -> None:
        """Write the EMA weights into the model (``fit`` calls this at the end when ``use_ema``)."""
        if self.use_ema and self._ema:
            with torch.no_grad():
                torch._foreach_copy_(self._params, self._ema)

    # ------------------------------------------------------------------- state
    @torch.no_grad()
    def move_state(self, device: torch.device) -> None:
        """Move the optimizer's state to ``device`` after the model's weights moved there (in
        place: the tensors keep their identity).

        Example:
            >>> from kseq.optimizers import SGD
            >>> w = torch.nn.Parameter(torch.ones(1)); opt = SGD(momentum=0.9); opt.build([w])
            >>> momentum = opt.variables[-1]
            >>> opt.move_state(torch.device("cpu")); opt.variables[-1] is momentum, momentum.device
            (True, device(type='cpu'))
        """
        for tensor in self._state_tensors() + self._accumulators + self._ema:
            if tensor.device != device:
                tensor.data = tensor.data.to(device)

    def _state_tensors(self) -> list[Tensor]:
        """The optimizer's own state, slot after slot (all momentums, then all velocities, ...),
        then any scalar state. ``variables`` reorders it as Keras does (``_keras_interleaved``)."""
        return []

    @property
    def variables(self) -> list[Tensor]:
        """Keras's optimizer variables, in Keras's order: ``iteration``, ``learning_rate`` (when a
        float), the EMA weights, the gradient accumulators, then the optimizer's own state.

        Tensors are in kseq's (torch) weight layout, e.g. ``(out, in)`` for a Dense kernel's slots.
        """
        head = [torch.tensor(self._iterations, dtype=torch.int32)]
        if not callable(self._learning_rate):
            head.append(torch.tensor(self.learning_rate, dtype=torch.float32))
        state = self._state_tensors()
        return (
            head
            + self._ema
            + self._accumulators
            + keras_order(state, len(self._params), self._keras_interleaved)
        )

    def state_dict(self) -> dict[str, Any]:
        """Tensors and numbers only (loadable with ``torch.load(weights_only=True)``)."""
        return {
            "iterations": self._iterations,
            "learning_rate": None if callable(self._learning_rate) else float(self._learning_rate),
            "state": [t.detach().clone() for t in self._state_tensors()],
            "accumulators": [t.detach().clone() for t in self._accumulators],
            "ema": [t.detach().clone() for t in self._ema],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (the optimizer must be built for the same weights)."""
        self._iterations = int(state["iterations"])
        if state.get("learning_rate") is not None and not callable(self._learning_rate):
            self._learning_rate = float(state["learning_rate"])
        copy_saved_state(self.name, "state", self._state_tensors(), state["state"])
        copy_saved_state(self.name, "accumulators", self._accumulators, state["accumulators"])
        copy_saved_state(self.name, "ema", self._ema, state["ema"])

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            lr = get_registered_name(lr)
        return {
            "name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
            "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency, "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }  # fmt: skip

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name} learning_rate={self._learning_rate!r}>"
