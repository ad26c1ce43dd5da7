"""Fixtures shared by the training tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
import torch
from torch._dynamo.utils import counters


def _reset_dynamo() -> None:
    # Collect the dead compiled models first: a model still alive at the reset fires its weakref
    # callbacks later into dynamo's emptied caches (an unraisable KeyError in some later test).
    gc.collect()
    torch._dynamo.reset()
    gc.collect()


@pytest.fixture
def fresh_dynamo() -> Iterator[None]:
    """A test with compiled steps: dynamo's caches and counters start empty and are emptied after
    the test's own objects are gone (the reset runs in teardown, after the test's locals died)."""
    _reset_dynamo()
    counters.clear()
    yield
    _reset_dynamo()
