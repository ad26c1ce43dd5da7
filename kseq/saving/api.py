"""Keras's saving API: ``save_model`` / ``load_model`` / ``save_weights`` / ``load_weights`` /
``model_from_json`` / ``clone_model``.

Formats, chosen by the file name as in Keras:

=====================  ===================================================  ==========
file name              content                                              needs
=====================  ===================================================  ==========
``*.keras``            Keras 3 archive: config + compile state + weights    h5py
``*.weights.h5``       Keras 3 weights (and optimizer state)                h5py
``*.weights.pt``       the same tree as ``.weights.h5``, via ``torch.save``  nothing
``*.h5`` / ``*.hdf5``  Keras's legacy HDF5 model file (deprecated)          h5py
=====================  ===================================================  ==========

Every write is atomic (:mod:`kseq.core.atomic`); every read validates the file first and never
runs code from it (see :mod:`kseq.saving.keras_archive`, :mod:`kseq.saving.h5_format`,
:mod:`kseq.saving.torch_format`, :mod:`kseq.saving.legacy_h5`). ``torch.save(model.state_dict())`` / ``load_state_dict`` stay the
torch-native path.

Example:
    >>> import os, tempfile, numpy as np, kseq
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> model.save(path)
    >>> restored = load_model(path)
    >>> x = np.ones((1, 3), "float32")
    >>> bool(np.allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0)))
    True
"""

from __future__ import annotations

import io
import json
import os
import warnings
from collections.abc import Mapping
from typing import Any

from kseq.core.atomic import atomic_write_bytes
from kseq.registry.object_config import deserialize_keras_object, serialize_keras_object
from kseq.saving.h5_format import H5Reader, h5_bytes, require_h5py
from kseq.saving.keras_archive import KerasArchive, archive_bytes
from kseq.saving.keras_weights import VariableReader, collect, restore
from kseq.saving.legacy_h5 import (
    LEGACY_H5_WARNING,
    legacy_h5_bytes,
    read_legacy_model,
    read_legacy_weights,
)
from kseq.saving.torch_format import TorchReader, read_file_bytes, torch_bytes

__all__ = [
    "load_model",
    "load_weights",
    "model_from_json",
    "save_model",
    "save_weights",
]

_LEGACY_SUFFIXES = (".h5", ".hdf5")


def _path(filepath: Any) -> str:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(
            f"Expected `filepath` to be a str or a path-like object. Received: filepath={filepath!r} "
            f"of type {type(filepath).__name__}."
        )
    return os.fspath(filepath)


def _may_overwrite(filepath: str, overwrite: bool) -> bool:
    """Keras's ``overwrite=False``: ask before replacing an existing file."""
    if overwrite or not os.path.exists(filepath):
        return True
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True


