"""``Layer``: a ``torch.nn.Module`` with Keras's build / shape / weights / config contract.

Two faces of one object (DESIGN.md):

* torch face: a plain ``nn.Module``. Built-in layers wrap real torch modules (``nn.Linear``,
  ``nn.Conv2d`` ...) created in ``build``; after build there is nothing lazy left, so ``state_dict``,
  ``torch.compile``, ``torch.export`` and DDP see ordinary modules.
* Keras face: ``build(input_shape)``, ``compute_output_shape``, ``get_weights``/``set_weights`` in
  Keras layout, ``weights``/``trainable_weights``/``non_trainable_weights``, ``trainable``, ``name``
  auto-naming, ``get_config``/``from_config``, ``losses``/``add_loss``, ``add_weight``.

This module holds the contract: construction, the build/shape/call methods, losses and config.
The pieces live next to it: ``shapes`` (``Shape``, ``InputSpec``), ``weights`` (the Keras-weights
face, :class:`~kseq.layers.weights.LayerWeights`, this class's base), ``build`` (the lazy build hook
and the one place a build finishes) and ``loss_collection`` (whose losses belong to which call).

Example:
    >>> import torch
    >>> from kseq.layers import Dense
    >>> layer = Dense(4)
    >>> layer(torch.ones(2, 3)).shape, layer.built, layer.count_params()
    (torch.Size([2, 4]), True, 16)
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from kseq import mixed_precision
from kseq import regularizers as regularizers_mod
from kseq.core.naming import auto_name
from kseq.core.shapes import InputSpec, Shape, jsonable_shape, legacy_input_shape
from kseq.core.shapes import format_shape as format_shape  # re-exported for existing imports
from kseq.core.shapes import shape_of as shape_of
from kseq.core.shapes import standardize_shape as standardize_shape
from kseq.layers.build import build_once, finishing_build, lazy_build_hook, mark_built
from kseq.layers.entrance import convert_inputs
from kseq.layers.loss_collection import MODEL_CALL_LOSSES, activity_regularization_hook
from kseq.layers.shape_probe import probe_output_shape
from kseq.layers.symbolic import is_symbolic, layer_input, layer_output, symbolic_call
from kseq.layers.weights import LayerWeights

__all__ = ["InputSpec", "Layer"]


class Layer(LayerWeights):
    """Base class of every kseq layer (and model): a ``torch.nn.Module`` with Keras's contract.

    Subclasses implement ``build(input_shape)`` (create torch modules / weights, Keras initializers),
    ``compute_output_shape(input_shape)`` (pure arithmetic), ``call`` (plain torch on Keras-layout
    tensors) and ``get_config``. ``forward`` is the torch entrance that runs ``call``; torch-style user
    layers may override ``forward`` instead.

    Args:
        name: Layer name; Keras auto-naming (``dense``, ``dense_1``, ...) when omitted.
        dtype: Dtype policy name (``"float32"``, ``"float64"``, ``"mixed_float16"``...) or torch dtype.
        trainable: Whether the weights are updated by ``fit``.
        activity_regularizer: Penalty on the layer's output, added to ``losses``.
        input_shape: Legacy Keras argument: the first layer of a ``Sequential`` builds the model.
        input_dim: Legacy shorthand for ``input_shape=(input_dim,)``.

    Example:
        >>> class Double(Layer):
        ...     def call(self, inputs):
        ...         return inputs * 2
        >>> Double()(torch.ones(1))
        tensor([2.])
    """

    supports_masking: ClassVar[bool] = False
    # What `training=None` means when nothing set a mode (Keras's `call(..., training=...)` default).
    default_training: ClassVar[bool] = False
    # Whether `call` is kseq's own (set per class): `forward` then calls it with no bookkeeping.
    _builtin_call: ClassVar[bool] = False

    def __init__(
        self,
        *,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        activity_regularizer: Any = None,
        input_shape: Sequence[int | None] | None = None,
        input_dim: int | None = None,
        batch_input_shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        # Keras semantics: outside `fit`, `training=None` means the layer's own default (inference
        # but for the Random* augmentation layers; see modes.py). `fit` switches to training mode
        # and back; hand-written loops call `model.train()`.
        self.training = type(self).default_training
        if kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        self.name = name or auto_name(type(self).__name__)
        self.built = False
        self._trainable = bool(trainable)
        self.autocast = autocast
        self.dtype_policy = mixed_precision.get(dtype)
        self.activity_regularizer = regularizers_mod.get(activity_regularizer)
        self.input_spec: InputSpec | None = None
        self._losses: list[Tensor] = []
        self._build_input_shape: Any = None
        self._build_output_shape: Any = None
        self._input_shape_arg: Shape | None = legacy_input_shape(
            input_shape, input_dim, batch_input_shape
        )
        self._input_batch_size = batch_size
        self._build_hook = self.register_forward_pre_hook(lazy_build_hook, with_kwargs=True)
        if self.activity_regularizer is not None:
            self.register_forward_hook(activity_regularization_hook)

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Any) -> None:
        """Create the layer's weights for ``input_shape`` (batch dim included). Default: no weights."""

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for ``input_shape`` (batch dim included). kseq's layers compute it;
        a user layer that does not override this is run once on zeros (``shape_probe.py``), as
        Keras runs it symbolically."""
        if type(self).__module__.startswith("kseq."):
            return input_shape
        return probe_output_shape(self, input_shape)

    def build_from_shape(self, input_shape: Any) -> Any:
        """Check ``input_shape`` against this layer, build once, and return the output shape.

        ``Sequential`` calls this at ``add()`` time; it raises ``ValueError`` with Keras's wording
        when the shape cannot be taken (``Sequential`` adds both layers' names to the message).
        """
        if not isinstance(input_shape, list):
            input_shape = standardize_shape(input_shape)
        self._check_input(input_shape)
        self._build_once(input_shape)
        output_shape = self.compute_output_shape(input_shape)
        self._build_output_shape = output_shape
        return output_shape

    def _check_input(self, input_shape: Any) -> None:
        if self.input_spec is not None and not isinstance(input_shape, list):
            problem = self.input_spec.incompatibility(input_shape)
            if problem:
                raise ValueError(
                    f'Input 0 of layer "{self.name}" is incompatible with the layer: {problem}'
                )

    def _build_once(self, input_shape: Any) -> None:
        build_once(self, input_shape)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A layer is built when its `build` returns, also when called directly (see `build.py`).
        super().__init_subclass__(**kwargs)
        call = cls.call
        code = getattr(call, "__code__", None)
        cls._builtin_call = (
            call is not Layer.call
            and code is not None
            and code.co_filename.startswith(_KSEQ_DIR)  # kseq's source, not a doctest or a user's
        )
        if "build" in cls.__dict__:
            cls.build = finishing_build(cls.__dict__["build"])  # type: ignore[method-assign]

    def _mark_built(self) -> None:
        """For layers without weights: built at construction, as Keras's ``_build_at_init``."""
        mark_built(self)

    def _remove_build_hook(self) -> None:
        if self._build_hook is not None:
            self._build_hook.remove()
            self._build_hook = None

    def _seeded_generator(self, device: torch.device) -> torch.Generator | None:
        """This layer's private generator on ``device`` when it has a ``seed`` (reproducible draws,
        independent of the global RNG; it advances with every call), else ``None`` (global RNG)."""
        seed = getattr(self, "seed", None)
        if seed is None:
            return None
        generator = self.__dict__.get("_generator")
        if generator is None or generator.device != device:
            generator = torch.Generator(device=device).manual_seed(seed)
            self._generator = generator
        return generator

    def _to_device(self, device: torch.device) -> None:
        if any(t.device != device for t in self._own_tensors()):
            self.to(device)

    # ----------------------------------------------------------------- call
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Symbolic inputs (KerasTensors: a functional graph being built) go to `symbolic.py`;
        # NumPy / lists / scalars become tensors once, before the build and `call` (entrance.py).
        if args and not isinstance(args[0], Tensor):
            if is_symbolic(args[0]):
                return symbolic_call(self, args, kwargs)
            args = (convert_inputs(self, args[0]), *args[1:])
        return super().__call__(*args, **kwargs)

    input = property(layer_input, doc="The input tensor(s) of the layer's first symbolic call.")
    output = property(layer_output, doc="The output tensor(s) of the layer's first symbolic call.")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The one torch entrance: runs ``call``. Built-in layers implement Keras's ``call`` (their
        ``training=None`` means ``self.training``, set by ``model.train()``/``eval()`` or by
        ``fit``/``predict``), so a subclass may override ``call`` and use ``super().call(...)``.
        For a user-written ``call`` taking ``training``, ``training`` defaults to ``self.training``."""
        if type(self)._builtin_call:  # kseq's own `call`: straight through (the fit hot path)
            return self.call(*args, **kwargs)
        if type(self).call is Layer.call:
            raise NotImplementedError(
                f"Layer {type(self).__name__} does not implement forward() or call()."
            )
        if "training" not in kwargs and _call_takes(type(self), "training"):
            kwargs["training"] = self.training
        # A top-level call of a Keras-style layer also starts from no losses (Keras's rule).
        MODEL_CALL_LOSSES.open()
        try:
            return self.call(*args, **kwargs)
        finally:
            MODEL_CALL_LOSSES.close()

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """Keras-style computation; override this *or* ``forward``."""
        raise NotImplementedError

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor | None:
        """The mask this layer's output carries: the input mask when ``supports_masking``, else None."""
        return mask if self.supports_masking else None

    # --------------------------------------------------------------- losses
    def add_loss(self, loss: Tensor) -> None:
        """Add a scalar penalty (e.g. from ``call``) to the training loss, as Keras's ``add_loss``.

        Losses belong to the current top-level model call: the next top-level call of any kseq
        model starts from none (Keras's rule), so repeated direct calls never accumulate them.
        """
        MODEL_CALL_LOSSES.add(self, loss)

    @property
    def losses(self) -> list[Tensor]:
        """Current penalties, in Keras's order: the losses added during the last forward pass
        (``add_loss``, activity regularization) by this layer then its sublayers, then the weight
        regularization penalties (computed now)."""
        layers = self._flatten_layers()
        out: list[Tensor] = [loss for layer in layers for loss in layer._losses]
        for layer in layers:
            for path, regularizer, view in layer._weight_regularizers:
                out.append(regularizer(view(layer.get_parameter(path))))
        return out

    def __getstate__(self) -> dict[str, Any]:
        # Losses of the last call are transient graph tensors: copies and pickles start without.
        state = super().__getstate__()
        state["_losses"] = []
        return state

    # --------------------------------------------------------------- config
    @property
    def dtype(self) -> str:
        """Variable dtype name (``"float32"``), as Keras's ``layer.dtype``."""
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    @property
    def output_shape(self) -> Any:
        """The output shape this layer was built to produce (batch dim ``None``)."""
        if self._build_output_shape is None:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined output shape."
            )
        return self._build_output_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as a JSON-able dict (Keras's layer config format)."""
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": mixed_precision.serialize(self.dtype_policy),
        }
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers_mod.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Instantiate from ``get_config()`` output."""
        return cls(**config)

    def get_build_config(self) -> dict[str, Any] | None:
        """The shape the layer was built with (Keras ``build_config``)."""
        if self._build_input_shape is None:
            return None
        return {"input_shape": jsonable_shape(self._build_input_shape)}

    def build_from_config(self, config: dict[str, Any] | None) -> None:
        """Build from a ``get_build_config()`` dict."""
        if config and config.get("input_shape") is not None:
            shape = config["input_shape"]
            self._build_once(shape if shape and isinstance(shape[0], list) else tuple(shape))

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


_KSEQ_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

_CALL_ARGS: dict[type, frozenset[str]] = {}


def _call_takes(cls: type, arg: str) -> bool:
    """Whether ``cls.call`` accepts keyword ``arg`` (cached per class)."""
    names = _CALL_ARGS.get(cls)
    if names is None:
        params = inspect.signature(cls.call).parameters
        names = frozenset(params)
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            names = names | {"training", "mask"}
        _CALL_ARGS[cls] = names
    return arg in names


Layer.build = finishing_build(Layer.build)  # type: ignore[method-assign]
