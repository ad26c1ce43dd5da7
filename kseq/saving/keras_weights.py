"""The Keras variable tree of a kseq model: which arrays go under which ``<path>/vars/<i>``.

Keras stores a model's variables by *object path*, not by variable name (``saving_lib.py``):

* a layer's own variables go to ``<path>/vars/0``, ``<path>/vars/1``, ... in ``get_weights`` order;
* a sublayer held in attribute ``attr`` lives at ``<path>/<attr>``; sublayers in a list attribute
  (``Sequential``'s ``layers``) at ``<path>/<attr>/<snake_class>[_n]`` with a counter per list
  (``layers/dense``, ``layers/dense_1``: the **class** name, never ``layer.name``);
* recurrent layers keep their variables in their cell: ``layers/lstm/cell/vars/0..2``;
* the optimizer's variables go to ``optimizer/vars/<i>``: ``iteration``, ``learning_rate`` (unless a
  schedule drives it), EMA averages, gradient accumulators, then the optimizer's own state.

kseq layers follow the Keras layout contract (``get_weights()`` is Keras's list), and a sublayer's
torch attribute name is its Keras attribute name, so the tree is derived from the modules
themselves; :data:`OWN_VARIABLES_AT` lists the Keras classes whose variables live one level down.
The file formats (``h5_format``, ``torch_format``) only encode ``{path: [arrays]}``.

Loading is all-or-nothing: every array is read and checked (count, shape, numeric dtype) before
the first weight of the model changes.

Example:
    >>> import kseq
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2), kseq.layers.Dense(1)])
    >>> [(g.path, len(g.arrays)) for g in collect(model)]
    [('', 0), ('layers/dense', 2), ('layers/dense_1', 2)]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch

from kseq.layers.layer import Layer
from kseq.saving.optimizer_layout import keras_optimizer_arrays, set_keras_optimizer_arrays
from kseq.saving.variable_tree import OWN_VARIABLES_AT, VarGroup, layer_groups, layer_owners

__all__ = ["OWN_VARIABLES_AT", "VarGroup", "VariableReader", "collect", "layer_owners", "restore"]

NUMERIC_KINDS = "biuf"


class VariableReader(Protocol):
    """What a file format provides to :func:`restore`."""

    def shapes(self, path: str) -> list[tuple[int, ...]] | None:
        """Shapes of ``<path>/vars/0..n-1`` (``None`` when the file has no such group)."""

    def read(self, path: str, index: int) -> np.ndarray:
        """The array ``<path>/vars/<index>`` (numeric dtype; the shape was checked already)."""

    def paths(self) -> set[str]:
        """Every group path that holds at least one variable."""

    def verify(self) -> None:
        """Raise ``ValueError`` if the file's own integrity check fails (a no-op without one)."""


def build_optimizer_for(model: Any) -> bool:
    """Create the optimizer state of a compiled, built ``model`` now (loading needs it), on the
    device ``fit`` will train on: the model is placed there first, as ``fit`` would, so that the
    state is not left behind on the CPU when ``fit`` later moves the model. Returns whether the
    optimizer is built (a model without trainable weights has no optimizer state).

    Example:
        >>> import kseq
        >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> build_optimizer_for(model), model.optimizer.built
        (True, True)
    """
    trainer = getattr(model, "_trainer", None)
    optimizer = getattr(trainer, "optimizer", None)
    if optimizer is None or not getattr(model, "built", False):
        return False
    if not optimizer.built and model.trainable_weights:
        model._place(trainer.device())
        trainer.build_optimizer()
    return bool(optimizer.built)


# ------------------------------------------------------------------------------- public API
def collect(model: Layer, include_optimizer: bool = False) -> list[VarGroup]:
    """Every variable group of ``model`` with its arrays, in Keras's layout.

    Args:
        model: A built kseq model (or layer).
        include_optimizer: Add the ``optimizer`` group when the model was compiled with a kseq
            optimizer.

    Example:
        >>> import kseq
        >>> model = kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])
        >>> [a.shape for a in collect(model)[1].arrays]
        [(2, 1), (1,)]
    """
    groups = list(layer_groups(model, ""))
    optimizer = getattr(model, "optimizer", None) if include_optimizer else None
    if optimizer is not None:
        # Save the state a loader builds anyway (Keras's compile_from_config builds the optimizer,
        # then would skip a 2-variable state with a warning).
        build_optimizer_for(model)
        arrays = keras_optimizer_arrays(optimizer, model)
        if arrays is None:
            warnings.warn(
                f"The state of optimizer '{optimizer.name}' ({type(optimizer).__name__}) has no Keras "
                "layout, so it is not saved with the weights. Use the BackupAndRestore callback to "
                "checkpoint it.",
                stacklevel=3,
            )
        else:
            groups.append(VarGroup("optimizer", optimizer.name, optimizer, arrays))
    return groups


def _describe(owner: Any) -> str:
    return f"<{type(owner).__name__} name={getattr(owner, 'name', '?')}>"