def save_model(
    model: Any,
    filepath: str | os.PathLike[str],
    overwrite: bool = True,
    zipped: bool | None = None,
    **kwargs: Any,
) -> None:
    """Save ``model`` as a Keras 3 ``.keras`` archive (``model.save(filepath)``).

    The archive holds the architecture (``config.json``), the compile state, the weights and the
    optimizer state; Keras 3 loads it too. A ``.h5`` / ``.hdf5`` name writes Keras's legacy HDF5
    model file instead (:mod:`kseq.saving.legacy_h5`), with Keras's deprecation warning.

    Args:
        model: The model.
        filepath: Destination, ending in ``.keras`` (or the legacy ``.h5`` / ``.hdf5``).
        overwrite: Replace an existing file without asking.
        zipped: Only ``True``/``None`` (a zip archive) is supported.
        **kwargs: ``include_optimizer=True``: also save the optimizer state. ``save_format``
            (deprecated in Keras 3) is accepted with Keras's warning when the extension agrees.

    Raises:
        ValueError: Wrong extension or unknown argument.
        ImportError: h5py (the ``kseq[h5]`` extra) is not installed.

    Example:
        >>> import os, tempfile, kseq
        >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> save_model(model, path); os.path.getsize(path) > 0
        True
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", False)
    filepath = _path(filepath)
    if save_format:
        if not filepath.endswith((*_LEGACY_SUFFIXES, ".keras")):
            raise ValueError(
                "The `save_format` argument is deprecated in Keras 3. Please remove this argument "
                f"and pass a file path with either `.keras` or `.h5` extension.Received: "
                f"save_format={save_format}"
            )
        warnings.warn(
            "The `save_format` argument is deprecated in Keras 3. We recommend removing this "
            f"argument as it can be inferred from the file path. Received: save_format={save_format}",
            stacklevel=2,
        )
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    if filepath.endswith(_LEGACY_SUFFIXES) and zipped is not False:
        warnings.warn(LEGACY_H5_WARNING, stacklevel=2)
        if _may_overwrite(filepath, overwrite):
            atomic_write_bytes(filepath, legacy_h5_bytes(model, include_optimizer))
        return
    if zipped is False:
        raise NotImplementedError(
            "Saving a model as an unzipped directory (`zipped=False`) is not supported by kseq; "
            "save a `.keras` archive instead."
        )
    if not filepath.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add a `.keras` extension for the native "
            f"Keras format. Received: filepath={filepath}."
        )
    require_h5py()
    if not getattr(model, "built", False):
        warnings.warn(
            "You are saving a model that has not yet been built. It might not contain any weights "
            "yet. Consider building the model first by calling it on some data.",
            stacklevel=2,
        )
    if _may_overwrite(filepath, overwrite):
        atomic_write_bytes(filepath, archive_bytes(model, include_optimizer=include_optimizer))


def _read_archive(filepath: str) -> KerasArchive:
    if not os.path.exists(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible `.keras` "
            "zip file."
        )
    require_h5py()
    return KerasArchive(read_file_bytes(filepath, "model file"), filepath)


def load_model(
    filepath: str | os.PathLike[str],
    custom_objects: Mapping[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Any:
    """Load a model saved with ``model.save("....keras")`` (by kseq or by Keras 3).

    Only kseq's built-in classes, registered classes (``register_keras_serializable``) and
    ``custom_objects`` are instantiated; nothing in the file is executed. Legacy ``.h5`` /
    ``.hdf5`` model files load too, compiled from their ``training_config`` when they have one.

    Args:
        filepath: A ``.keras`` file (or a legacy ``.h5`` / ``.hdf5`` one).
        custom_objects: ``{name: class_or_function}`` for custom objects the config names.
        compile: Compile the model (optimizer state included) when the file was saved compiled.
        safe_mode: Refuse configs holding Python lambdas (turn off only for trusted files).

    Returns:
        The model, with its weights (and its optimizer state when compiled).

    Raises:
        ValueError: The file is missing, not a ``.keras`` archive, damaged, or names a class kseq
            refuses to create.

    Example:
        >>> import os, tempfile, kseq
        >>> model = kseq.Sequential([kseq.Input((4,)), kseq.layers.Dense(3, name="out")])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras"); model.save(path)
        >>> loaded = load_model(path)
        >>> loaded.layers[0].name, type(loaded.optimizer).__name__
        ('out', 'SGD')
    """
    filepath = _path(filepath)
    if filepath.endswith(_LEGACY_SUFFIXES):
        require_h5py()
        data = io.BytesIO(read_file_bytes(filepath, "model file"))
        return read_legacy_model(data, filepath, custom_objects, compile, safe_mode)
    if not filepath.endswith(".keras"):
        raise ValueError(
            f"File format not supported: filepath={filepath}. kseq loads Keras 3 `.keras` files "
            "with load_model(); for weights files use model.load_weights()."
        )
    archive = _read_archive(filepath)
    config = dict(archive.config)
    if not compile:
        config.pop("compile_config", None)
    try:
        model = deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise ValueError(f"Could not load the model in {filepath!r}: {exc}") from exc
    if not hasattr(model, "get_weights"):
        raise ValueError(f"{filepath!r} does not describe a model: it loads as {model!r}.")
    with archive.weights() as reader:
        restore(model, reader, filepath, include_optimizer=compile)
    return model


def _weights_format(filepath: str, action: str) -> str:
    if filepath.endswith(".weights.h5"):
        return "h5"
    if filepath.endswith(".weights.pt"):
        return "pt"
    if filepath.endswith(".keras") and action == "load":
        return "keras"
    if filepath.endswith(_LEGACY_SUFFIXES) and action == "load":
        return "legacy"
    raise ValueError(
        f"The filename must end in `.weights.h5` (or `.weights.pt` for kseq's torch-native format, "
        f"which needs no h5py){' or `.keras`' if action == 'load' else ''}. Received: "
        f"filepath={filepath}"
    )


def save_weights(
    model: Any, filepath: str | os.PathLike[str], overwrite: bool = True, **kwargs: Any
) -> None:
    """Save the weights (and optimizer state) in Keras's layout (``model.save_weights``).

    Args:
        model: The model.
        filepath: ``*.weights.h5`` (Keras 3 format, needs h5py) or ``*.weights.pt`` (torch).
        overwrite: Replace an existing file without asking.

    Example:
        >>> import os, tempfile, kseq
        >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.pt")
        >>> save_weights(model, path); os.path.exists(path)
        True
    """
    if kwargs.pop("max_shard_size", None) is not None:
        raise NotImplementedError(
            "Sharded weights files (`max_shard_size`) are not supported by kseq."
        )
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    filepath = _path(filepath)
    fmt = _weights_format(filepath, "save")
    groups = collect(model, include_optimizer=True)
    data = h5_bytes(groups) if fmt == "h5" else torch_bytes(groups)
    if _may_overwrite(filepath, overwrite):
        atomic_write_bytes(filepath, data)


def _weights_reader(filepath: str) -> VariableReader:
    fmt = _weights_format(filepath, "load")
    if fmt == "keras":
        return _read_archive(filepath).weights()
    data = read_file_bytes(filepath, "weights file")
    if fmt == "pt":
        return TorchReader(data, filepath)
    return H5Reader(io.BytesIO(data), filepath)


def load_weights(
    model: Any, filepath: str | os.PathLike[str], skip_mismatch: bool = False, **kwargs: Any
) -> None:
    """Load weights saved by ``save_weights`` / ``save`` (kseq or Keras 3) into ``model``.

    Nothing changes unless every layer's weights load (see
    :func:`kseq.saving.keras_weights.restore`).

    Args:
        model: A built model with the same architecture.
        filepath: ``*.weights.h5``, ``*.weights.pt``, ``*.keras``, or a legacy ``*.h5`` /
            ``*.hdf5`` file (its layer weights, in layer order, as Keras loads them).
        skip_mismatch: Skip layers whose weights do not match instead of failing.

    Example:
        >>> import os, tempfile, kseq
        >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.pt"); model.save_weights(path)
        >>> twin = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> load_weights(twin, path)
        >>> bool((twin.layers[0].kernel == model.layers[0].kernel).all())
        True
    """
    if kwargs.pop("objects_to_skip", None) is not None or kwargs.pop("by_name", None):
        raise NotImplementedError("`objects_to_skip` and `by_name` are not supported by kseq.")
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    filepath = _path(filepath)
    if not getattr(model, "built", False):
        raise ValueError(
            f"Model '{model.name}' is not built yet, so it has no weights to load into. Build it "
            "first: start it with `kseq.Input(shape=...)`, call `model.build(input_shape)`, or call "
            "it on a batch of data."
        )
    if _weights_format(filepath, "load") == "legacy":
        if skip_mismatch:
            raise NotImplementedError(
                "`skip_mismatch` is not supported by kseq for legacy `.h5` files."
            )
        require_h5py()
        read_legacy_weights(io.BytesIO(read_file_bytes(filepath, "weights file")), filepath, model)
        return
    reader = _weights_reader(filepath)
    try:
        restore(model, reader, filepath, skip_mismatch=skip_mismatch)
    finally:
        close = getattr(reader, "close", None)
        if close is not None:
            close()


def model_from_json(json_string: str, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Rebuild a model (fresh weights) from ``model.to_json()``.

    Example:
        >>> import kseq
        >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2, name="d")])
        >>> model_from_json(model.to_json()).get_layer("d").units
        2
    """
    try:
        config = json.loads(json_string)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"`model_from_json` received invalid JSON: {exc}") from None
    return deserialize_keras_object(config, custom_objects=custom_objects)


def model_to_json(model: Any, **kwargs: Any) -> str:
    """``model.to_json(**kwargs)``: the model's Keras config as a JSON string.

    Example:
        >>> import kseq
        >>> model_to_json(kseq.Sequential([kseq.Input((1,)), kseq.layers.Dense(1)]))[:30]
        '{"module": "keras", "class_nam'
    """
    return json.dumps(serialize_keras_object(model), **kwargs)
