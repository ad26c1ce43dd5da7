"""``kseq.ops``: Keras's ``keras.ops`` namespace on torch tensors.

``from kseq import ops`` and Keras code such as ``ops.mean(ops.square(y_true - y_pred), axis=-1)``
runs on torch tensors (NumPy arrays and Python numbers are accepted and converted as Keras
converts them), with Keras's argument names (``axis``, ``keepdims``), dtype rules (see
:mod:`kseq.ops.dtypes`) and channels_last images. Every op is plain torch: no host syncs (except
where the result's size depends on the data, as documented), so custom losses and metrics built
from ops run inside ``fit``'s fused step.

Modules by family: :mod:`~kseq.ops.core` (conversion, casts, shapes, control flow),
:mod:`~kseq.ops.creation`, :mod:`~kseq.ops.math` (unary element-wise),
:mod:`~kseq.ops.arithmetic` (binary element-wise, comparisons, logic),
:mod:`~kseq.ops.reductions`, :mod:`~kseq.ops.shape_ops`, :mod:`~kseq.ops.linalg`,
:mod:`~kseq.ops.nn`. A Keras op kseq does not implement raises ``NotImplementedError`` naming
the torch function to use (:mod:`~kseq.ops.unsupported`).

Example:
    >>> import torch
    >>> from kseq import ops
    >>> y_true, y_pred = torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]])
    >>> ops.mean(ops.square(y_true - y_pred), axis=-1)
    tensor([0.2500])
"""

from __future__ import annotations

from typing import Any

from kseq.ops import arithmetic, core, creation, linalg, math, nn, reductions, shape_ops
from kseq.ops.arithmetic import *  # noqa: F403
from kseq.ops.core import *  # noqa: F403
from kseq.ops.creation import *  # noqa: F403
from kseq.ops.dtypes import result_type as result_type
from kseq.ops.dtypes import standardize_dtype as standardize_dtype
from kseq.ops.linalg import *  # noqa: F403
from kseq.ops.math import *  # noqa: F403
from kseq.ops.nn import *  # noqa: F403
from kseq.ops.reductions import *  # noqa: F403
from kseq.ops.shape_ops import *  # noqa: F403
from kseq.ops.symbolic_dispatch import symbolic_aware as _symbolic_aware
from kseq.ops.unsupported import KERAS_OP_NAMES, unsupported_op

__all__ = sorted(
    name
    for module in (arithmetic, core, creation, linalg, math, nn, reductions, shape_ops)
    for name in module.__all__
)
array = convert_to_tensor  # noqa: F405  (Keras's ``ops.array``)
__all__.append("array")


def _face() -> None:
    # Every public op also takes symbolic tensors (functional graphs): see symbolic_dispatch.py.
    # One wrapper per function object, so aliases stay aliases.
    namespace = globals()
    wrapped: dict[int, Any] = {}
    for name in __all__:
        fn = namespace[name]
        if callable(fn) and not isinstance(fn, type) and name not in _PLAIN:
            if id(fn) not in wrapped:
                wrapped[id(fn)] = _symbolic_aware(fn.__name__, fn)
            namespace[name] = wrapped[id(fn)]


# Ops that read a symbolic tensor without computing on it (shape, dtype) stay as they are.
_PLAIN = frozenset(
    {"convert_to_tensor", "convert_to_numpy", "is_tensor", "shape", "dtype", "array"}
)
_face()


def __getattr__(name: str) -> Any:
    if name in KERAS_OP_NAMES:
        raise unsupported_op(name)
    raise AttributeError(f"module 'kseq.ops' has no attribute '{name}'")
