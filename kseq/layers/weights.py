"""The Keras-weights face of a layer: ``add_weight``, ``weights``/``trainable_weights``,
``trainable``, ``count_params`` and ``get_weights``/``set_weights`` in Keras layout.

:class:`LayerWeights` is the ``nn.Module`` that :class:`kseq.layers.Layer` builds on. A layer has
two faces over one set of torch tensors: ``parameters()``/``state_dict()`` are torch's (torch
layout, torch names), ``weights``/``variables``/``trainable_weights`` and the named attributes
(``kernel``, ``moving_mean``...) are Keras's: :class:`kseq.Variable` items in Keras layout, with
Keras's names, paths and order, built from the layer's :class:`~kseq.layers.weight_views.KerasWeight`
specs only when read (see :mod:`kseq.layers.weight_views`); ``fit`` trains the torch face and never
builds them. Weights whose torch layout already is Keras's are the ``nn.Parameter`` objects
themselves, which carry Keras's variable API because they are :class:`kseq.Variable` instances,
either created so (``add_weight``) or given that API once when their layer finishes its build
(``kseq.layers.build``).

A weight made by ``add_weight`` is registered at once under its Keras name, so a weight kept in a
list is tracked, and ``self.kernel`` finds a weight that was never assigned. ``self.w =
self.add_weight(...)`` registers it again under ``w`` (``nn.Module``'s own ``__setattr__``, which
kseq does not override); :func:`settle_weight_names` then keeps one name per weight, the
attribute's, in the Keras name's place (creation order, Keras's weight order). It runs when the
next weight is created and when the build finishes, so a built layer's ``state_dict`` has one entry
per weight; a weight created and assigned outside ``build`` (in ``__init__``) keeps both names
until the layer's first build or call, except in ``state_dict``/``load_state_dict``, which settle
them first.

Example:
    >>> from kseq.layers import Dense
    >>> layer = Dense(2); layer.build((None, 3))
    >>> [tuple(w.shape) for w in layer.weights], [a.shape for a in layer.get_weights()]
    ([(3, 2), (2,)], [(3, 2), (2,)])
    >>> [tuple(p.shape) for p in layer.parameters()]  # the torch face
    [(2, 3), (2,)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from kseq import constraints as constraints_mod
from kseq import initializers as initializers_mod
from kseq import regularizers as regularizers_mod
from kseq.core.naming import auto_name
from kseq.layers.weight_views import KerasWeight, keras_variables
from kseq.ops.dtypes import standardize_dtype, to_torch_dtype
from kseq.variables import Variable

__all__ = ["KerasView", "LayerWeights", "holds_no_weights", "settle_weight_names"]

KerasView = Callable[[Tensor], Tensor]


class LayerWeights(nn.Module):
    """An ``nn.Module`` with Keras's weight API (the base of :class:`kseq.layers.Layer`).

    Example:
        >>> from kseq.layers import Layer
        >>> layer = Layer(name="l")
        >>> w = layer.add_weight(shape=(2,), initializer="ones", name="w")
        >>> layer.weights == [w], layer.trainable_weights == [w]
        (True, True)
    """

    name: str
    built: bool
    variable_dtype: str
    _trainable: bool

    def __init__(self) -> None:
        super().__init__()
        # (path, regularizer / constraint, Keras-layout view) per tracked weight
        self._weight_regularizers: list[tuple[str, Any, KerasView]] = []
        self._weight_constraints: list[tuple[str, Any, KerasView]] = []

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
        after ``self.w = self.add_weight(...)`` the build's finish keeps it under ``w`` only, in
        place: one ``state_dict`` entry per weight, in creation order (Keras's weight order).

        Example:
            >>> from kseq.layers import Layer
            >>> layer = Layer(name="linear")
            >>> w = layer.add_weight(shape=(2, 3), initializer="ones", name="kernel")
            >>> tuple(w.shape), [n for n, _ in layer.named_parameters()], w.path
            ((2, 3), ['kernel'], 'linear/kernel')
        """
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
        settle_weight_names(self)  # the previous weight may have been assigned by now
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
            >>> from kseq.layers import Layer
            >>> layer = Layer()
            >>> layer.add_variable((), initializer="zeros", trainable=False, name="count").trainable
            False
        """
        return self.add_weight(
            shape, initializer, dtype, trainable, regularizer, constraint, name=name
        )

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

        Example:
            >>> from kseq.layers import Layer
            >>> layer = Layer(); _ = layer.add_weight(shape=(2,), name="w")
            >>> layer.track_weight("w", regularizer="l2"); len(layer.losses)
            1
        """
        view = keras_view or _identity
        if (regularizer := regularizers_mod.get(regularizer)) is not None:
            self._weight_regularizers.append((path, regularizer, view))
        if (constraint := constraints_mod.get(constraint)) is not None:
            self._weight_constraints.append((path, constraint, view))

    # A weight created and assigned outside `build` (in `__init__`) still has two names until the
    # layer is built; torch's save and load see its one name already.
    def _save_to_state_dict(
        self, destination: dict[str, Any], prefix: str, keep_vars: bool
    ) -> None:
        settle_weight_names(self)
        super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any) -> None:
        settle_weight_names(self)
        super()._load_from_state_dict(state_dict, prefix, *args)

    # ------------------------------------------------------------- own state
    def _own_modules(self) -> Iterator[nn.Module]:
        """This layer and its non-Layer descendants (child Layers report their own weights; metrics
        held as attributes, as in Keras's custom train steps, hold state but no weights)."""
        stack: list[nn.Module] = [self]
        while stack:
            module = stack.pop(0)
            yield module
            stack[0:0] = [m for m in module.children() if not holds_no_weights(m)]

    def _own_named_tensors(self) -> list[tuple[str, Tensor]]:
        """Own weights with their paths, Keras order: trainable-at-creation parameters, other
        parameters, persistent buffers."""
        params: list[tuple[str, Tensor]] = []
        buffers: list[tuple[str, Tensor]] = []
        stack: list[tuple[str, nn.Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop(0)
            params.extend((prefix + n, p) for n, p in module._parameters.items() if p is not None)
            buffers.extend(
                (prefix + n, b) for n, b in module._buffers.items()
                if b is not None and n not in module._non_persistent_buffers_set
                and n != "num_batches_tracked"
            )  # fmt: skip
            stack[0:0] = [
                (f"{prefix}{n}.", m) for n, m in module.named_children() if not holds_no_weights(m)
            ]
        seen: set[int] = set()
        unique = []
        for path, t in params:
            if id(t) not in seen:
                seen.add(id(t))
                unique.append((path, t))
        trainable = [(n, p) for n, p in unique if not getattr(p, "_kseq_non_trainable", False)]
        frozen = [(n, p) for n, p in unique if getattr(p, "_kseq_non_trainable", False)]
        return trainable + frozen + buffers

    def _own_tensors(self) -> list[Tensor]:
        """Own torch tensors (the torch face of ``weights``), in :meth:`_own_named_tensors` order."""
        return [t for _, t in self._own_named_tensors()]

    # Keras names of torch tensors whose layout already is Keras's (``{"embedding.weight":
    # "embeddings"}``); layers whose layout differs override ``_keras_weight_specs``.
    _keras_names: ClassVar[dict[str, str]] = {}

    def _keras_weight_specs(self) -> list[KerasWeight]:
        """This layer's own Keras weights, in Keras's order (see :mod:`kseq.layers.weight_views`)."""
        specs = []
        for path, t in self._own_named_tensors():
            name = self._keras_names.get(path)
            if name is None:
                made_here = isinstance(t, Variable) and not getattr(t, "_kseq_adopted", False)
                name = t.name if made_here else path
            specs.append(KerasWeight(name, (path,)))
        return specs

    # The names of the wrappers that own this layer, as Keras's variable paths show them
    # (``"bidirectional/"`` for a ``Bidirectional``'s ``forward_lstm``); see ``_scope_sublayer``.
    _kseq_path_scope: str = ""

    def _keras_variable_prefix(self) -> str:
        """Where Keras puts this layer's variables (``"lstm/lstm_cell"`` for recurrent layers)."""
        return self._kseq_path_scope + self.name

    def _scope_sublayer(self, layer: LayerWeights) -> None:
        """Put ``layer``'s variable paths (and its sublayers') under this layer's name, as Keras
        does for the layers a wrapper builds (``bidirectional/forward_lstm/lstm_cell/kernel``)."""
        for module in layer.modules():
            if isinstance(module, LayerWeights):
                module._kseq_path_scope = f"{self._kseq_path_scope}{self.name}/" + (
                    module._kseq_path_scope
                )

    def _own_keras_variables(self) -> list[Variable]:
        return keras_variables(self, self._keras_weight_specs(), self._keras_variable_prefix())

    def _keras_weight(self, name: str) -> Variable:
        """The own Keras weight called ``name`` (``layer.kernel`` and friends)."""
        specs = [s for s in self._keras_weight_specs() if s.name == name]
        found = keras_variables(self, specs, self._keras_variable_prefix()) if specs else []
        if not found:  # no such weight, or not created yet (an unbuilt layer)
            raise AttributeError(f"Layer '{self.name}' has no weight '{name}'.")
        return found[0]

    def _sublayers(self) -> list[LayerWeights]:
        """Direct child Layers, in registration order (through non-Layer containers too)."""
        found: list[LayerWeights] = []
        for module in self._own_modules():
            found.extend(m for m in module.children() if isinstance(m, LayerWeights))
        return found

    def _flatten_layers(self) -> list[LayerWeights]:
        """This layer and every Layer below it, depth first."""
        out: list[LayerWeights] = [self]
        for child in self._sublayers():
            out.extend(child._flatten_layers())
        return out

    # ------------------------------------------------------------ the lists
    @property
    def weights(self) -> list[Variable]:
        """Every weight as a :class:`kseq.Variable` in **Keras layout**, with Keras's names and
        order (own weights, trainable ones first, then sublayers'); see
        :mod:`kseq.layers.weight_views`. ``parameters()`` is the torch-layout face.

        Example:
            >>> from kseq.layers import LSTM
            >>> lstm = LSTM(8); lstm.build((None, 5, 3))
            >>> [(w.name, tuple(w.shape)) for w in lstm.weights]
            [('kernel', (3, 32)), ('recurrent_kernel', (8, 32)), ('bias', (32,))]
        """
        out = self._own_keras_variables()
        for child in self._sublayers():
            out.extend(child.weights)
        return _unique(out)  # type: ignore[return-value]

    @property
    def trainable_weights(self) -> list[Variable]:
        """The weights optimizers update (Keras layout; empty when ``trainable`` is False)."""
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """Frozen weights and state (e.g. BatchNorm's moving statistics), Keras layout."""
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def _torch_weights(self) -> list[Tensor]:
        """The torch tensors behind ``weights`` (own, then sublayers'), torch layout."""
        out = self._own_tensors()
        for child in self._sublayers():
            out.extend(child._torch_weights())
        return _unique(out)

    def _torch_trainable_weights(self) -> list[Tensor]:
        """The torch parameters ``fit`` trains, in Keras's variable order (torch layout)."""
        if not self.trainable:
            return []
        own = [t for t in self._own_tensors() if isinstance(t, nn.Parameter) and t.requires_grad]
        for child in self._sublayers():
            own.extend(child._torch_trainable_weights())
        return _unique(own)

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
        return sum(math.prod(t.shape) for t in self._torch_weights())

    # ---------------------------------------------------------- Keras layout
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


def holds_no_weights(module: nn.Module) -> bool:
    """Child modules whose tensors are not this layer's own weights: Layers (they report their
    own) and metrics (their state is not a weight, as in Keras).

    Example:
        >>> from kseq.layers import Dense
        >>> holds_no_weights(Dense(1)), holds_no_weights(torch.nn.Linear(1, 1))
        (True, False)
    """
    return isinstance(module, LayerWeights) or getattr(module, "_kseq_metric", False)


def settle_weight_names(layer: LayerWeights) -> None:
    """Keep one name per weight: ``add_weight`` registered it under its Keras name and
    ``self.w = ...`` registered it again under ``w``; keep ``w``, in the Keras name's place
    (creation order). Regularizer/constraint paths follow.

    Example:
        >>> from kseq.layers import Layer
        >>> layer = Layer(); layer.w = layer.add_weight(shape=(1,), name="kernel")
        >>> settle_weight_names(layer); list(layer.state_dict())
        ['w']
    """
    params = layer._parameters
    keys_of: dict[int, list[str]] = {}
    for key, p in params.items():
        if p is not None:
            keys_of.setdefault(id(p), []).append(key)
    renames = {keys[0]: keys[-1] for keys in keys_of.values() if len(keys) > 1}
    if not renames:
        return
    dropped = {key for keys in keys_of.values() if len(keys) > 1 for key in keys[1:]}
    items = [(renames.get(key, key), p) for key, p in params.items() if key not in dropped]
    params.clear()
    params.update(items)
    for tracked in (layer._weight_regularizers, layer._weight_constraints):
        tracked[:] = [(renames.get(path, path), fn, view) for path, fn, view in tracked]


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
