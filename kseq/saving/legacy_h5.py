"""Keras's legacy HDF5 model file (``model.save("m.h5")`` / ``load_model("m.h5")``), both ways.

The layout is Keras 3's ``keras/src/legacy/saving/legacy_h5_format.py``:

* root attributes ``model_config`` (JSON: ``{"class_name": "Sequential", "config": ...}`` with each
  layer as ``{"class_name", "config"}``), ``keras_version``, ``backend`` and, for a compiled
  model, ``training_config`` (JSON: ``loss``, ``metrics``, ..., ``optimizer_config``);
* group ``model_weights`` (attribute ``layer_names``) with one group per layer whose attribute
  ``weight_names`` lists its datasets (paths such as ``sequential/dense/kernel``), in Keras's
  *legacy* order: the layer's trainable weights, then its non-trainable ones;
* optional group ``optimizer_weights`` (attribute ``weight_names``): Keras's
  ``optimizer.variables`` (see :mod:`kseq.saving.optimizer_layout`).

Loading never runs code from the file: the config is JSON rebuilt through kseq's name tables
(:func:`~kseq.registry.object_config.deserialize_keras_object`), the file is read through
:class:`~kseq.saving.legacy_h5_file.LegacyH5File` (no links, no external or virtual data, numeric
dtypes only, no decompression bombs, string attributes only, kseq's checksum when present), and
every array is read and checked before the first weight changes. Anything else is a ``ValueError`` naming the file.

Example:
    >>> import io, numpy as np, kseq
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2)])
    >>> data = legacy_h5_bytes(model)
    >>> restored = read_legacy_model(io.BytesIO(data), "m.h5", compile=False)
    >>> bool(np.array_equal(restored.layers[0].get_weights()[0], model.layers[0].get_weights()[0]))
    True
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from collections.abc import Iterator, Mapping
from typing import IO, Any

import numpy as np
import torch

from kseq.registry.namespace import namespaces
from kseq.registry.object_config import deserialize_keras_object, serialize_keras_object
from kseq.registry.object_registration import get_registered_name
from kseq.saving.h5_format import CHECKSUM_ATTR, require_h5py, variables_digest
from kseq.saving.keras_archive import KERAS_FORMAT_VERSION
from kseq.saving.keras_weights import build_optimizer_for
from kseq.saving.legacy_h5_file import LegacyH5File, guard
from kseq.saving.optimizer_layout import keras_optimizer_arrays, set_keras_optimizer_arrays
from kseq.saving.variable_tree import layer_owners

__all__ = ["LEGACY_H5_WARNING", "legacy_h5_bytes", "read_legacy_model", "read_legacy_weights"]

LEGACY_H5_WARNING = (
    "You are saving your model as an HDF5 file via `model.save()` or "
    "`keras.saving.save_model(model)`. This file format is considered legacy. We recommend using "
    "instead the native Keras format, e.g. `model.save('my_model.keras')` or "
    "`keras.saving.save_model(model, 'my_model.keras')`. "
)
# Keras splits a list attribute into `name0`, `name1`... above this many bytes.
HDF5_OBJECT_HEADER_LIMIT = 64512


# ----------------------------------------------------------------------------- weight order
@contextlib.contextmanager
def _nan_probe(params: list[torch.Tensor]) -> Iterator[None]:
    """Fill ``params`` with NaN for the ``with`` block (their data is restored afterwards)."""
    saved = [p.data for p in params]
    try:
        for p in params:
            p.data = torch.full_like(p, float("nan"))
        yield
    finally:
        for p, data in zip(params, saved, strict=True):
            p.data = data


def _trainable_flags(layer: Any) -> list[bool]:
    """For each Keras weight of ``layer`` (``get_weights`` order): does Keras count it trainable?"""
    n = len(layer.get_weights())
    trainable = {id(t) for t in layer._torch_trainable_weights()}
    flags: list[bool] = []
    for owner in layer_owners(layer):
        own = owner._get_own_weights()
        params = [t for t in owner._own_tensors() if id(t) in trainable]
        if params:
            with _nan_probe(params):
                probe = owner._get_own_weights()
            flags += [a.dtype.kind == "f" and bool(np.isnan(a).any()) for a in probe]
        else:
            flags += [False] * len(own)
    return flags if len(flags) == n else [bool(trainable)] * n


def legacy_order(layer: Any) -> list[int]:
    """Keras's legacy weight order (trainable, then non-trainable) as indices into
    ``layer.get_weights()``.

    Example:
        >>> import kseq
        >>> bn = kseq.layers.BatchNormalization(); bn.build((None, 3)); legacy_order(bn)
        [0, 1, 2, 3]
        >>> bn.trainable = False; legacy_order(bn)
        [0, 1, 2, 3]
    """
    flags = _trainable_flags(layer)
    return [i for i, f in enumerate(flags) if f] + [i for i, f in enumerate(flags) if not f]


# ----------------------------------------------------------------------------------- write
def _legacy_entry(config: Any) -> Any:
    """A new-style object config as Keras's legacy ``{"class_name", "config"}`` (functions as
    their name), recursing through lists and plain dicts."""
    if isinstance(config, list):
        return [_legacy_entry(c) for c in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "function" and isinstance(config.get("config"), str):
        return config["config"]
    if "class_name" in config and "config" in config:
        name = config.get("registered_name") or config["class_name"]
        return {"class_name": name, "config": config["config"]}
    return {k: _legacy_entry(v) for k, v in config.items()}


def _model_config(model: Any) -> dict[str, Any]:
    config = serialize_keras_object(model.get_config())
    if isinstance(config.get("layers"), list):
        config["layers"] = [_legacy_entry(entry) for entry in config["layers"]]
    return {"class_name": get_registered_name(type(model)), "config": config}


def _training_config(model: Any) -> dict[str, Any] | None:
    compiled = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    optimizer = getattr(model, "optimizer", None)
    if not compiled or optimizer is None:
        return None
    out = {k: _legacy_entry(v) for k, v in compiled.items() if k != "optimizer"}
    out["optimizer_config"] = {
        "class_name": get_registered_name(type(optimizer)),
        "config": serialize_keras_object(optimizer.get_config()),
    }
    return out


def _set_list_attr(node: Any, name: str, items: list[str]) -> None:
    """Keras's ``save_attributes_to_hdf5_group``: chunked when the list is too large."""
    data = [s.encode("utf8") for s in items]
    if any(len(x) > HDF5_OBJECT_HEADER_LIMIT for x in data):
        raise RuntimeError(
            "The following attributes cannot be saved to HDF5 file because they are larger than "
            f"{HDF5_OBJECT_HEADER_LIMIT} bytes: {[x for x in data if len(x) > HDF5_OBJECT_HEADER_LIMIT]}"
        )
    array = np.asarray(data)
    chunks = 1
    while any(c.nbytes > HDF5_OBJECT_HEADER_LIMIT for c in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        node.attrs[name] = array
        return
    for i, chunk in enumerate(np.array_split(array, chunks)):
        node.attrs[f"{name}{i}"] = chunk


def _write_arrays(
    group: Any, names: list[str], arrays: list[np.ndarray], items: list[tuple[str, np.ndarray]]
) -> None:
    _set_list_attr(group, "weight_names", names)
    for name, array in zip(names, arrays, strict=True):
        group.create_dataset(name, data=np.asarray(array))
        items.append((f"{group.name}/{name}", np.asarray(array)))


def legacy_h5_bytes(model: Any, include_optimizer: bool = True) -> bytes:
    """The bytes of Keras's legacy ``.h5`` model file for ``model`` (what ``model.save("m.h5")``
    writes; Keras 3's ``keras.models.load_model`` reads it).

    Example:
        >>> import kseq
        >>> legacy_h5_bytes(kseq.Sequential([kseq.Input((1,)), kseq.layers.Dense(1)]))[:4]
        b'\\x89HDF'
    """
    h5py = require_h5py()
    metadata: dict[str, Any] = {
        "keras_version": KERAS_FORMAT_VERSION,
        "backend": "torch",
        "model_config": _model_config(model),
    }
    training = _training_config(model) if include_optimizer else None
    if training is not None:
        metadata["training_config"] = training
    buffer = io.BytesIO()
    items: list[tuple[str, np.ndarray]] = []
    with h5py.File(buffer, "w") as f:
        for key, value in metadata.items():
            f.attrs[key] = json.dumps(value).encode("utf8") if isinstance(value, dict) else value
        weights = f.create_group("model_weights")
        _set_list_attr(weights, "layer_names", [layer.name for layer in model.layers])
        weights.attrs["backend"] = b"torch"
        weights.attrs["keras_version"] = KERAS_FORMAT_VERSION.encode("utf8")
        for layer in sorted(model.layers, key=lambda la: la.name):
            arrays = layer.get_weights()
            order = legacy_order(layer) if arrays else []
            names = [f"{model.name}/{layer.name}/variable_{i}" for i in range(len(order))]
            group = weights.create_group(layer.name)
            _write_arrays(group, names, [arrays[i] for i in order], items)
        weights.create_group("top_level_model_weights").attrs["weight_names"] = np.asarray([])
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None:
            state = keras_optimizer_arrays(optimizer, model)
            if state is None:
                warnings.warn(
                    f"The state of optimizer '{optimizer.name}' ({type(optimizer).__name__}) has "
                    "no Keras layout, so it is not saved in the file.",
                    stacklevel=3,
                )
            elif state:
                heads = ["iteration", "learning_rate"][: min(2, len(state))]
                names = heads + [f"variable_{i}" for i in range(len(state) - len(heads))]
                group = f.create_group("optimizer_weights")
                _write_arrays(group, [f"{optimizer.name}/{n}" for n in names], state, items)
        f.attrs[CHECKSUM_ATTR] = variables_digest(items)  # Keras ignores it; kseq checks it
    return buffer.getvalue()


# ------------------------------------------------------------------------------------ read
def _weights_plan(f: LegacyH5File, group: Any, model: Any) -> list[tuple[Any, list[np.ndarray]]]:
    """``[(layer, its get_weights() arrays)]`` from a ``model_weights`` group, every array read
    and checked against the model (Keras's messages) before anything is set."""
    layers = [layer for layer in model.layers if layer.get_weights()]
    saved = [(n, f.node(group, n, "group")) for n in f.list_attr(group, "layer_names")]
    saved = [(n, g) for n, g in saved if f.list_attr(g, "weight_names")]
    if len(saved) != len(layers):
        raise f._fail(
            "Layer count mismatch when loading weights from file. Model expected "
            f"{len(layers)} layers, found {len(saved)} saved layers."
        )
    plan = []
    for k, (layer, (name, layer_group)) in enumerate(zip(layers, saved, strict=True)):
        values = f.arrays(layer_group)
        current = layer.get_weights()
        order = legacy_order(layer)
        if len(values) != len(current):
            raise f._fail(
                f"Weight count mismatch for layer #{k} (named {layer.name} in the current model, "
                f"{name} in the save file). Layer expects {len(current)} weight(s). Received "
                f"{len(values)} saved weight(s)"
            )
        arrays: list[Any] = [None] * len(current)
        for position, (index, value) in enumerate(zip(order, values, strict=True)):
            if value.shape != current[index].shape:
                raise f._fail(
                    f"Shape mismatch in layer #{k} (named {layer.name}) for weight #{position}. "
                    f"Weight expects shape {current[index].shape}. Received saved weight with "
                    f"shape {value.shape}"
                )
            arrays[index] = value
        plan.append((layer, arrays))
    top = f._child(group, "top_level_model_weights")
    if top is not None and f.list_attr(top, "weight_names"):
        raise f._fail("the model has no top-level weights, but the file stores some.")
    return plan


def read_legacy_weights(source: str | IO[bytes], name: str, model: Any) -> None:
    """``model.load_weights("w.h5")``: load a legacy file's layer weights (in layer order, as
    Keras's ``load_weights_from_hdf5_group``) into a built ``model``; all or nothing.

    Example:
        >>> import io, kseq
        >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> twin = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> read_legacy_weights(io.BytesIO(legacy_h5_bytes(model)), "m.h5", twin)
        >>> bool((twin.layers[0].kernel == model.layers[0].kernel).all())
        True
    """
    with LegacyH5File(source, name) as f, guard(name):
        root = f._file
        if f._attr(root, "layer_names") is None and f._child(root, "model_weights") is not None:
            root = f.node(root, "model_weights", "group")
        plan = _weights_plan(f, root, model)
        if root is not f._file:
            f.check_digest()
    for layer, arrays in plan:
        layer.set_weights(arrays)


def _find_models(config: Any) -> Any:
    """Keras's legacy loader looks classes up in ``keras.layers`` plus ``Sequential`` / ``Model`` /
    ``Functional``: give model entries (which carry no ``module``) kseq's model table."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        return config
    out = dict(config)
    if "module" not in out and out.get("class_name") in namespaces()["models"].table:
        out["module"] = "keras"
    layers = out["config"].get("layers")
    if isinstance(layers, list):
        out["config"] = {**out["config"], "layers": [_find_models(entry) for entry in layers]}
    return out


def _compile_args(training: Any, custom_objects: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keras's ``compile_args_from_training_config`` on kseq's name tables."""
    if not isinstance(training, dict) or not isinstance(training.get("optimizer_config"), dict):
        raise ValueError(f"`training_config` has no optimizer config: {training!r}")
    spaces = namespaces()

    def nested(keyword: str, config: Any) -> Any:
        if config is None or isinstance(config, str):
            return config  # names ("mse", "accuracy") are resolved by compile()
        if isinstance(config, dict) and "class_name" in config:
            return spaces[keyword].deserialize(config, custom_objects)
        if isinstance(config, dict):
            return {k: nested(keyword, v) for k, v in config.items()}
        if isinstance(config, list):
            return [nested(keyword, c) for c in config]
        raise ValueError(
            "Saved configuration not understood. Configuration should be a dictionary, string, "
            f"tuple or list. Received: config={config}."
        )

    return {
        "optimizer": spaces["optimizers"].deserialize(training["optimizer_config"], custom_objects),
        "loss": nested("losses", training.get("loss")),
        "metrics": nested("metrics", training.get("metrics")),
        "weighted_metrics": nested("metrics", training.get("weighted_metrics")),
        "loss_weights": training.get("loss_weights"),
    }


def _restore_optimizer(f: LegacyH5File, model: Any) -> None:
    group = f._child(f._file, "optimizer_weights")
    if group is None:
        return
    values = f.arrays(group)
    optimizer = model.optimizer
    head = keras_optimizer_arrays(optimizer, model) or []
    if len(values) > len(head):
        build_optimizer_for(model)
    expected = keras_optimizer_arrays(optimizer, model)
    if expected is None or [np.shape(v) for v in values] != [a.shape for a in expected]:
        warnings.warn(
            "Error in loading the saved optimizer state. As a result, your model is starting "
            "with a freshly initialized optimizer.",
            stacklevel=4,
        )
        return
    set_keras_optimizer_arrays(optimizer, model, values)


def read_legacy_model(
    source: str | IO[bytes],
    name: str,
    custom_objects: Mapping[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Any:
    """Keras's ``load_model_from_hdf5``: rebuild the model, load its weights, and compile it from
    ``training_config`` (with the optimizer state) when the file has one and ``compile`` is on.

    Example:
        >>> import io, kseq
        >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> loaded = read_legacy_model(io.BytesIO(legacy_h5_bytes(model)), "m.h5")
        >>> type(loaded.optimizer).__name__
        'SGD'
    """
    with LegacyH5File(source, name) as f, guard(name):
        config = f.json_attr("model_config")
        if config is None:
            raise ValueError(f"No model config found in the file at {name}.")
        if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
            raise f._fail(
                "The provided configuration is not a valid Keras configuration. Expected a "
                f"dictionary containing a 'config' key. Received: config={str(config)[:200]}"
            )
        try:
            model = deserialize_keras_object(
                _find_models(config), custom_objects, safe_mode=safe_mode
            )
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise ValueError(f"Could not load the model in {name!r}: {exc}") from exc
        if not hasattr(model, "layers") or not hasattr(model, "get_weights"):
            raise f._fail(f"it does not describe a model: it loads as {model!r}.")
        plan = _weights_plan(f, f.node(f._file, "model_weights", "group"), model)
        f.check_digest()
        for layer, arrays in plan:
            layer.set_weights(arrays)
        if not compile:
            return model
        training = f.json_attr("training_config")
        if training is None:
            warnings.warn(
                "No training configuration found in the save file, so the model was *not* "
                "compiled. Compile it manually.",
                stacklevel=3,
            )
            return model
        try:
            model.compile(**_compile_args(training, custom_objects))
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"Could not compile the model in {name!r}: {exc}") from exc
        _restore_optimizer(f, model)
    return model
