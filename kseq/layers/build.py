"""Build machinery: how a layer goes from constructed to built, once.

Three ways in, one way out:

* a call before the layer is built: the one-shot forward pre-hook :func:`lazy_build_hook` builds it
  from the first input's shape, moves new weights to the input's device and removes itself (the
  built layer's call path has no hooks);
* ``Sequential.add``/``build_from_shape``/``build_from_config``: :func:`build_once` checks the
  shape against the layer's ``InputSpec`` and builds when not built yet;
* a direct ``layer.build(shape)`` call (Keras code does this).

Every one of them ends in :func:`finish_build`, the single place where a build finishes: the layer
is marked built, its torch modules take its mode, the shape is recorded, each weight keeps one
name (``self.w = self.add_weight(...)``: the attribute's), its own float weights get the dtype
policy's variable dtype, ``trainable=False`` is applied, and its torch-created parameters
(``nn.Linear.weight``...) get Keras's variable API, once (:func:`give_variable_api`).

The direct call is why ``build`` itself finishes: Keras code calls ``layer.build(shape)`` and then
expects ``layer.built``, the weights and their dtype/trainable state, and nothing else of kseq runs
in between (a layer's ``build`` is the user's function). So :func:`finishing_build` wraps each
class's own ``build`` once, at class creation (``Layer.__init_subclass__``); a ``build`` calling
``super().build(...)`` finishes once, at the outermost one. The wrap is this module's only magic.

Example:
    >>> from kseq.layers import Dense
    >>> layer = Dense(2, trainable=False, dtype="float64")
    >>> layer.build((None, 3))
    >>> layer.built, layer.linear.weight.dtype, layer.linear.weight.requires_grad
    (True, torch.float64, False)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from kseq.core.shapes import shape_of, standardize_shape
from kseq.layers.modes import sync_built_modes
from kseq.layers.weights import holds_no_weights, settle_weight_names
from kseq.variables import Variable

if TYPE_CHECKING:
    from kseq.layers.layer import Layer

__all__ = [
    "build_once",
    "cast_own_floats",
    "finish_build",
    "finishing_build",
    "give_variable_api",
    "lazy_build_hook",
    "mark_built",
]


def lazy_build_hook(layer: Layer, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """One-shot forward pre-hook: build from the first input, then put new weights on its device.

    Example:
        >>> import torch
        >>> from kseq.layers import Dense
        >>> layer = Dense(2); _ = layer(torch.ones(1, 3)); len(layer._forward_pre_hooks)
        0
    """
    x = args[0] if args else kwargs.get("inputs", next(iter(kwargs.values()), None))
    if x is None:
        raise ValueError(f"Layer '{layer.name}' was called without an input tensor.")
    layer._build_once(shape_of(x))
    first = x
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, Tensor):
        layer._to_device(first.device)


def build_once(layer: Layer, input_shape: Any) -> None:
    """Build ``layer`` for ``input_shape`` unless it is built, and drop its lazy hook.

    A layer marked built by hand (``self.built = True`` in a model's ``__init__``) is not built
    again; its weights get their final names and the variable API here instead.

    Example:
        >>> from kseq.layers import Dense
        >>> layer = Dense(2); build_once(layer, (None, 3)); build_once(layer, (None, 3))
        >>> layer.count_params()
        8
    """
    if not layer.built:
        layer._check_input(input_shape)
        layer.build(input_shape)
    else:
        settle_weight_names(layer)
        give_variable_api(layer)
    layer._remove_build_hook()


def mark_built(layer: Layer) -> None:
    """Built at construction (layers without weights, as Keras's ``_build_at_init``).

    Example:
        >>> from kseq.layers import Layer
        >>> layer = Layer(); mark_built(layer); layer.built, len(layer._forward_pre_hooks)
        (True, 0)
    """
    layer.built = True
    settle_weight_names(layer)
    give_variable_api(layer)
    layer._remove_build_hook()


def finishing_build(build: Callable[..., Any]) -> Callable[..., Any]:
    """``build`` followed by :func:`finish_build` when it is the layer's own ``build`` (a
    subclass's ``build`` calling ``super().build(...)`` finishes once, after the outermost one).

    Example:
        >>> from kseq.layers import Layer
        >>> class Noop(Layer):
        ...     def build(self, input_shape):
        ...         pass
        >>> getattr(Noop.build, "_kseq_build_wrapper", False)
        True
    """

    @functools.wraps(build)
    def wrapper(self: Layer, *args: Any, **kwargs: Any) -> Any:
        result = build(self, *args, **kwargs)
        if type(self).build is wrapper:  # the outermost build (not a subclass's super().build())
            input_shape = args[0] if args else kwargs.get("input_shape")
            if input_shape is not None and not isinstance(input_shape, (list, dict)):
                input_shape = standardize_shape(input_shape)
            finish_build(self, input_shape)
        return result

    wrapper._kseq_build_wrapper = True  # type: ignore[attr-defined]
    return wrapper


def finish_build(layer: Layer, input_shape: Any) -> None:
    """Bookkeeping after ``build``: mark built, record the shape, one name per weight, dtype,
    trainable, the variable API; drop the lazy hook.

    Example:
        >>> from kseq.layers import Layer
        >>> layer = Layer(); finish_build(layer, (None, 2)); layer.built, layer.get_build_config()
        (True, {'input_shape': [None, 2]})
    """
    layer.built = True
    sync_built_modes(layer)  # torch modules created in build take the layer's mode
    if input_shape is not None:
        layer._build_input_shape = input_shape
    settle_weight_names(layer)
    cast_own_floats(layer)
    if not layer._trainable:
        layer.trainable = False
    give_variable_api(layer)
    layer._remove_build_hook()


def cast_own_floats(layer: Layer) -> None:
    """Give the layer's own float weights its variable dtype (not its sublayers', which have their
    own policies, nor weights created with an explicit ``add_weight(dtype=...)``).

    Example:
        >>> from kseq.layers import Layer
        >>> layer = Layer(dtype="float64"); w = layer.add_weight(shape=(1,), dtype="float32")
        >>> cast_own_floats(layer); w.dtype
        torch.float32
    """
    dtype = layer.dtype_policy.torch_variable_dtype
    with torch.no_grad():
        for t in layer._own_tensors():
            if (
                t.is_floating_point()
                and t.dtype != dtype
                and not getattr(t, "_kseq_explicit_dtype", False)
            ):
                t.data = t.data.to(dtype)


def give_variable_api(layer: Layer) -> None:
    """Give the layer's own torch parameters (``linear.weight``...) Keras's variable API in place
    (``.value``, ``.assign``, ``.numpy()``, ``.path``), once, at the end of its build: they become
    :class:`kseq.Variable` instances, still the same ``nn.Parameter`` objects in the same layout
    (so an optimizer or a tied module holding one keeps working).

    Example:
        >>> import torch
        >>> from kseq.layers import Layer
        >>> layer = Layer(name="l"); layer.proj = torch.nn.Linear(2, 2)
        >>> give_variable_api(layer); layer.proj.weight.path
        'l/proj.weight'
    """
    stack: list[tuple[str, nn.Module]] = [("", layer)]
    while stack:
        prefix, module = stack.pop()
        for key, param in module._parameters.items():
            if param is not None and not isinstance(param, Variable):
                Variable._adopt(param, name=key, path=f"{layer.name}/{prefix}{key}")
        stack.extend(
            (f"{prefix}{name}.", child)
            for name, child in module.named_children()
            if not holds_no_weights(child)
        )
