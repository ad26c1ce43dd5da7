"""Keras-layout weights over torch-layout tensors: one object, two faces.

A kseq layer keeps its weights as torch wants them (``nn.Linear.weight (out, in)``,
``nn.LSTM.weight_ih_l0 (4*units, in)``, BatchNorm statistics as buffers); Keras code reads them
through ``layer.weights`` / ``trainable_weights`` / ``variables`` and the named attributes
(``kernel``, ``recurrent_kernel``, ``moving_mean``...) and expects Keras's shapes, names and order.
Each layer describes its Keras weights once, as :class:`KerasWeight` specs (name, the torch tensors
it is made of, and the layout maps); :func:`keras_variables` turns them into objects:

* a weight whose torch tensor already is in Keras layout and is a parameter (biases, BatchNorm's
  ``gamma``, ``Embedding``'s matrix, every ``add_weight`` weight) is **that parameter**, a
  :class:`kseq.Variable`, with its Keras name and path;
* any other weight (a transposed/permuted kernel, GRU's reordered gates, a buffer such as
  ``moving_mean``) is a :class:`LayoutVariable`: a ``kseq.Variable`` that holds no data of its own
  that matters. Every torch operation on it (``.shape``, arithmetic, ``x @ layer.kernel``,
  ``.detach()``) runs on the *live* Keras-layout view of the torch tensor, computed when used:
  a strided view of the same storage where the layout is a view (transposes, permutes: writes
  land in the parameter, gradients flow to it), a fresh copy for GRU's gate order. ``numpy()``,
  ``assign``/``assign_add``/``assign_sub`` read and write the torch tensor (through the view, or
  through the spec's inverse map), so the torch parameter, the prediction and ``get_weights`` all
  change at once.

Gradients: ``loss.backward()`` fills the *torch parameter's* ``.grad``; a layout variable's
``.grad`` (and so ``v.value.grad``, Keras's torch-guide idiom) is the Keras-layout view of that
gradient. Optimizers map a Keras-layout gradient back through ``_kseq_torch_face`` (duck typing:
the optimizers live below the layers): a gradient that is the view of the parameter's ``.grad``
maps back to that very tensor at no cost, another one is copied into torch layout. So
``optimizer.apply(grads, model.trainable_weights)`` updates the same torch parameters, with the
same slots, as ``fit``; ``fit`` itself never sees these objects (it trains ``parameters()``), so
it pays nothing for them. The torch face (``parameters()``, ``state_dict()``) stays torch layout.

Layout variables are cached per layer (weakly: copying or pickling a layer never copies them),
so ``layer.kernel is layer.weights[0]``.

Example:
    >>> from kseq.layers import Dense
    >>> layer = Dense(2); layer.build((None, 3))
    >>> [tuple(w.shape) for w in layer.weights], layer.kernel is layer.weights[0]
    ([(3, 2), (2,)], True)
    >>> _ = layer.kernel.assign(torch.ones(3, 2)); layer.linear.weight.sum().item()
    6.0
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_map

from kseq.variables import Variable, _rebuild_variable, _tensor_like

__all__ = ["KerasWeight", "LayoutVariable", "keras_variables"]


@dataclass(frozen=True)
class KerasWeight:
    """One Keras weight of a layer: its Keras name and the torch tensors it is made of.

    Attributes:
        name: Keras's variable name (``"kernel"``).
        paths: The torch tensors (parameters or buffers) relative to the layer
            (``("linear.weight",)``).
        to_keras: ``f(*tensors) -> Keras-layout tensor``; ``None``: the one tensor as it is.
        to_torch: ``f(keras_tensor) -> tuple of torch-layout tensors``; ``None`` when ``to_keras``
            is a view (writes go through the view).

    Example:
        >>> KerasWeight("kernel", ("linear.weight",), lambda w: w.T).name
        'kernel'
    """

    name: str
    paths: tuple[str, ...]
    to_keras: Callable[..., Tensor] | None = None
    to_torch: Callable[[Tensor], tuple[Tensor, ...]] | None = None


_CACHE: weakref.WeakKeyDictionary[nn.Module, dict[tuple[str, tuple[str, ...]], LayoutVariable]]
_CACHE = weakref.WeakKeyDictionary()


def _tensor_at(owner: nn.Module, path: str) -> Tensor:
    prefix, _, key = path.rpartition(".")
    module = owner.get_submodule(prefix) if prefix else owner
    found = module._parameters.get(key)
    if found is None:
        found = module._buffers.get(key)
    if found is None:
        raise AttributeError(f"Layer '{getattr(owner, 'name', owner)}' has no weight '{path}'.")
    return found


def keras_variables(layer: nn.Module, specs: list[KerasWeight], prefix: str) -> list[Variable]:
    """The layer's own Keras weights, in ``specs`` order (see the module docstring).

    Example:
        >>> from kseq.layers import BatchNormalization
        >>> bn = BatchNormalization(); bn.build((None, 2))
        >>> [(v.name, v.trainable) for v in bn.variables]
        [('gamma', True), ('beta', True), ('moving_mean', False), ('moving_variance', False)]
    """
    cache = _CACHE.setdefault(layer, {})
    out: list[Variable] = []
    for spec in specs:
        path = f"{prefix}/{spec.name}"
        try:
            for source_path in spec.paths:
                _tensor_at(layer, source_path)
        except AttributeError:
            continue  # not built yet: the layer has no such tensor (Keras: no weights)
        if spec.to_keras is None and len(spec.paths) == 1:
            tensor = _tensor_at(layer, spec.paths[0])
            if isinstance(tensor, nn.Parameter):
                var = tensor if isinstance(tensor, Variable) else Variable._adopt(tensor, "", "")
                var._keras_name, var.path = spec.name, path
                out.append(var)
                continue
        key = (spec.name, spec.paths)
        alias = cache.get(key)
        if alias is None:
            alias = cache[key] = LayoutVariable._bind(layer, spec)
        alias._kseq_spec = spec
        alias._keras_name, alias.path = spec.name, path
        out.append(alias)
    return out


def _swap(value: Any) -> Any:
    return value._live() if isinstance(value, LayoutVariable) else value


class LayoutVariable(Variable):
    """A Keras-layout :class:`kseq.Variable` over a layer's torch-layout tensor(s).

    Made by :func:`keras_variables`; see the module docstring for the design.

    Example:
        >>> from kseq.layers import LSTM
        >>> lstm = LSTM(4); lstm.build((None, 3, 2))
        >>> kernel = lstm.weights[0]; tuple(kernel.shape), tuple(lstm.lstm.weight_ih_l0.shape)
        ((2, 16), (16, 2))
    """

    @classmethod
    def _bind(cls, owner: nn.Module, spec: KerasWeight) -> LayoutVariable:
        var = torch.Tensor._make_subclass(cls, torch.empty(0), False)
        var._kseq_owner = weakref.ref(owner)
        var._kseq_spec = spec
        var.aggregation = "none"
        return var

    # ------------------------------------------------------------ the torch tensors
    def _sources(self) -> list[Tensor]:
        owner = self.__dict__["_kseq_owner"]()
        if owner is None:
            raise ValueError(f"The layer owning variable '{self.name}' no longer exists.")
        return [_tensor_at(owner, p) for p in self.__dict__["_kseq_spec"].paths]

    def _live(self) -> Tensor:
        """The Keras-layout tensor, computed now (a view of the torch tensor where possible)."""
        spec: KerasWeight = self.__dict__["_kseq_spec"]
        sources = self._sources()
        return sources[0] if spec.to_keras is None else spec.to_keras(*sources)

    def _torch_layout(self, value: Tensor) -> list[Tensor]:
        """``value`` (Keras layout) as new torch-layout tensors, one per source."""
        spec: KerasWeight = self.__dict__["_kseq_spec"]
        sources = self._sources()
        if spec.to_keras is None:
            return [value]
        if spec.to_torch is not None:
            return list(spec.to_torch(value))
        targets = [torch.empty_like(s, memory_format=torch.preserve_format) for s in sources]
        with torch.no_grad():
            spec.to_keras(*targets).copy_(value)
        return targets

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        return func(*tree_map(_swap, tuple(args)), **tree_map(_swap, dict(kwargs or {})))

    # ------------------------------------------------------------ Keras face
    @property
    def value(self) -> LayoutVariable:
        """The variable itself: torch ops on it see the live Keras-layout tensor, and
        ``v.value.grad`` is the Keras-layout gradient."""
        return self

    @property  # type: ignore[override]
    def grad(self) -> Tensor | None:
        """The torch parameter's gradient in Keras layout (a view of it where possible)."""
        sources = self._sources()
        grads = [s.grad for s in sources]
        if any(g is None for g in grads):
            return None
        spec: KerasWeight = self.__dict__["_kseq_spec"]
        return grads[0] if spec.to_keras is None else spec.to_keras(*grads)

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        sources = self._sources()
        parts = [None] * len(sources) if value is None else self._torch_layout(value)
        for source, part in zip(sources, parts, strict=True):
            source.grad = part

    @property
    def trainable(self) -> bool:
        """Whether optimizers update the torch tensor(s) behind this variable."""
        return all(
            isinstance(s, nn.Parameter)
            and s.requires_grad
            and not getattr(s, "_kseq_non_trainable", False)
            for s in self._sources()
        )

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for source in self._sources():
            if isinstance(source, Variable):
                source.trainable = value
            elif isinstance(source, nn.Parameter):
                source.requires_grad_(bool(value))

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The value in Keras layout as a NumPy array (a host copy)."""
        return self._live().detach().cpu().numpy().copy()

    def assign(self, value: Any) -> LayoutVariable:
        """Set the value (Keras layout) in place: the torch tensor changes.

        Example:
            >>> from kseq.layers import Dense
            >>> d = Dense(2); d.build((None, 1)); _ = d.kernel.assign([[1.0, 2.0]])
            >>> d.linear.weight.flatten().tolist()
            [1.0, 2.0]
        """
        with torch.no_grad():
            live = self._live().detach()
            new = _tensor_like(value, live)
            if tuple(new.shape) != tuple(live.shape):
                if new.numel() == 1 and live.ndim == 0:
                    new = new.reshape(())
                else:
                    raise ValueError(
                        "The shape of the target variable and the shape of the target value in "
                        f"`variable.assign(value)` must match. variable.shape={tuple(live.shape)}, "
                        f"Received: value.shape={tuple(new.shape)}. Target variable: {self!r}"
                    )
            self._write(live, new)
        return self

    def _write(self, live: Tensor, new: Tensor) -> None:
        spec: KerasWeight = self.__dict__["_kseq_spec"]
        if spec.to_keras is not None and spec.to_torch is not None:
            for source, part in zip(self._sources(), spec.to_torch(new), strict=True):
                source.copy_(part)
        else:
            live.copy_(new)  # the tensor itself, or a view of its storage

    def _update(self, op: Any, value: Any, what: str) -> LayoutVariable:
        with torch.no_grad():
            live = self._live().detach()
            operand = value if isinstance(value, (bool, int, float)) else _tensor_like(value, live)
            try:
                result = op(live.clone(), operand)
            except RuntimeError as error:
                shape = tuple(operand.shape) if isinstance(operand, Tensor) else ()
                raise ValueError(
                    f"Cannot {what} a value of shape {shape} to variable '{self.name}' of shape "
                    f"{tuple(live.shape)}: the value must broadcast to the variable's shape. "
                    f"({error})"
                ) from None
            self._write(live, result)
        return self

    # ------------------------------------------------------------ optimizers
    def _kseq_torch_face(self, grad: Tensor | None) -> list[tuple[Tensor, Tensor | None]]:
        """``[(torch parameter, its gradient in torch layout)]`` for a Keras-layout ``grad``."""
        sources = self._sources()
        if grad is None:
            return [(s, None) for s in sources]
        if len(sources) == 1 and sources[0].grad is not None:
            own = self.grad
            if (
                own is not None
                and grad.data_ptr() == own.data_ptr()
                and grad.shape == own.shape
                and grad.stride() == own.stride()
            ):
                return [(sources[0], sources[0].grad)]  # the view of the parameter's own .grad
        return list(zip(sources, self._torch_layout(grad), strict=True))

    # ------------------------------------------------------------ copies
    def _snapshot(self) -> Variable:
        data = self._live().detach().clone()
        state = {"_keras_name": self.name, "path": self.path, "aggregation": "none"}
        return _rebuild_variable(data, self.trainable, state)

    def __deepcopy__(self, memo: dict[int, Any]) -> Variable:
        return self._snapshot()

    def __reduce_ex__(self, protocol: Any) -> Any:
        snap = self._snapshot()
        return (_rebuild_variable, (snap.detach(), snap.requires_grad, dict(snap.__dict__)))
