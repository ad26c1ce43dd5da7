"""DDP with every torch data form: two CPU processes (gloo) under torchrun.

A map-style Dataset, an IterableDataset and a DataLoader with a DistributedSampler each give the
ranks disjoint shares covering the data (reshuffled every epoch, the same number of batches on
every rank), fit keeps the replicas equal and trains as one process does on the ranks' combined
batches, validation and evaluate() count every sample once, a DataLoader without a
DistributedSampler is warned about and an IterableDataset that differs by rank is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DistributedSampler

from kseq.training import distributed
from kseq.training.sharding import IterableShard, ShardSampler

WORKER = Path(__file__).with_name("ddp_stream_worker.py")
sys.path.insert(0, str(WORKER.parent))
import ddp_stream_worker as w  # noqa: E402


def flat(epoch: list[list[int]]) -> list[int]:
    return [i for batch in epoch for i in batch]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    prefix = str(tmp_path_factory.mktemp("ddp") / "rank")
    root = str(WORKER.parents[2])  # this checkout's kseq, not an installed one
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "KSEQ_DEVICE": "cpu", "PYTHONPATH": path}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(WORKER), prefix],
        capture_output=True, text=True, timeout=240, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(Path(f"{prefix}{r}.json").read_text()) for r in (0, 1)]


def assert_disjoint_cover(shares: list[list[int]], n: int, padded: bool) -> None:
    a, b = shares
    if padded:  # equal shares; only the padding (the first of the epoch's order) repeats
        assert len(a) == len(b) == -(-n // 2)
        assert sorted(set(a) | set(b)) == list(range(n))
        assert len(a) + len(b) - n == len(set(a) & set(b)) == (-n) % 2
    else:
        assert not set(a) & set(b)
        assert sorted(a + b) == list(range(n))


@pytest.mark.slow
def test_every_form_gives_each_rank_a_disjoint_share_covering_the_data(reports) -> None:
    for form, padded in (
        ("map_train", True), ("map_eval", False), ("iter_train", True), ("iter_eval", False),
        ("loader_train", True),
    ):  # fmt: skip
        epochs = [r[form] for r in reports]
        for e in range(len(epochs[0])):
            # The same number of batches on both ranks: no rank waits in an all-reduce alone.
            assert len(epochs[0][e]) == len(epochs[1][e]), form
            assert_disjoint_cover([flat(epochs[0][e]), flat(epochs[1][e])], 37, padded)
    # Shuffled forms get a new order every epoch (set_epoch); the iterable keeps its own order.
    for form in ("map_train", "loader_train"):
        assert flat(reports[0][form][0]) != flat(reports[0][form][1])
    assert flat(reports[0]["iter_train"][0]) == [*range(0, 37, 2)]
    assert flat(reports[1]["iter_train"][0]) == [*range(1, 37, 2), 0]  # padded from the start
    assert flat(reports[0]["map_eval"][0]) == list(range(0, 37, 2))
    # The DataLoader's DistributedSampler is stepped with set_epoch, as torch's docs ask.
    sampler = DistributedSampler(range(37), num_replicas=2, rank=1, shuffle=True, seed=5)
    sampler.set_epoch(1)
    assert flat(reports[1]["loader_train"][1]) == list(sampler)


@pytest.mark.slow
def test_a_loader_without_distributed_sampler_warns_once_and_a_self_splitting_iterable_is_refused(
    reports,
) -> None:
    assert all(flat(r["plain_loader"][0]) == list(range(37)) for r in reports)  # all data, each
    (message,) = reports[0]["warnings"]  # rank 0 only, once for the same loader
    assert reports[1]["warnings"] == []
    assert "without a DistributedSampler under DDP (2 ranks)" in message
    assert "every rank sees all of its data" in message
    assert "sampler=torch.utils.data.distributed.DistributedSampler(dataset)" in message
    for r in reports:
        assert r["shards_itself"] is not None
        assert (
            "ShardsItself (an IterableDataset) gave the ranks different data" in r["shards_itself"]
        )
        assert "pass it as DataLoader(dataset, batch_size=...)" in r["shards_itself"]


def single_process_fit(init: list) -> tuple[dict, list[np.ndarray]]:
    x, y = w.make_data(64, seed=0)
    xv, yv = w.make_data(21, seed=1)
    model = w.make_model()
    model.build((None, w.FEATURES))
    model.set_weights([np.asarray(v, dtype="float32") for v in init])
    history = model.fit(
        w.Samples(x, y), batch_size=16, epochs=2, shuffle=False,
        validation_data=w.Samples(xv, yv), verbose=0,
    )  # fmt: skip
    return history.history, model.get_weights()


@pytest.mark.slow
def test_fit_on_each_form_equals_one_process_on_the_combined_batches(reports) -> None:
    # 64 samples, 2 ranks x batch 8, unshuffled: each step's two shards are one process's batch
    # of 16, so DDP's averaged gradients, the all-reduced loss and validation equal that run's.
    history, weights = single_process_fit(reports[0]["init"])
    for form in ("dataset", "iterable", "loader"):
        runs = [r["fit"][form] for r in reports]
        assert runs[0]["weights"] == runs[1]["weights"], form  # DDP kept the replicas equal
        assert runs[0]["history"] == runs[1]["history"], form  # global (all-reduced) metrics
        if form != "iterable":
            assert runs[0]["steps"] == 4, form  # 64 / 2 ranks / 8
        for key, values in history.items():
            np.testing.assert_allclose(runs[0]["history"][key], values, rtol=1e-5, err_msg=form)
        for got, expected in zip(runs[0]["weights"], weights, strict=True):
            np.testing.assert_allclose(got, expected, atol=1e-6, err_msg=form)
    shuffled = [r["fit"]["shuffled"] for r in reports]
    assert shuffled[0]["weights"] == shuffled[1]["weights"]
    assert shuffled[0]["steps"] == shuffled[1]["steps"] == 3  # 37 -> 19 per rank, batch 8


@pytest.mark.slow
def test_evaluate_on_a_dataset_counts_every_sample_once(reports) -> None:
    assert reports[0]["evaluate"] == reports[1]["evaluate"]
    model = w.make_model()
    model.build((None, w.FEATURES))
    model.set_weights([np.asarray(v, dtype="float32") for v in reports[0]["evaluate_weights"]])
    xv, yv = w.make_data(21, seed=1)
    single = model.evaluate(xv, yv, verbose=0, return_dict=True)
    for key, value in single.items():
        assert reports[0]["evaluate"][key] == pytest.approx(value, rel=1e-5)


# ------------------------------------------------------ the share rules, in one process
def test_shard_sampler_is_distributed_samplers_order() -> None:
    for n, shuffle in ((37, True), (37, False), (3, True), (40, True)):
        for rank in range(4):
            ours = ShardSampler(n, rank=rank, world_size=4, shuffle=shuffle, seed=11, pad=True)
            theirs = DistributedSampler(range(n), 4, rank, shuffle=shuffle, seed=11)
            for epoch in (0, 3):
                ours.set_epoch(epoch)
                theirs.set_epoch(epoch)
                assert list(ours) == list(theirs) and len(ours) == len(theirs)
    shares = [list(ShardSampler(10, rank=r, world_size=3)) for r in range(3)]
    assert sorted(flat(shares)) == list(range(10))  # evaluation: each sample once


def test_one_process_reads_every_form_whole() -> None:
    assert list(IterableShard(range(5), pad=True)) == [0, 1, 2, 3, 4]
    x, y = w.make_data(10, seed=0)
    model = w.make_model()
    model.fit(w.Rows(x, y), batch_size=4, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 3
    assert not torch.distributed.is_initialized()
    assert distributed.world_size() == 1
