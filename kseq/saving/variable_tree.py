"""The Keras variable tree of a model: each layer's Keras object path and its variable groups.

Keras stores a model's variables by *object path* (``saving_lib.py``): a sublayer held in attribute
``attr`` lives at ``<path>/<attr>``; sublayers in a list attribute (``Sequential``'s ``layers``) at
``<path>/<attr>/<snake_class>[_n]`` with a counter per list; recurrent layers keep their variables
in their cell (:data:`OWN_VARIABLES_AT`). This module walks a kseq model and names those paths; the
file formats and the optimizer layout build on it.

Example:
    >>> import kseq
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2), kseq.layers.Dense(1)])
    >>> [(g.path, len(g.arrays)) for g in layer_groups(model, "")]
    [('', 0), ('layers/dense', 2), ('layers/dense_1', 2)]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from kseq.core.naming import to_snake_case
from kseq.layers.layer import Layer

__all__ = ["OWN_VARIABLES_AT", "VarGroup", "layer_groups", "layer_owners"]

# Keras classes whose variables live in a sub-object (the RNN cell), relative to the layer's path.
OWN_VARIABLES_AT: dict[str, str] = {
    "SimpleRNN": "cell",
    "LSTM": "cell",
    "GRU": "cell",
    "ConvLSTM1D": "cell",
    "ConvLSTM2D": "cell",
    "ConvLSTM3D": "cell",
}


@dataclass
class VarGroup:
    """The variables stored under ``<path>/vars``.

    Attributes:
        path: Group path (``""`` is the model itself).
        name: What Keras writes in the ``vars`` group's ``name`` attribute (the layer's name).
        owner: The layer or optimizer the variables belong to.
        arrays: The arrays in Keras layout (filled by :func:`collect`; shapes are what loading
            expects).
    """

    path: str
    name: str
    owner: Any
    arrays: list[np.ndarray] = field(default_factory=list)


def _is_layer(obj: Any) -> bool:
    return isinstance(obj, Layer)


def _own_path(layer: Layer, path: str) -> str | None:
    """Where ``layer``'s own variables live when Keras keeps them in a sub-object (RNN cell)."""
    sub = getattr(type(layer), "_keras_variables_at", None) or OWN_VARIABLES_AT.get(
        type(layer).__name__
    )
    if sub is None or _is_layer(getattr(layer, sub, None)):
        return None
    return f"{path}/{sub}" if path else sub


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _list_paths(items: Iterator[nn.Module], container: str, found: dict[int, str]) -> None:
    """Keras's naming inside a list attribute: ``<container>/<snake_class>[_n]``."""
    counters: dict[str, int] = {}
    for item in items:
        if _is_layer(item):
            base = to_snake_case(type(item).__name__)
            n = counters[base] = counters.get(base, -1) + 1
            found.setdefault(id(item), _join(container, base if n == 0 else f"{base}_{n}"))
        else:
            _child_paths(item, container, found)


def _public_name(module: nn.Module, attr: str, child: nn.Module) -> str:
    """Keras walks public attributes before private ones, so a sublayer held in ``_x`` and exposed
    by a property ``x`` (``MultiHeadAttention._query_dense``/``query_dense``) is saved as ``x``."""
    public = attr.lstrip("_")
    if public != attr and isinstance(getattr(type(module), public, None), property):
        try:
            if getattr(module, public) is child:
                return public
        except AttributeError:
            pass
    return attr


def _child_paths(module: nn.Module, path: str, found: dict[int, str]) -> None:
    """Record the Keras path of every Layer below ``module`` (stopping at Layers)."""
    if getattr(module, "keras_saves_layers_as_list", False):
        # Keras saves a Sequential's stack as its `layers` list (models set this class attribute).
        _list_paths(iter(module.layers), _join(path, "layers"), found)
        return
    for attr, child in module.named_children():
        if _is_layer(child):
            found.setdefault(id(child), _join(path, _public_name(module, attr, child)))
        elif isinstance(child, (nn.ModuleList, nn.Sequential, nn.ModuleDict)):
            _list_paths(child.children(), _join(path, attr), found)
        else:
            _child_paths(child, path, found)


def layer_groups(layer: Layer, path: str) -> Iterator[VarGroup]:
    """Groups of ``layer`` and its sublayers, own variables first (``get_weights`` order)."""
    own = layer._get_own_weights() if layer.built else []
    sub = _own_path(layer, path)
    if sub is not None and own:
        yield VarGroup(path, layer.name, layer)
        yield VarGroup(sub, f"{to_snake_case(type(layer).__name__)}_cell", layer, own)
    else:
        yield VarGroup(path, layer.name, layer, own)
    paths: dict[int, str] = {}
    _child_paths(layer, path, paths)
    for child in layer._sublayers():
        yield from layer_groups(child, paths.get(id(child), _join(path, child.name)))


def layer_owners(model: Layer) -> list[Layer]:
    """The layers of ``model`` (itself included) in Keras's variable order, each once.

    Example:
        >>> import kseq
        >>> model = kseq.Sequential([kseq.Input((1,)), kseq.layers.Dense(1, name="d")])
        >>> [layer.name for layer in layer_owners(model)][1:]
        ['d']
    """
    seen: dict[int, Layer] = {}
    for group in layer_groups(model, ""):
        seen.setdefault(id(group.owner), group.owner)
    return list(seen.values())
