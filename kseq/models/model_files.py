"""``Model``'s file face: ``save``/``save_weights``/``load_weights``/``to_json`` and the
compile/build configs that ``.keras`` archives carry.

Thin Keras-API wrappers over ``kseq.saving`` (which owns the formats and their safety checks),
bound as methods in ``Model``'s class body (``save = model_files.save``), so that ``model.py``
holds the model and its training facade only.

Example:
    >>> import kseq
    >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
    >>> m.compile(optimizer="sgd", loss="mse")
    >>> sorted(get_compile_config(m))[:3]
    ['jit_compile', 'loss', 'loss_weights']
"""

from __future__ import annotations

from typing import Any

from kseq.registry.object_config import deserialize_keras_object, serialize_keras_object
from kseq.saving.api import load_weights as _load_weights
from kseq.saving.api import model_to_json, save_model
from kseq.saving.api import save_weights as _save_weights
from kseq.saving.keras_weights import build_optimizer_for


def save(
    self: Any, filepath: Any, overwrite: bool = True, zipped: bool | None = None, **kwargs: Any
) -> None:
    """Save as a Keras 3 ``.keras`` archive (see :func:`kseq.saving.save_model`).

    Example:
        >>> import os, tempfile, kseq
        >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras"); m.save(path); os.path.exists(path)
        True
    """
    save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def save_weights(self: Any, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
    """Save weights + optimizer state to ``*.weights.h5`` or ``*.weights.pt`` (see
    :func:`kseq.saving.save_weights`).

    Example:
        >>> import os, tempfile, kseq
        >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.pt"); m.save_weights(path)
        >>> m.load_weights(path)
    """
    _save_weights(self, filepath, overwrite=overwrite, **kwargs)


def load_weights(self: Any, filepath: Any, skip_mismatch: bool = False, **kwargs: Any) -> None:
    """Load ``*.weights.h5`` / ``*.weights.pt`` / ``*.keras`` weights (see
    :func:`kseq.saving.load_weights`; example in :func:`save_weights`)."""
    _load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)


def to_json(self: Any, **kwargs: Any) -> str:
    """The model's Keras config as JSON (``kseq.models.model_from_json`` rebuilds it).

    Example:
        >>> import kseq
        >>> '"Sequential"' in kseq.Sequential([kseq.Input(shape=(2,))]).to_json()
        True
    """
    return model_to_json(self, **kwargs)


def get_compile_config(self: Any) -> dict[str, Any] | None:
    """The arguments ``compile()`` received, serialized (Keras's ``compile_config``); ``None``
    before ``compile()`` (example in the module docstring)."""
    trainer = self._trainer
    if trainer is None:
        return None
    config = {**trainer.compile_args.config, "optimizer": trainer.optimizer}
    config["jit_compile"] = trainer.jit_compile
    return serialize_keras_object(config)


def compile_from_config(self: Any, config: dict[str, Any]) -> None:
    """Compile from :meth:`get_compile_config` output, creating the optimizer state now when the
    model is built (so that saved optimizer variables can be loaded into it).

    Example:
        >>> import kseq
        >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
        >>> m.compile(optimizer="adam", loss="mse")
        >>> m2 = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
        >>> m2.compile_from_config(m.get_compile_config()); m2.optimizer.built
        True
    """
    self.compile(**deserialize_keras_object(config))
    build_optimizer_for(self)


def build_from_config(self: Any, config: dict[str, Any] | None) -> None:
    """Build from ``get_build_config()`` output (subclassed models run one forward pass).

    Example:
        >>> import kseq
        >>> m = kseq.Sequential([kseq.layers.Dense(1)])
        >>> m.build_from_config({"input_shape": (None, 3)}); m.built
        True
    """
    if config and config.get("input_shape") is not None and not self.built:
        self._build_from_data_shape(tuple(config["input_shape"]))
