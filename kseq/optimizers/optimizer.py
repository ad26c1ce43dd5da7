"""``Optimizer``: Keras's optimizer arguments and update order on top of torch tensors.

Keras semantics kept here, in this order, at every step (``keras/src/optimizers/base_optimizer.py``):

1. gradient accumulation (``gradient_accumulation_steps``),
2. clipping: ``clipnorm`` per tensor, ``global_clipnorm`` over all, or ``clipvalue``,
3. decoupled weight decay for every optimizer: ``var -= var * weight_decay * lr``,
4. the optimizer's own update (torch's fused/foreach kernels where they match Keras's formula,
   hand-written ``torch._foreach_*`` updates where they don't),
5. EMA of the weights (``use_ema``), 6. ``iterations += 1``.

The learning rate is a float or a step-based schedule evaluated on ``iterations`` on the host, so
no step needs a device sync.

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

import math
import warnings
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from kseq.optimizers import schedules
from kseq.utils.naming import auto_name


class Optimizer:
    """Base class. Subclasses implement ``_create_state()`` and ``_update(params, grads, lr)``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` (called with ``iterations``) or a
            zero-argument callable.
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
    """

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
        if kwargs.pop("decay", None) is not None:
            warnings.warn(
                "Argument `decay` is no longer supported and will be ignored.", stacklevel=2
            )
        if "lr" in kwargs:
            raise ValueError(
                f"Argument(s) not recognized: {kwargs}. The Keras 2 argument `lr` is now "
                f"`learning_rate`: write {type(self).__name__}(learning_rate={kwargs['lr']!r})."
            )
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        if gradient_accumulation_steps is not None and not gradient_accumulation_steps >= 2:
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema and not 0 <= ema_momentum <= 1:
            raise ValueError(
                f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}"
            )
        self.name = name or auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum = use_ema, ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._learning_rate: Any = _check_learning_rate(learning_rate)
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
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self._iterations))
        if callable(lr):
            return float(lr())
        return float(lr)

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
        self._learning_rate = _check_learning_rate(value)

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
        """Bind the optimizer to the trainable tensors and create its state."""
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
        self._exclude_ids = {id(v) for v in var_list or ()}
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

    @torch.no_grad()
    def step(self) -> None:
        """Apply one update from the ``.grad`` of the bound tensors (Keras's ``apply``)."""
        if not self.built:
            raise ValueError(
                "The optimizer is not built: call `optimizer.build(model.trainable_weights)` first."
            )
        params = self._params
        grads = [p.grad for p in params]
        if any(g is None for g in grads):
            pairs = [(p, g) for p, g in zip(params, grads, strict=True) if g is not None]
            if not pairs:
                raise ValueError("No gradients provided for any variable.")
            params, grads = [p for p, _ in pairs], [g for _, g in pairs]
        if self.loss_scale_factor is not None:
            torch._foreach_div_(grads, self.loss_scale_factor)
        if self.gradient_accumulation_steps:
            n = self.gradient_accumulation_steps
            accs = (
                self._accumulators
                if params is self._params
                else self._matching(self._accumulators, params)
            )
            if (self._iterations + 1) % n != 0:
                torch._foreach_add_(accs, grads)
                self._iterations += 1
                return
            torch._foreach_add_(grads, accs)
            torch._foreach_div_(grads, n)
            torch._foreach_zero_(accs)
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
            self._update_ema()
        self._iterations += 1

    def _matching(self, state: list[Tensor], params: list[Tensor]) -> list[Tensor]:
        index = {id(p): i for i, p in enumerate(self._params)}
        return [state[index[id(p)]] for p in params]

    def _clip(self, grads: list[Tensor]) -> None:
        if self.clipnorm and self.clipnorm > 0:
            norms = torch._foreach_norm(grads)
            # Keras: g * clipnorm / max(norm, clipnorm), per tensor.
            scales = torch._foreach_div(torch._foreach_maximum(norms, self.clipnorm), self.clipnorm)
            torch._foreach_div_(grads, scales)
        elif self.global_clipnorm and self.global_clipnorm > 0:
            total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            torch._foreach_mul_(
                grads, self.global_clipnorm / torch.clamp(total, min=self.global_clipnorm)
            )
        elif self.clipvalue and self.clipvalue > 0:
            torch._foreach_clamp_min_(grads, -self.clipvalue)
            torch._foreach_clamp_max_(grads, self.clipvalue)

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
    def _state_tensors(self) -> list[Tensor]:
        """Per-parameter state in Keras's variable order (subclasses)."""
        return []

    @property
    def variables(self) -> list[Tensor]:
        """Keras's optimizer variables: ``iteration``, ``learning_rate`` (when a float), then state."""
        head = [torch.tensor(self._iterations, dtype=torch.int64)]
        if not callable(self._learning_rate):
            head.append(torch.tensor(self.learning_rate, dtype=torch.float32))
        extra = self._accumulators + self._ema
        return head + self._state_tensors() + extra

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
        with torch.no_grad():
            for name, saved in (
                ("state", state["state"]),
                ("accumulators", state["accumulators"]),
                ("ema", state["ema"]),
            ):
                current = self._state_tensors() if name == "state" else getattr(self, f"_{name}")
                if len(current) != len(saved):
                    raise ValueError(
                        f"Optimizer '{self.name}' has {len(current)} {name} tensors but the saved state has "
                        f"{len(saved)}: was it saved for a different model or optimizer?"
                    )
                for dst, src in zip(current, saved, strict=True):
                    dst.copy_(src)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            from kseq.saving.object_registration import get_registered_name

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


class TorchOptimizer(Optimizer):
    """Adapter: a ready-made ``torch.optim.Optimizer`` passed to ``compile(optimizer=...)``.

    Its parameter groups are used as they are; ``learning_rate`` reads and writes every group's
    ``lr`` (so ``ReduceLROnPlateau`` and friends work).

    Example:
        >>> import torch
        >>> w = torch.nn.Parameter(torch.ones(1))
        >>> opt = TorchOptimizer(torch.optim.SGD([w], lr=0.5))
        >>> opt.learning_rate
        0.5
    """

    def __init__(self, optimizer: torch.optim.Optimizer, name: str | None = None) -> None:
        super().__init__(learning_rate=float(optimizer.param_groups[0]["lr"]), name=name)
        self.torch_optimizer = optimizer

    @property
    def learning_rate(self) -> float:
        return float(self.torch_optimizer.param_groups[0]["lr"])

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        for group in self.torch_optimizer.param_groups:
            group["lr"] = float(value)

    def build(self, variables: Iterable[Tensor]) -> None:
        self._params = [p for g in self.torch_optimizer.param_groups for p in g["params"]]
        self.built = True

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.torch_optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.torch_optimizer.step()
        self._iterations += 1

    def _state_tensors(self) -> list[Tensor]:
        return [
            t for state in self.torch_optimizer.state.values() for k, t in state.items()
            if isinstance(t, Tensor) and k != "step"
        ]  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        return {"iterations": self._iterations, "torch": self.torch_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._iterations = int(state["iterations"])
        self.torch_optimizer.load_state_dict(state["torch"])

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            "A raw torch.optim optimizer cannot be saved in a model config; pass a kseq optimizer "
            "(e.g. kseq.optimizers.Adam) to compile() to save the optimizer with the model."
        )


def _check_learning_rate(value: Any) -> Any:
    if isinstance(value, schedules.LearningRateSchedule) or callable(value):
        return value
    if isinstance(value, Tensor):
        value = value.item()  # host sync: once, when the user sets a tensor learning rate
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a callable "
            "(that takes in the current iteration value and returns the corresponding learning rate value). "
            f"Received instead: learning_rate={value!r}"
        )
    return float(value)
