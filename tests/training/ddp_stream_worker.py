"""Run by tests/training/test_distributed_streams.py under torchrun (2 CPU processes, gloo).

Every torch data form under DDP: which samples each rank's batches hold (per epoch), what fit
trains to on each form (weights and History), evaluate() on a Dataset, the warning for a
DataLoader without a DistributedSampler and the error for an IterableDataset that differs by rank.
Each rank writes what it saw to ``<prefix><rank>.json``.
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler, IterableDataset

import kseq
from kseq.training import distributed
from kseq.training.streams import Stream

FEATURES = 8


def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("float32")
    return x, y


class Samples(Dataset):
    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        return self.x[i], self.y[i]


class Rows(IterableDataset):
    """The same rows in the same order on every rank (kseq shards it by position)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __iter__(self):
        for i in range(len(self.x)):
            yield torch.from_numpy(self.x[i]), torch.tensor(self.y[i])


class ShardsItself(Rows):
    """Splits itself by rank: passed as `x`, kseq must refuse it (it would be split twice)."""

    def __iter__(self):
        for i in range(distributed.rank(), len(self.x), distributed.world_size()):
            yield torch.from_numpy(self.x[i]), torch.tensor(self.y[i])


def make_model() -> kseq.Sequential:
    kseq.utils.set_random_seed(1)
    model = kseq.Sequential(
        [
            kseq.Input(shape=(FEATURES,)),
            kseq.layers.Dense(8, activation="tanh"),
            kseq.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=kseq.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"]
    )
    return model


def seen(stream: Stream, x: np.ndarray, epochs: int) -> list[list[list[int]]]:
    """Per epoch, per batch, the dataset indices of the rows in this rank's batches."""
    index = {float(v): i for i, v in enumerate(x[:, 0])}
    return [
        [[index[float(v)] for v in xb[:, 0]] for xb, _, _ in stream.batches(epoch=e)]
        for e in range(epochs)
    ]


def main(out_prefix: str) -> None:
    distributed.initialize(backend="gloo")
    kseq.utils.set_random_seed(0)
    cpu = torch.device("cpu")
    report: dict = {"rank": distributed.rank(), "world": distributed.world_size()}

    # ---- each rank's share, form by form (37 samples: the training share is padded to 19)
    x, y = make_data(37, seed=2)
    report["map_train"] = seen(
        Stream(Samples(x, y), cpu, batch_size=8, shuffle=True, shard="train"), x, 2
    )
    report["map_eval"] = seen(Stream(Samples(x, y), cpu, batch_size=8, shard="eval"), x, 1)
    report["iter_train"] = seen(Stream(Rows(x, y), cpu, batch_size=8, shard="train"), x, 2)
    report["iter_eval"] = seen(Stream(Rows(x, y), cpu, batch_size=8, shard="eval"), x, 1)
    sampler = DistributedSampler(Samples(x, y), shuffle=True, seed=5)
    loader = DataLoader(Samples(x, y), batch_size=8, sampler=sampler)
    report["loader_train"] = seen(Stream(loader, cpu, shard="train"), x, 2)
    plain = DataLoader(Samples(x, y), batch_size=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report["plain_loader"] = seen(Stream(plain, cpu, shard="train"), x, 1)
        Stream(plain, cpu, shard="eval")  # the same loader again: no second warning
    report["warnings"] = [str(w.message) for w in caught]
    try:
        list(Stream(ShardsItself(x, y), cpu, batch_size=8, shard="train").batches())
        report["shards_itself"] = None
    except ValueError as exc:
        report["shards_itself"] = str(exc)

    # ---- fit on each form: 64 training samples, 2 ranks x batch 8 (one 16-sample global batch)
    x, y = make_data(64, seed=0)
    xv, yv = make_data(21, seed=1)
    init = make_model()
    init.build((None, FEATURES))
    report["init"] = [w.tolist() for w in init.get_weights()]
    forms = {
        "dataset": lambda: Samples(x, y),
        "iterable": lambda: Rows(x, y),
        "loader": lambda: DataLoader(
            Samples(x, y), batch_size=8, sampler=DistributedSampler(Samples(x, y), shuffle=False)
        ),
    }
    report["fit"] = {}
    for name, form in forms.items():
        model = make_model()
        kwargs = {} if name == "loader" else {"batch_size": 8}
        history = model.fit(
            form(), epochs=2, shuffle=False, validation_data=Samples(xv, yv), verbose=0, **kwargs
        )
        report["fit"][name] = {
            "history": history.history,
            "steps": history.params["steps"],
            "weights": [w.tolist() for w in model.get_weights()],
        }
    # Shuffled and padded (37 samples): every rank runs the same steps; the replicas stay equal.
    model = make_model()
    xs, ys = make_data(37, seed=2)
    history = model.fit(Samples(xs, ys), batch_size=8, epochs=2, verbose=0)
    report["fit"]["shuffled"] = {
        "history": history.history,
        "steps": history.params["steps"],
        "weights": [w.tolist() for w in model.get_weights()],
    }
    report["evaluate"] = model.evaluate(Samples(xv, yv), batch_size=4, verbose=0, return_dict=True)
    report["evaluate_weights"] = [w.tolist() for w in model.get_weights()]
    with open(f"{out_prefix}{distributed.rank()}.json", "w") as f:
        json.dump(report, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
