"""``kseq.losses``: Keras's losses as classes, functions and string names.

Every Keras 3 loss is here with Keras's arguments, defaults, values and config keys. Where kseq
deliberately differs:

* a string names the *class* (``"huber"`` gives ``Huber()``), so ``fit`` can fuse it with the
  model's last activation and ``save`` can name it; Keras gives the bare function for snake_case
  names. Keras 2's names (``"logcosh"``, ``"kullback_leibler_divergence"``), ``"huber_loss"`` and
  ``"CategoricalGeneralizedCrossEntropy"`` resolve too (Keras 3's lookup misses them);
* ``get_config`` keeps the arguments Keras's drops (``Huber.delta``, ``CosineSimilarity.axis``,
  ``SparseCategoricalCrossentropy.axis``), so they survive a save;
* BCE/CCE/SCCE are computed from the logits in ``fit`` when the model ends in sigmoid/softmax
  (equal to Keras's clipped value unless the outputs saturate);
* ``CategoricalGeneralizedCrossEntropy`` squeezes ``(N, 1)`` labels (Keras broadcasts them to an
  ``(N, N)`` loss) and ``Circle`` has finite gradients for samples without a positive pair.

``get`` resolves a loss name, config dict, class, instance or callable (built-in names always give
a ``Loss`` instance); ``get_function`` gives the per-sample loss *function* registered under a name
(a built-in function name such as ``"huber"``, an alias such as ``"mse"``, or a
``register_keras_serializable`` name); ``serialize`` gives the config of a loss object or the
registered name of a loss function, ``deserialize`` is its inverse, and ``names()`` lists every
string ``get`` accepts.

Example:
    >>> import torch
    >>> loss = get("mse")
    >>> float(loss(torch.zeros(2), torch.ones(2)))
    1.0
    >>> type(get("binary_crossentropy")).__name__, get_function("mse").__name__
    ('BinaryCrossentropy', 'mean_squared_error')
    >>> serialize(MeanSquaredError())["class_name"], "binary_crossentropy" in names()
    ('MeanSquaredError', True)
    >>> type(deserialize({"class_name": "MeanSquaredError", "config": {}})).__name__
    'MeanSquaredError'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from kseq.core.naming import to_snake_case as to_snake_case
from kseq.losses.ctc import CTC as CTC
from kseq.losses.ctc import ctc as ctc
from kseq.losses.hinge import CategoricalHinge as CategoricalHinge
from kseq.losses.hinge import Hinge as Hinge
from kseq.losses.hinge import SquaredHinge as SquaredHinge
from kseq.losses.hinge import categorical_hinge as categorical_hinge
from kseq.losses.hinge import hinge as hinge
from kseq.losses.hinge import squared_hinge as squared_hinge
from kseq.losses.loss import Loss as Loss
from kseq.losses.loss import LossFunctionWrapper as LossFunctionWrapper
from kseq.losses.loss import reduce_weighted_values as reduce_weighted_values
from kseq.losses.loss import squeeze_or_expand_to_same_rank as squeeze_or_expand_to_same_rank
from kseq.losses.probabilistic import BinaryCrossentropy as BinaryCrossentropy
from kseq.losses.probabilistic import CategoricalCrossentropy as CategoricalCrossentropy
from kseq.losses.probabilistic import KLDivergence as KLDivergence
from kseq.losses.probabilistic import Poisson as Poisson
from kseq.losses.probabilistic import SparseCategoricalCrossentropy as SparseCategoricalCrossentropy
from kseq.losses.probabilistic import binary_crossentropy as binary_crossentropy
from kseq.losses.probabilistic import categorical_crossentropy as categorical_crossentropy
from kseq.losses.probabilistic import kl_divergence as kl_divergence
from kseq.losses.probabilistic import poisson as poisson
from kseq.losses.probabilistic import (
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
)
from kseq.losses.regression import CosineSimilarity as CosineSimilarity
from kseq.losses.regression import Huber as Huber
from kseq.losses.regression import LogCosh as LogCosh
from kseq.losses.regression import MeanAbsoluteError as MeanAbsoluteError
from kseq.losses.regression import MeanAbsolutePercentageError as MeanAbsolutePercentageError
from kseq.losses.regression import MeanSquaredError as MeanSquaredError
from kseq.losses.regression import MeanSquaredLogarithmicError as MeanSquaredLogarithmicError
from kseq.losses.regression import cosine_similarity as cosine_similarity
from kseq.losses.regression import huber as huber
from kseq.losses.regression import log_cosh as log_cosh
from kseq.losses.regression import mean_absolute_error as mean_absolute_error
from kseq.losses.regression import (
    mean_absolute_percentage_error as mean_absolute_percentage_error,
)
from kseq.losses.regression import mean_squared_error as mean_squared_error
from kseq.losses.regression import (
    mean_squared_logarithmic_error as mean_squared_logarithmic_error,
)
from kseq.losses.robust_crossentropy import BinaryFocalCrossentropy as BinaryFocalCrossentropy
from kseq.losses.robust_crossentropy import (
    CategoricalFocalCrossentropy as CategoricalFocalCrossentropy,
)
from kseq.losses.robust_crossentropy import (
    CategoricalGeneralizedCrossEntropy as CategoricalGeneralizedCrossEntropy,
)
from kseq.losses.robust_crossentropy import (
    binary_focal_crossentropy as binary_focal_crossentropy,
)
from kseq.losses.robust_crossentropy import (
    categorical_focal_crossentropy as categorical_focal_crossentropy,
)
from kseq.losses.robust_crossentropy import (
    categorical_generalized_cross_entropy as categorical_generalized_cross_entropy,
)
from kseq.losses.segmentation import Dice as Dice
from kseq.losses.segmentation import Tversky as Tversky
from kseq.losses.segmentation import dice as dice
from kseq.losses.segmentation import tversky as tversky
from kseq.losses.similarity import Circle as Circle
from kseq.losses.similarity import circle as circle
from kseq.registry.namespace import Namespace as _Namespace

# Importable from here as before (kseq's public API snapshot lists them).
from kseq.registry.serialization import deserialize_keras_object as deserialize_keras_object
from kseq.registry.serialization import resolve_class as resolve_class
from kseq.registry.serialization import serialize_keras_object as serialize_keras_object

# Aliases, as in keras.losses (and Keras 2's names, which Keras 3 still exports as legacy).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh
_FUNCTION_ALIASES: dict[str, Callable[..., Any]] = {
    "mse": mse, "MSE": MSE, "mae": mae, "MAE": MAE, "mape": mape, "MAPE": MAPE, "msle": msle,
    "MSLE": MSLE, "kld": kld, "KLD": KLD, "kullback_leibler_divergence": kl_divergence,
    "bce": bce, "BCE": BCE, "logcosh": logcosh,
}  # fmt: skip

# Class <-> function pairs: a string naming either resolves to the class (so fit can fuse and save it).
_PAIRS: dict[type[Loss], Callable[..., Any]] = {
    BinaryCrossentropy: binary_crossentropy,
    BinaryFocalCrossentropy: binary_focal_crossentropy,
    CategoricalCrossentropy: categorical_crossentropy,
    CategoricalFocalCrossentropy: categorical_focal_crossentropy,
    CategoricalGeneralizedCrossEntropy: categorical_generalized_cross_entropy,
    SparseCategoricalCrossentropy: sparse_categorical_crossentropy,
    KLDivergence: kl_divergence,
    Poisson: poisson,
    MeanSquaredError: mean_squared_error,
    MeanAbsoluteError: mean_absolute_error,
    MeanAbsolutePercentageError: mean_absolute_percentage_error,
    MeanSquaredLogarithmicError: mean_squared_logarithmic_error,
    CosineSimilarity: cosine_similarity,
    Huber: huber,
    LogCosh: log_cosh,
    Hinge: hinge,
    SquaredHinge: squared_hinge,
    CategoricalHinge: categorical_hinge,
    Dice: dice,
    Tversky: tversky,
    Circle: circle,
    CTC: ctc,
}
# Keras's aliases, then names Keras 3 does not resolve but users write: the Keras 2 names
# ("logcosh", "kullback_leibler_divergence") and Huber's default name "huber_loss".
_ALIASES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "kld": KLDivergence, "KLD": KLDivergence, "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "logcosh": LogCosh, "kullback_leibler_divergence": KLDivergence, "huber_loss": Huber,
}  # fmt: skip


class _Losses(_Namespace):
    """A string names the loss *class* (``"huber"`` gives ``Huber()``), any class is instantiated,
    a function saves under its registered name, and ``get_function`` also takes the aliases."""

    def from_name(self, name: str) -> Any:
        """A new instance of the loss class ``name`` stands for (a registered function as is)."""
        obj = self.lookup(name)
        if inspect.isclass(obj):
            return obj()
        if callable(obj):
            return obj
        raise ValueError(f"Could not interpret loss identifier: {name!r}")

    def function_table(self) -> dict[str, Callable[..., Any]]:
        """Loss function names plus the aliases of the classes that have a function form."""
        functions = {fn.__name__: fn for fn in _PAIRS.values()}
        functions.update({alias: _PAIRS[cls] for alias, cls in _ALIASES.items() if cls in _PAIRS})
        return functions

    def serialize(self, loss: Any) -> dict[str, Any] | str | None:
        """Config of a loss object, or the registered name of a loss function."""
        if loss is None or isinstance(loss, str):
            return loss
        if isinstance(loss, Loss):
            return super().serialize(loss)
        return self.registered_name(loss)

    def deserialize(self, config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """Inverse of :meth:`serialize` (a name gives what :meth:`get` gives)."""
        if isinstance(config, str):
            if custom_objects is not None and config in custom_objects:
                return custom_objects[config]
            return self.get(config)
        return super().deserialize(config, custom_objects)


_LOSSES = _Losses("loss", "losses", "keras.losses", base=object)
_LOSSES.register(Loss, LossFunctionWrapper)
_ALL = _LOSSES.table


def register_builtin(cls: type[Loss], fn: Callable[..., Any] | None = None, *aliases: str) -> None:
    """Add a built-in loss class (and its function form and aliases) to the string table.

    Used by the modules of this package; user code registers with ``register_keras_serializable``.

    Example:
        >>> register_builtin(MeanSquaredError, mean_squared_error, "mse")
        >>> type(get("mse")).__name__
        'MeanSquaredError'
    """
    if fn is not None:
        _PAIRS[cls] = fn
    for alias in aliases:
        _ALIASES[alias] = cls
    _rebuild()


def _rebuild() -> None:
    for cls, fn in _PAIRS.items():
        _LOSSES.register(cls, aliases={fn.__name__: cls}, snake_case=True)
    _LOSSES.register(aliases=_ALIASES)
    # Functions configs may name ({"class_name": "function", "config": "mse"}), as in keras.losses.
    _LOSSES.register_function(*_PAIRS.values(), **_FUNCTION_ALIASES)


_rebuild()

names = _LOSSES.names
get = _LOSSES.get
get_function = _LOSSES.get_function
serialize = _LOSSES.serialize
deserialize = _LOSSES.deserialize
