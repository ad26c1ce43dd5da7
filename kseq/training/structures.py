"""The structure of a model's outputs, found once per resolve: single output (a shape tuple) or
several (a list/tuple/dict of shape tuples), for models whose ``compute_output_shape`` cannot say.

A subclassed ``Model`` taking a list/dict of inputs, or returning a list/dict, has no analytic
output shape; it is run once on the first row of the data (no gradients, inference mode) — the
same probe Keras makes when it builds a subclassed model from data.

Example:
    >>> import torch, kseq
    >>> m = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(2)])
    >>> output_shapes(m, torch.zeros(4, 3))
    (None, 2)
    >>> is_multi([(None, 1), (None, 2)]), is_multi((None, 2))
    (True, False)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.training.data import map_structure


def is_multi(out_shape: Any) -> bool:
    """Whether an output-shape structure describes several outputs (a list/tuple/dict of shapes)."""
    if isinstance(out_shape, dict):
        return True
    return (
        isinstance(out_shape, (list, tuple))
        and bool(out_shape)
        and all(isinstance(s, (list, tuple)) for s in out_shape)
    )


def output_shapes(model: Any, x_sample: Any) -> Any:
    """The model's output shape(s) with an unknown batch axis, for inputs like ``x_sample``."""
    shapes = map_structure(lambda t: (None, *(int(d) for d in t.shape[1:])), x_sample)
    try:
        return model.compute_output_shape(shapes)
    except (NotImplementedError, AttributeError, TypeError):
        pass
    first = map_structure(lambda t: t[:1], x_sample)
    with torch.no_grad():
        was_training = model.training
        model.eval()
        try:
            out = model(first)
        finally:
            model.train(was_training)
    return _shapes_of(out)


def _shapes_of(out: Any) -> Any:
    if isinstance(out, Tensor):
        return (None, *out.shape[1:])
    if isinstance(out, dict):
        return {k: _shapes_of(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return [_shapes_of(v) for v in out]
    raise TypeError(f"Unsupported model output type: {type(out).__name__}.")
