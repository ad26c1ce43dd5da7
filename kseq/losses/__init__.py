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

Example:
    >>> import torch
    >>> loss = get("mse")
    >>> float(loss(torch.zeros(2), torch.ones(2)))
    1.0
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from kseq.core.naming import to_snake_case
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
from kseq.registry.serialization import (
    deserialize_keras_object,
    resolve_class,
    serialize_keras_object,
)

# Aliases, as in keras.losses (and Keras 2's names, which Keras 3 still exports as legacy).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh

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

_ALL: dict[str, Any] = {"Loss": Loss, "LossFunctionWrapper": LossFunctionWrapper}


def register_builtin(cls: type[Loss], fn: Callable[..., Any] | None = None, *aliases: str) -> None:
    """Add a built-in loss class (and its function form and aliases) to the string table.

    Used by the modules of this package; user code registers with ``register_keras_serializable``.
    """
    if fn is not None:
        _PAIRS[cls] = fn
    for alias in aliases:
        _ALIASES[alias] = cls
    _rebuild()


def _rebuild() -> None:
    for cls, fn in _PAIRS.items():
        _ALL[cls.__name__] = cls
        _ALL[to_snake_case(cls.__name__)] = cls
        _ALL[fn.__name__] = cls
    _ALL.update(_ALIASES)


_rebuild()


def get_function(name: str) -> Callable[..., Any]:
    """The per-sample loss *function* registered under ``name`` (a built-in function name such as
    ``"huber"``, an alias such as ``"mse"``, or a ``register_keras_serializable`` name).

    Example:
        >>> get_function("mse").__name__
        'mean_squared_error'
    """
    from kseq.registry.object_registration import get_registered_object

    found = get_registered_object(name)
    if found is not None:
        return found
    functions = {fn.__name__: fn for fn in _PAIRS.values()}
    functions.update({alias: _PAIRS[cls] for alias, cls in _ALIASES.items() if cls in _PAIRS})
    return resolve_class("loss function", name, functions)


def names() -> list[str]:
    """Every string ``get()`` accepts.

    Example:
        >>> "binary_crossentropy" in names()
        True
    """
    return sorted(_ALL)


def get(identifier: Any) -> Loss | Callable[..., Any] | None:
    """Resolve a loss name, config dict, class, instance or callable.

    Built-in names always give a ``Loss`` instance (Keras gives the bare function for snake_case
    names; kseq gives the equivalent class so ``fit`` can fuse it and ``save`` can name it).

    Example:
        >>> type(get("binary_crossentropy")).__name__
        'BinaryCrossentropy'
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        obj = resolve_class("loss", identifier, _ALL)
    else:
        obj = identifier
    if inspect.isclass(obj):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


def serialize(loss: Any) -> dict[str, Any] | str | None:
    """Config of a loss object, or the registered name of a loss function.

    Example:
        >>> serialize(MeanSquaredError())["class_name"]
        'MeanSquaredError'
    """
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, Loss):
        return serialize_keras_object(loss, "keras.losses", _ALL)
    from kseq.registry.object_registration import get_registered_name

    return get_registered_name(loss)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Inverse of :func:`serialize`.

    Example:
        >>> type(deserialize({"class_name": "MeanSquaredError", "config": {}})).__name__
        'MeanSquaredError'
    """
    if isinstance(config, str):
        return (
            get(config)
            if custom_objects is None or config not in custom_objects
            else custom_objects[config]
        )
    return deserialize_keras_object(config, "loss", _ALL, custom_objects)
