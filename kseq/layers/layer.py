"""``Layer``: a ``torch.nn.Module`` with Keras's build / shape / weights / config contract.

Two faces of one object (DESIGN.md):

* torch face: a plain ``nn.Module``. Built-in layers wrap real torch modules (``nn.Linear``,
  ``nn.Conv2d`` ...) created in ``build``; after build there is nothing lazy left, so ``state_dict``,
  ``torch.compile``, ``torch.export`` and DDP see ordinary modules.
* Keras face: ``build(input_shape)``, ``compute_output_shape``, ``get_weights``/``set_weights`` in
  Keras layout, ``weights``/``trainable_weights``/``non_trainable_weights``, ``trainable``, ``name``
  auto-naming, ``get_config``/``from_config``, ``losses``/``add_loss``, ``add_weight``.

A layer that is called before it is built builds itself from the first input's shape through a
one-shot forward pre-hook that removes itself, so the built layer's call path has no hooks.

Example:
    >>> import torch
    >>> from kseq.layers import Dense
    >>> layer = Dense(4)
    >>> layer(torch.ones(2, 3)).shape, layer.built, layer.count_params()
    (torch.Size([2, 4]), True, 16)
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from kseq import constraints as constraints_mod
from kseq import initializers as initializers_mod
from kseq import mixed_precision
from kseq import regularizers as regularizers_mod
from kseq.core.naming import auto_name

if TYPE_CHECKING:
    from kseq.variables import Variable

Shape = tuple[int | None, ...]
KerasView = Callable[[Tensor], Tensor]

__all__ = ["InputSpec", "Layer"]


def standardize_shape(shape: Any) -> Shape:
    """A tuple of ints / ``None`` from a list, tuple or ``torch.Size``.

    Example:
        >>> standardize_shape([None, 3])
        (None, 3)
    """
    if shape is None:
        raise ValueError("Undefined shapes are not supported.")
    if isinstance(shape, int):
        return (shape,)
    out = []
    for d in shape:
        if d is None:
            out.append(None)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool):
            if d < 0:
                raise ValueError(
                    f"Negative dimensions are not allowed. Received: shape={tuple(shape)}"
                )
            out.append(int(d))
        else:
            raise ValueError(
                f"Cannot convert '{tuple(shape)}' to a shape: {d!r} is not an int or None."
            )
    return tuple(out)


def format_shape(shape: Any) -> str:
    """Keras's text for a shape: ``(None, 64)``.

    Example:
        >>> format_shape((None, 64)), format_shape((None,))
        ('(None, 64)', '(None,)')
    """
    return str(tuple(shape))


def shape_of(x: Any) -> Any:
    """The batch-inclusive shape of a tensor/array, or a list of shapes for a list of them.

    Example:
        >>> shape_of(torch.zeros(2, 3))
        (2, 3)
    """
    if isinstance(x, (list, tuple)):
        return [shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: shape_of(v) for k, v in x.items()}
    return tuple(int(d) for d in x.shape)


class InputSpec:
    """What input a layer accepts: rank bounds and fixed axis sizes (Keras's ``InputSpec``).

    Example:
        >>> InputSpec(min_ndim=2, axes={-1: 8}).incompatibility((None, 4))
        'expected axis -1 of input shape to have value 8, but received input with shape (None, 4)'
    """

    def __init__(
        self,
        ndim: int | None = None,
        min_ndim: int | None = None,
        max_ndim: int | None = None,
        axes: dict[int, int] | None = None,
        shape: Shape | None = None,
    ) -> None:
        self.ndim, self.min_ndim, self.max_ndim = ndim, min_ndim, max_ndim
        self.axes = dict(axes or {})
        self.shape = shape
        if shape is not None:
            self.ndim = len(shape)

    def incompatibility(self, shape: Shape) -> str | None:
        """Why ``shape`` is not accepted (Keras's wording), or ``None`` when it is."""
        rank = len(shape)
        got = f"Full shape received: {format_shape(shape)}"
        if self.ndim is not None and rank != self.ndim:
            return f"expected ndim={self.ndim}, found ndim={rank}. {got}"
        if self.min_ndim is not None and rank < self.min_ndim:
            return f"expected min_ndim={self.min_ndim}, found ndim={rank}. {got}"
        if self.max_ndim is not None and rank > self.max_ndim:
            return f"expected max_ndim={self.max_ndim}, found ndim={rank}. {got}"
        for axis, value in self.axes.items():
            if -rank <= axis < rank and shape[axis] is not None and shape[axis] != value:
                return (
                    f"expected axis {axis} of input shape to have value {value}, "
                    f"but received input with shape {format_shape(shape)}"
                )
        if self.shape is not None:
            for spec_dim, dim in zip(self.shape, shape, strict=False):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    return f"expected shape={format_shape(self.shape)}, found shape={format_shape(shape)}"
        return None


def _lazy_build_hook(layer: Layer, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """One-shot forward pre-hook: build from the first input, then put new weights on its device."""
    x = args[0] if args else kwargs.get("inputs", next(iter(kwargs.values()), None))
    if x is None:
        raise ValueError(f"Layer '{layer.name}' was called without an input tensor.")
    layer._build_once(shape_of(x))
    first = x
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, Tensor):
        layer._to_device(first.device)


class Layer(nn.Module):
    """Base class of every kseq layer (and model): a ``torch.nn.Module`` with Keras's contract.

    Subclasses implement ``build(input_shape)`` (create torch modules / weights, Keras initializers),
    ``compute_output_shape(input_shape)`` (pure arithmetic), ``forward`` (plain torch on Keras-layout
    tensors) and ``get_config``. Keras-style user layers may implement ``call(inputs, training=None)``
    instead of ``forward``.

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
        # Keras semantics: outside `fit`, a layer runs in inference mode (`training=None` means
        # False). `fit` switches to training mode and back; hand-written loops call `model.train()`.
        self.training = False
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
        self._weight_regularizers: list[tuple[str, Any, KerasView]] = []
        self._weight_constraints: list[tuple[str, Any, KerasView]] = []
        self._build_input_shape: Any = None
        self._build_output_shape: Any = None
        self._input_shape_arg: Shape | None = None
        if input_shape is not None or input_dim is not None or batch_input_shape is not None:
            warnings.warn(
                "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential models, "
                "prefer using an `Input(shape)` object as the first layer in the model instead.",
                UserWarning,
                stacklevel=2,
            )
        if batch_input_shape is not None:
            self._input_shape_arg = standardize_shape(batch_input_shape)[1:]
        elif input_shape is not None:
            self._input_shape_arg = standardize_shape(input_shape)
        elif input_dim is not None:
            self._input_shape_arg = (int(input_dim),)
        self._input_batch_size = batch_size
        self._build_hook = self.register_forward_pre_hook(_lazy_build_hook, with_kwargs=True)
        if self.activity_regularizer is not None:
            self.register_forward_hook(_activity_regularization_hook)

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Any) -> None:
        """Create the layer's weights for ``input_shape`` (batch dim included). Default: no weights."""

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for ``input_shape`` (batch dim included), without running the layer."""
        return input_shape

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
        if not self.built:
            self._check_input(input_shape)
            self.build(input_shape)
        self._remove_build_hook()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Keras marks a layer built when its `build` returns, also when users call
        # `layer.build(shape)` themselves; wrap each class's own `build` once to do the same.
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_kseq_build_wrapper", False):
            cls.build = _wrap_build(build)  # type: ignore[method-assign]

    def _finish_build(self, input_shape: Any) -> None:
        """Bookkeeping after ``build``: mark built, record the shape, apply dtype and trainable."""
        self.built = True
        self.train(self.training)  # torch modules created in build take the layer's mode
        if input_shape is not None:
            self._build_input_shape = input_shape
        self._cast_own_floats()
        if not self._trainable:
            self.trainable = False
        self._adopt_weights()
        self._remove_build_hook()

    def _adopt_weights(self) -> None:
        """Give this layer's own torch parameters (``linear.weight``...) Keras's variable API in
        place (``.value``, ``.assign``, ``.numpy()``, ``.path``): they become :class:`kseq.Variable`
        instances, still the same ``nn.Parameter`` objects in the same layout."""
        from kseq.variables import Variable

        stack: list[tuple[str, nn.Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            for key, param in module._parameters.items():
                if param is not None and not isinstance(param, Variable):
                    Variable._adopt(param, name=key, path=f"{self.name}/{prefix}{key}")
            stack.extend(
                (f"{prefix}{name}.", child)
                for name, child in module.named_children()
                if not _holds_no_weights(child)
            )

    def _mark_built(self) -> None:
        """For layers without weights: built at construction, as Keras's ``_build_at_init``."""
        self.built = True
        self._remove_build_hook()

    def _remove_build_hook(self) -> None:
        if self._build_hook is not None:
            self._build_hook.remove()
            self._build_hook = None

    def _cast_own_floats(self) -> None:
        """Give this layer's own float weights its variable dtype (not its sublayers', which have
        their own policies, nor weights created with an explicit ``add_weight(dtype=...)``)."""
        dtype = self.dtype_policy.torch_variable_dtype
        with torch.no_grad():
            for t in self._own_tensors():
                if (
                    t.is_floating_point()
                    and t.dtype != dtype
                    and not getattr(t, "_kseq_explicit_dtype", False)
                ):
                    t.data = t.data.to(dtype)

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
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the layer. Keras-style subclasses implement ``call``; ``training`` defaults to
        ``self.training`` (set by ``model.train()``/``eval()`` or by ``fit``/``predict``)."""
        if type(self).call is Layer.call:
            raise NotImplementedError(
                f"Layer {type(self).__name__} does not implement forward() or call()."
            )
        if "training" not in kwargs and _call_takes(type(self), "training"):
            kwargs["training"] = self.training
        # A top-level call of a Keras-style layer also starts from no losses (Keras's rule).
        enter_model_call()
        try:
            return self.call(*args, **kwargs)
        finally:
            exit_model_call()

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """Keras-style computation; override this *or* ``forward``."""
        raise NotImplementedError

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor | None:
        """The mask this layer's output carries: the input mask when ``supports_masking``, else None."""
        return mask if self.supports_masking else None

    # -------------------------------------------------------------- weights
    def add_weight(
        self,
        shape: Sequence[int] | None = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> Variable:
        """Create a weight in Keras layout: a :class:`kseq.Variable`, i.e. an ``nn.Parameter``.

        As in Keras, ``initializer`` defaults to ``"glorot_uniform"`` for float weights and
        ``"zeros"`` otherwise, and ``dtype`` to the layer's variable dtype. Non-trainable weights are
        parameters with ``requires_grad=False`` (saved, moved and counted like Keras's
        non-trainable variables, never optimized; update them with ``assign``/``assign_add``).

        The weight is registered at once under its name (so weights kept in lists are tracked);
        ``self.w = self.add_weight(...)`` then re-registers it under ``w``, in place: one
        ``state_dict`` entry per weight, in creation order (Keras's weight order).

        Example:
            >>> layer = Layer(name="linear")
            >>> w = layer.add_weight(shape=(2, 3), initializer="ones", name="kernel")
            >>> tuple(w.shape), [n for n, _ in layer.named_parameters()], w.path
            ((2, 3), ['kernel'], 'linear/kernel')
        """
        from kseq.ops.dtypes import standardize_dtype, to_torch_dtype
        from kseq.variables import Variable

        if isinstance(shape, str):
            raise ValueError(
                f"`name` must be passed as a keyword argument. Received: add_weight('{shape}', ...). "
                f"Use: add_weight(shape=..., name='{shape}')."
            )
        shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
        dtype_name = standardize_dtype(dtype) if dtype is not None else self.variable_dtype
        if initializer is None:
            initializer = "glorot_uniform" if "float" in dtype_name else "zeros"
        init = initializers_mod.get(initializer)
        torch_dtype = to_torch_dtype(dtype_name)
        value = init(shape, dtype=torch_dtype) if callable(init) else init
        name = name or auto_name("Variable")
        weight = Variable._make(
            torch.as_tensor(value, dtype=torch_dtype).reshape(shape),
            trainable=trainable,
            name=name,
            path=f"{self.name}/{name}",
        )
        if dtype is not None:
            weight._kseq_explicit_dtype = True  # type: ignore[attr-defined]  # kept at build
        key = _unique_attr(self, name.replace(".", "_").replace("/", "_"))
        self.register_parameter(key, weight)
        self.track_weight(key, regularizer=regularizer, constraint=constraint)
        return weight

    def add_variable(
        self,
        shape: Sequence[int] | None = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        name: str | None = None,
    ) -> Variable:
        """Keras's alias of :meth:`add_weight` (for state such as counters or running sums).

        Example:
            >>> layer = Layer()
            >>> layer.add_variable((), initializer="zeros", trainable=False, name="count").trainable
            False
        """
        return self.add_weight(
            shape, initializer, dtype, trainable, regularizer, constraint, name=name
        )

    def __setattr__(self, name: str, value: Any) -> None:
        # `self.w = self.add_weight(...)`: the weight is already registered (under its Keras
        # name); move it to the attribute's name, keeping its place, instead of registering it
        # twice (torch would keep both names in `state_dict`).
        if isinstance(value, nn.Parameter):
            params = self.__dict__.get("_parameters")
            if params is not None and params.get(name) is not value:
                old = next((key for key, p in params.items() if p is value), None)
                if old is not None:
                    self._rename_weight(old, name)
        super().__setattr__(name, value)

    def _rename_weight(self, old: str, new: str) -> None:
        """Re-key the parameter ``old`` as ``new`` in place (regularizers/constraints follow)."""
        params = self._parameters
        if new in params:
            params.pop(old)
            return
        items = list(params.items())
        params.clear()
        params.update((new if key == old else key, p) for key, p in items)
        for tracked in (self._weight_regularizers, self._weight_constraints):
            tracked[:] = [(new if path == old else path, fn, view) for path, fn, view in tracked]

    def track_weight(
        self,
        path: str,
        regularizer: Any = None,
        constraint: Any = None,
        keras_view: KerasView | None = None,
    ) -> None:
        """Attach a Keras regularizer / constraint to the weight at ``path`` (e.g. ``"linear.weight"``).

        ``keras_view`` maps the torch tensor to its Keras-layout *view* (e.g. ``lambda w: w.T`` for
        ``nn.Linear.weight``) so penalties and projections see Keras's axes.
        """
        view = keras_view or _identity
        if (regularizer := regularizers_mod.get(regularizer)) is not None:
            self._weight_regularizers.append((path, regularizer, view))
        if (constraint := constraints_mod.get(constraint)) is not None:
            self._weight_constraints.append((path, constraint, view))

    def _own_modules(self) -> Iterator[nn.Module]:
        """This layer and its non-Layer descendants (child Layers report their own weights; metrics
        held as attributes, as in Keras's custom train steps, hold state but no weights)."""
        stack: list[nn.Module] = [self]
        while stack:
            module = stack.pop(0)
            yield module
            stack[0:0] = [m for m in module.children() if not _holds_no_weights(m)]

    def _own_tensors(self) -> list[Tensor]:
        """Own weights, Keras order: trainable-at-creation parameters, other parameters, buffers."""
        params = [p for m in self._own_modules() for p in m.parameters(recurse=False)]
        buffers = [
            b for m in self._own_modules() for n, b in m.named_buffers(recurse=False)
            if n not in m._non_persistent_buffers_set and n != "num_batches_tracked"
        ]  # fmt: skip
        trainable = [p for p in params if not getattr(p, "_kseq_non_trainable", False)]
        frozen = [p for p in params if getattr(p, "_kseq_non_trainable", False)]
        return trainable + frozen + buffers

    def _sublayers(self) -> list[Layer]:
        """Direct child Layers, in registration order (through non-Layer containers too)."""
        found: list[Layer] = []
        for module in self._own_modules():
            found.extend(m for m in module.children() if isinstance(m, Layer))
        return found

    def _flatten_layers(self) -> list[Layer]:
        """This layer and every Layer below it, depth first."""
        out: list[Layer] = [self]
        for child in self._sublayers():
            out.extend(child._flatten_layers())
        return out

    @property
    def weights(self) -> list[Tensor]:
        """Every weight (torch tensors, torch layout), trainable first, then sublayers' weights."""
        self._adopt_weights()
        out = self._own_tensors()
        for child in self._sublayers():
            out.extend(child.weights)
        return _unique(out)

    @property
    def trainable_weights(self) -> list[Tensor]:
        """The weights ``fit`` updates (empty when ``trainable`` is False)."""
        if not self.trainable:
            return []
        self._adopt_weights()
        own = [t for t in self._own_tensors() if isinstance(t, nn.Parameter) and t.requires_grad]
        for child in self._sublayers():
            own.extend(child.trainable_weights)
        return _unique(own)

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        """Frozen parameters and state buffers (e.g. BatchNorm moving statistics)."""
        trainable = {id(t) for t in self.trainable_weights}
        return [t for t in self.weights if id(t) not in trainable]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self) -> bool:
        """Freezing a layer (``trainable = False``) freezes its sublayers and stops gradient flow
        into its weights (``requires_grad=False``); BatchNormalization also switches to inference."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        for layer in self._flatten_layers():
            layer._trainable = value
            for t in layer._own_tensors():
                if isinstance(t, nn.Parameter) and not getattr(t, "_kseq_non_trainable", False):
                    t.requires_grad_(value)

    def count_params(self) -> int:
        """Number of scalars in ``weights``.

        Example:
            >>> from kseq.layers import Dense
            >>> layer = Dense(2); layer.build((None, 3)); layer.count_params()
            8
        """
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return sum(math.prod(t.shape) for t in self.weights)

    def get_weights(self) -> list[np.ndarray]:
        """Weights as NumPy arrays in **Keras layout** (layers whose torch layout differs override
        ``_get_own_weights``), own weights first, then sublayers'."""
        out = self._get_own_weights()
        for child in self._sublayers():
            out.extend(child.get_weights())
        return out

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load Keras-layout arrays (the format of ``get_weights`` and of Keras's own layers)."""
        weights = list(weights)
        expected = self.get_weights()
        if len(weights) != len(expected):
            raise ValueError(
                f"Layer {self.name} weight shape mismatch: you called `set_weights(weights)` on layer "
                f"'{self.name}' with a weight list of length {len(weights)}, but the layer was expecting "
                f"{len(expected)} weights."
            )
        for ref, new in zip(expected, weights, strict=True):
            if tuple(np.shape(new)) != ref.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {ref.shape} is not compatible with provided weight "
                    f"shape {tuple(np.shape(new))}."
                )
        n_own = len(self._get_own_weights())
        with torch.no_grad():
            self._set_own_weights([np.asarray(w) for w in weights[:n_own]])
        pos = n_own
        for child in self._sublayers():
            n = len(child.get_weights())
            child.set_weights(weights[pos : pos + n])
            pos += n

    def _get_own_weights(self) -> list[np.ndarray]:
        return [t.detach().cpu().numpy().copy() for t in self._own_tensors()]

    def _set_own_weights(self, arrays: list[np.ndarray]) -> None:
        for t, a in zip(self._own_tensors(), arrays, strict=True):
            t.copy_(torch.as_tensor(a, dtype=t.dtype))

    # --------------------------------------------------------------- losses
    def add_loss(self, loss: Tensor) -> None:
        """Add a scalar penalty (e.g. from ``call``) to the training loss, as Keras's ``add_loss``.

        Losses belong to the current top-level model call: the next top-level call of any kseq
        model starts from none (Keras's rule), so repeated direct calls never accumulate them.
        """
        if not self._losses:
            _PENDING_LOSSES.append(self)
        self._losses.append(loss)

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

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            layer._losses.clear()

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
        return {"input_shape": _jsonable_shape(self._build_input_shape)}

    def build_from_config(self, config: dict[str, Any] | None) -> None:
        """Build from a ``get_build_config()`` dict."""
        if config and config.get("input_shape") is not None:
            shape = config["input_shape"]
            self._build_once(shape if shape and isinstance(shape[0], list) else tuple(shape))

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _wrap_build(build: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(build)
    def wrapper(self: Layer, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_building", False):  # a subclass's build calling super().build()
            return build(self, *args, **kwargs)
        self._building = True
        try:
            result = build(self, *args, **kwargs)
        finally:
            self._building = False
        input_shape = args[0] if args else kwargs.get("input_shape")
        if input_shape is not None and not isinstance(input_shape, (list, dict)):
            input_shape = standardize_shape(input_shape)
        self._finish_build(input_shape)
        return result

    wrapper._kseq_build_wrapper = True  # type: ignore[attr-defined]
    return wrapper


def _activity_regularization_hook(layer: Layer, args: tuple[Any, ...], output: Any) -> None:
    if isinstance(output, Tensor):
        # Keras divides the activity penalty by the batch size.
        layer.add_loss(layer.activity_regularizer(output) / output.shape[0])


# Layers holding losses added during the current top-level model call, and how deep we are in
# nested model calls (only the outermost call starts a fresh set of losses).
_PENDING_LOSSES: list[Layer] = []
_CALL_DEPTH = [0]


def enter_model_call() -> None:
    """Called by ``Sequential``/``Model.forward`` on entry: a top-level call forgets old losses."""
    if _CALL_DEPTH[0] == 0 and _PENDING_LOSSES:
        for layer in _PENDING_LOSSES:
            layer._losses = []
        _PENDING_LOSSES.clear()
    _CALL_DEPTH[0] += 1


def pending_losses() -> list[Layer]:
    """Layers holding losses added during the current (or last) top-level model call."""
    return _PENDING_LOSSES


def exit_model_call() -> None:
    """Called by ``Sequential``/``Model.forward`` on exit (in a ``finally``)."""
    _CALL_DEPTH[0] -= 1


def _holds_no_weights(module: nn.Module) -> bool:
    """Child modules whose tensors are not this layer's own weights: Layers (they report their
    own) and metrics (their state is not a weight, as in Keras)."""
    return isinstance(module, Layer) or getattr(module, "_kseq_metric", False)


def _identity(t: Tensor) -> Tensor:
    return t


def _unique(tensors: list[Tensor]) -> list[Tensor]:
    seen: set[int] = set()
    out = []
    for t in tensors:
        if id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def _unique_attr(module: nn.Module, base: str) -> str:
    name, i = base, 0
    while hasattr(module, name):
        i += 1
        name = f"{base}_{i}"
    return name


def _jsonable_shape(shape: Any) -> Any:
    if isinstance(shape, list):
        return [_jsonable_shape(s) for s in shape]
    return list(shape)


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


Layer.build = _wrap_build(Layer.build)  # type: ignore[method-assign]
