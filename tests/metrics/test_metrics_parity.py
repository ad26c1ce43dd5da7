"""Every kseq metric against Keras 3 (torch backend): same random inputs, three ``update_state``
calls, with and without sample weights; ``result()`` must agree to rtol 1e-5.

Predictions include values exactly on AUC/threshold bucket edges (0, 1, 0.5, k/199) so that the
vectorised bucketing is checked where rounding decides which side a prediction falls on.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from metric_cases import CASES, N, make_batch

from kseq import metrics

# Reductions over the batch axis have no per-sample weights in Keras either.
UNWEIGHTED_ONLY = {"CosineSimilarity-axis0"}


def _weights(name: str, rng: np.random.Generator) -> np.ndarray:
    if "IoU" in name and "float" not in name:
        return rng.integers(0, 4, N).astype(np.int32)  # IoU state is int32 by default
    return rng.random(N).astype(np.float32) * 2


def _run(metric: Any, batches: list[tuple[Any, ...]], to_input: Callable[[Any], Any]) -> np.ndarray:
    for batch in batches:
        metric.update_state(*(None if b is None else to_input(b) for b in batch[:2]),
                            sample_weight=None if batch[2] is None else to_input(batch[2]))  # fmt: skip
    result = metric.result()
    return np.asarray(result.detach().cpu() if isinstance(result, torch.Tensor) else result)


@pytest.mark.keras
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", list(CASES))
def test_result_matches_keras(keras, case: str, weighted: bool) -> None:
    if weighted and case in UNWEIGHTED_ONLY:
        pytest.skip("per-sample weights do not apply to a reduction over the batch axis")
    (make_kseq, make_keras), kind = CASES[case]
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    batches = [
        (*make_batch(kind, rng), _weights(case, rng) if weighted else None) for _ in range(3)
    ]
    keras_batches = batches
    if case == "SparseCategoricalCrossentropy-ignore" and not weighted:
        # Keras drops ignored samples from the mean only when sample weights are given (its
        # unweighted path never reads the values' mask); kseq always drops them, so it matches
        # Keras with unit weights. Documented in kseq.metrics.SparseCategoricalCrossentropy.
        keras_batches = [(t, p, np.ones(N, np.float32)) for t, p, _ in batches]
    if case == "R2Score-too-many-regressors":
        # Keras warns and falls back to the plain score; kseq falls back without the warning.
        with pytest.warns(UserWarning, match="More independent predictors than datapoints"):
            expected = _run(make_keras(keras), keras_batches, lambda a: a)
    else:
        expected = _run(make_keras(keras), keras_batches, lambda a: a)
    got = _run(make_kseq(metrics), batches, torch.as_tensor)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
