"""Shared test setup: deterministic seeds, fresh Keras auto-names, and the optional-oracle markers.

* ``@pytest.mark.keras``: parity tests against Keras 3 (torch backend); skipped when keras is absent.
* ``@pytest.mark.cuda``: needs a CUDA GPU; skipped without one.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")

HAS_KERAS = importlib.util.find_spec("keras") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_keras = pytest.mark.skip(
        reason="keras (the parity oracle) is not installed: pip install -e .[keras]"
    )
    skip_cuda = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "keras" in item.keywords and not HAS_KERAS:
            item.add_marker(skip_keras)
        if "cuda" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_cuda)


@pytest.fixture(autouse=True)
def _fresh_state() -> None:
    """Every test starts with seed 0 and Keras auto-naming reset (``dense``, ``dense_1``...)."""
    import kseq

    kseq.utils.clear_session()
    kseq.utils.set_random_seed(0)
    if "keras" in sys.modules:
        # free_memory=False: names are reset all the same, without a ~0.5 s gc.collect() per test.
        sys.modules["keras"].utils.clear_session(free_memory=False)


@pytest.fixture
def keras():
    """The Keras 3 module on the torch backend (the parity oracle)."""
    return pytest.importorskip("keras")