def _check_group(group: VarGroup, shapes: Sequence[tuple[int, ...]] | None) -> str | None:
    """Why the file's group cannot fill ``group`` (Keras's wording), or ``None``."""
    got = list(shapes or [])
    if len(got) != len(group.arrays):
        return (
            f"Layer '{group.owner.name}' expected {len(group.arrays)} variables, but received "
            f"{len(got)} variables during loading. Expected shapes: "
            f"{[tuple(a.shape) for a in group.arrays]}"
        )
    for i, (have, want) in enumerate(zip(got, group.arrays, strict=True)):
        if tuple(have) != tuple(want.shape):
            return (
                f"The shape of the target variable and the shape of the target value must match: "
                f"variable {i} of layer '{group.owner.name}' has shape {tuple(want.shape)}, but the "
                f"file holds shape {tuple(have)} at '{group.path}/vars/{i}'."
            )
    return None


def _read_group(reader: VariableReader, group: VarGroup) -> list[np.ndarray]:
    arrays = [reader.read(group.path, i) for i in range(len(group.arrays))]
    for i, a in enumerate(arrays):
        if a.dtype.kind not in NUMERIC_KINDS:
            raise ValueError(
                f"Variable '{group.path}/vars/{i}' has dtype {a.dtype}; only numeric arrays can be "
                "loaded."
            )
    return arrays


def restore(
    model: Layer,
    reader: VariableReader,
    source: str,
    skip_mismatch: bool = False,
    include_optimizer: bool = True,
) -> None:
    """Load the variables ``reader`` provides into ``model`` (and its optimizer).

    Every layer's arrays are read and checked before any weight changes; a mismatch raises a
    ``ValueError`` naming the file, each failing layer, and what it expected (layers that do not
    fit are skipped instead with ``skip_mismatch=True``). Variables in the file that no layer of
    the model takes are an error too (Keras ignores them silently). The optimizer's variables are
    loaded when their count matches, else skipped with Keras's warning.

    Args:
        model: The kseq model to fill.
        reader: The opened file (see :class:`VariableReader`).
        source: The file's name, for messages.
        skip_mismatch: Skip layers whose variables do not match instead of failing.
        include_optimizer: Also restore the optimizer state when the file has one.
    """
    groups = collect(model)
    failures: list[tuple[Any, str]] = []
    loaded: list[tuple[VarGroup, list[np.ndarray]]] = []
    for group in groups:
        problem = _check_group(group, reader.shapes(group.path))
        if problem is None:
            loaded.append((group, _read_group(reader, group)))
        else:
            failures.append((group.owner, problem))
    used = {g.path for g in groups}
    unused = sorted(
        p for p in reader.paths() if p not in used and p.split("/", 1)[0] != "optimizer"
    )
    if unused and not skip_mismatch:
        failures.append(
            (
                model,
                f"The file has variables that no layer of model '{model.name}' takes: {unused}. "
                "Was it saved from a different model?",
            )
        )
    if failures and not skip_mismatch:
        owner, message = failures[0]
        raise ValueError(
            f"Could not load weights from {source!r} into model '{model.name}'. A total of "
            f"{len(failures)} objects could not be loaded. Example error message for object "
            f"{_describe(owner)}:\n\n{message}\n\nList of objects that could not be loaded:\n"
            f"[{', '.join(_describe(o) for o, _ in failures)}]"
        )
    reader.verify()
    with torch.no_grad():
        for group, arrays in loaded:
            if group.arrays:
                group.owner._set_own_weights([np.asarray(a) for a in arrays])
    if include_optimizer:
        _restore_optimizer(model, reader)


def _restore_optimizer(model: Any, reader: VariableReader) -> None:
    optimizer = getattr(model, "optimizer", None)
    saved = reader.shapes("optimizer")
    if optimizer is None or not saved:
        return
    current = keras_optimizer_arrays(optimizer, model)
    if current is not None and len(current) != len(saved) and not optimizer.built:
        build_optimizer_for(model)  # create the state the file holds (Keras builds it too)
        current = keras_optimizer_arrays(optimizer, model)
    if current is None:
        return
    head = 1 + (optimizer.state_dict().get("learning_rate") is not None)
    fresh = optimizer.built and optimizer.iterations == 0 and len(saved) == head
    if fresh:
        # Saved before its first step: its state was the initial state, which a freshly built
        # optimizer already holds; take the iteration and learning rate only.
        group = VarGroup("optimizer", optimizer.name, optimizer, current[:head])
        problem = _check_group(group, saved)
        if problem is None:
            set_keras_optimizer_arrays(
                optimizer, model, [*_read_group(reader, group), *current[head:]]
            )
            return
    if len(current) != len(saved):
        warnings.warn(
            f"Skipping variable loading for optimizer '{optimizer.name}', because it has "
            f"{len(current)} variables whereas the saved optimizer has {len(saved)} variables. ",
            stacklevel=3,
        )
        return
    group = VarGroup("optimizer", optimizer.name, optimizer, current)
    problem = _check_group(group, saved)
    if problem is not None:
        raise ValueError(f"Could not load the optimizer state: {problem}")
    set_keras_optimizer_arrays(optimizer, model, _read_group(reader, group))
