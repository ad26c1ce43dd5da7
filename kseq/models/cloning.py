"""``clone_model``: a new model with the same architecture and fresh weights.

Example:
    >>> import kseq
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2)])
    >>> clone_model(model).count_params() == model.count_params()
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kseq.layers.input_layer import InputLayer
from kseq.models.sequential import Sequential

__all__ = ["clone_model"]


def clone_model(
    model: Any,
    input_tensors: Any = None,
    clone_function: Callable[[Any], Any] | None = None,
    call_function: Any = None,
    recursive: bool = False,
    **kwargs: Any,
) -> Any:
    """A new model with the same architecture and *new* weights (``keras.models.clone_model``).

    Each layer is rebuilt from its config (``clone_function(layer)`` when given); weights are freshly
    initialized and the clone is not compiled, as in Keras.

    Args:
        model: A ``Sequential`` or a subclassed model with ``get_config``.
        input_tensors: Optional new ``kseq.Input(...)`` for a ``Sequential``.
        clone_function: ``layer -> new layer`` (default: ``layer.__class__.from_config(layer.get_config())``).
        call_function: Not supported (kseq has no functional graph).
        recursive: Also apply ``clone_function`` inside nested ``Sequential`` models.

    Example:
        >>> import kseq
        >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2)])
        >>> twin = clone_model(model)
        >>> twin.output_shape, twin.layers[0] is model.layers[0]
        ((None, 2), False)
    """
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {list(kwargs)}")
    if call_function is not None:
        raise NotImplementedError("`call_function` is not supported by kseq (no functional API).")
    clone = clone_function or (lambda layer: layer.__class__.from_config(layer.get_config()))
    if not isinstance(model, Sequential):
        if clone_function is not None or input_tensors is not None:
            raise ValueError(
                "Arguments `clone_function` and `input_tensors` are only supported for Sequential "
                f"models. Received model of type {type(model).__name__}."
            )
        return model.__class__.from_config(model.get_config())
    layers: list[Any] = []
    if input_tensors is not None:
        tensor = input_tensors[0] if isinstance(input_tensors, (list, tuple)) else input_tensors
        layers.append(tensor)
    elif model._input_layer is not None:
        layers.append(InputLayer.from_config(model._input_layer.get_config()))
    for layer in model.layers:
        if recursive and isinstance(layer, Sequential):
            layers.append(clone_model(layer, clone_function=clone_function, recursive=True))
        else:
            layers.append(clone(layer))
    return Sequential(layers, trainable=model.trainable, name=model.name)
