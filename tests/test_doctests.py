"""Run every docstring example in ``kseq`` (each public function documents a runnable example)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import kseq

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(kseq.__path__, prefix="kseq.")
    if not info.name.endswith("__main__")
)

# Modules whose examples need an optional extra (installed by the `test` extra, so CI runs them).
NEEDS = {"kseq.core.image_dataset": "PIL", "kseq.core.plot_history": "matplotlib"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs=dict(vars(module))):
        kseq.utils.clear_session()
        # clear_globs=False: an example that runs torch.compile leaves dynamo hooks that delete
        # their globals from this dict when a later dynamo reset frees the compiled code; an
        # emptied dict turns that into an unraisable KeyError in whichever test runs next.
        runner.run(test, clear_globs=False)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, (
        f"{results.failed} docstring example(s) failed in {name} (see output above)"
    )
