"""The public API stays what it is: ``dir()`` of every public namespace against a committed list.

A public name is one without a leading underscore whose value kseq defines (a class, function or
object whose ``__module__`` is in kseq) or a plain constant. Imported helpers (``Any``, ``Tensor``)
and implementation submodules are not API. Adding a name is a deliberate act: regenerate the list
with ``python tests/test_public_api.py`` and commit it with the change that adds the name.
"""

from __future__ import annotations

import importlib
import json
import sys
import types
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).with_name("public_api.json")
NAMESPACES = [
    "kseq",
    "kseq.activations",
    "kseq.backend",
    "kseq.callbacks",
    "kseq.config",
    "kseq.constraints",
    "kseq.initializers",
    "kseq.layers",
    "kseq.losses",
    "kseq.metrics",
    "kseq.mixed_precision",
    "kseq.models",
    "kseq.ops",
    "kseq.optimizers",
    "kseq.optimizers.schedules",
    "kseq.preprocessing",
    "kseq.preprocessing.sequence",
    "kseq.random",
    "kseq.regularizers",
    "kseq.saving",
    "kseq.utils",
    "kseq.training.distributed",
]
_CONSTANTS = (str, int, float, bool, tuple, list, dict, frozenset)


def public_names(namespace: str) -> list[str]:
    """The public names of one namespace, sorted."""
    module = importlib.import_module(namespace)
    names = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        value = getattr(module, name)
        if isinstance(value, types.ModuleType):
            continue
        owner = getattr(value, "__module__", None)
        if (isinstance(owner, str) and owner.split(".")[0] == "kseq") or isinstance(
            value, _CONSTANTS
        ):
            names.append(name)
    return sorted(names)


def current_api() -> dict[str, list[str]]:
    return {namespace: public_names(namespace) for namespace in NAMESPACES}


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_public_names_unchanged(namespace: str) -> None:
    expected = json.loads(SNAPSHOT.read_text())[namespace]
    actual = public_names(namespace)
    missing = sorted(set(expected) - set(actual))
    added = sorted(set(actual) - set(expected))
    assert not missing and not added, (
        f"{namespace}: public names changed. Missing: {missing}. New: {added}. "
        "If the change is intended, regenerate tests/public_api.json (python tests/test_public_api.py)."
    )


def test_namespaces_are_reachable_as_attributes() -> None:
    import kseq

    for namespace in NAMESPACES[1:]:
        obj = kseq
        for part in namespace.split(".")[1:]:
            obj = getattr(obj, part)
        assert obj is sys.modules[namespace]


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(current_api(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
