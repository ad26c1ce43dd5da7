"""Every torch data form a PyTorch user brings to ``fit``/``evaluate``/``predict``: map-style
``Dataset``, ``IterableDataset``, ``DataLoader``, generators and ``PyDataset``, next to arrays and
tensors; batching, seeded shuffling, weights, ``steps_per_epoch``, errors and device streaming."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset

import kseq
from kseq import layers
from kseq.training.prefetch import Prefetcher

N, FEATURES = 512, 8


def make_data(n: int = N, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype("float32")
    return x, y


def make_model(seed: int = 1) -> kseq.Sequential:
    kseq.utils.set_random_seed(seed)
    model = kseq.Sequential(
        [
            kseq.Input(shape=(FEATURES,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=kseq.optimizers.Adam(learning_rate=0.01),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


class Samples(Dataset):
    """A user's map-style dataset of ``(x, y)`` samples (NumPy rows), recording what was read."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y
        self.read: list[int] = []

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        self.read.append(int(i))
        return self.x[i], self.y[i]


class Stream(IterableDataset):
    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __iter__(self):
        for i in range(len(self.x)):
            yield torch.from_numpy(self.x[i]), torch.tensor(self.y[i])


class Batches(kseq.utils.PyDataset):
    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i: int):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]


def batch_generator(x: np.ndarray, y: np.ndarray, batch_size: int):
    rng = np.random.default_rng(0)
    while True:
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            yield x[idx], y[idx]


def test_the_same_model_learns_alike_from_all_seven_data_forms() -> None:
    x, y = make_data()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    steps = math.ceil(N / 32)
    forms = {
        "arrays": lambda m: m.fit(x, y, epochs=6, verbose=0),
        "tensors": lambda m: m.fit(xt, yt, epochs=6, verbose=0),
        "Dataset": lambda m: m.fit(Samples(x, y), epochs=6, verbose=0),
        "IterableDataset": lambda m: m.fit(Stream(x, y), epochs=6, verbose=0),
        "DataLoader": lambda m: m.fit(
            DataLoader(TensorDataset(xt, yt), batch_size=32, shuffle=True), epochs=6, verbose=0
        ),
        "generator": lambda m: m.fit(
            batch_generator(x, y, 32), steps_per_epoch=steps, epochs=6, verbose=0
        ),
        "PyDataset": lambda m: m.fit(Batches(x, y, 32), epochs=6, verbose=0),
    }
    test_x, test_y = make_data(256, seed=1)
    accuracy = {}
    for name, fit in forms.items():
        model = make_model()
        history = fit(model)
        assert history.params["steps"] in (steps, None), name
        accuracy[name] = model.evaluate(test_x, test_y, verbose=0, return_dict=True)["accuracy"]
    assert min(accuracy.values()) > 0.9, accuracy
    assert max(accuracy.values()) - min(accuracy.values()) < 0.05, accuracy


def test_a_dataset_is_batched_by_batch_size_default_32() -> None:
    x, y = make_data(100)
    model = make_model()
    assert model.fit(Samples(x, y), verbose=0).params["steps"] == 4  # ceil(100 / 32)
    assert model.fit(Samples(x, y), batch_size=10, verbose=0).params["steps"] == 10
    assert model.predict(Samples(x, y), batch_size=7, verbose=0).shape == (100, 1)
    loss = model.evaluate(x, y, verbose=0)[0]
    assert model.evaluate(Samples(x, y), batch_size=64, verbose=0)[0] == pytest.approx(
        loss, rel=1e-5
    )
    steps = model.fit(Stream(x, y), batch_size=25, epochs=2, verbose=0).history["loss"]
    assert len(steps) == 2


def test_dataset_order_is_shuffled_every_epoch_and_reproducible_from_the_seed() -> None:
    x, y = make_data(64)

    def orders(seed: int, shuffle: bool = True) -> list[list[int]]:
        data = Samples(x, y)
        model = make_model()
        kseq.utils.set_random_seed(seed)
        data.read.clear()  # fit reads the first batch to build; then 2 epochs of 64 samples
        model.fit(data, batch_size=16, epochs=2, shuffle=shuffle, verbose=0)
        seen = data.read[-128:]
        return [seen[:64], seen[64:]]

    first, again, other = orders(7), orders(7), orders(8)
    assert first == again
    assert first != other
    assert first[0] != first[1]  # a new order each epoch
    assert sorted(first[0]) == list(range(64)) == sorted(first[1])
    assert orders(7, shuffle=False) == [list(range(64))] * 2
    a, b = make_model(), make_model()
    for model in (a, b):
        kseq.utils.set_random_seed(3)
        model.fit(Samples(x, y), batch_size=8, epochs=2, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights(), strict=True))


def same_weights(a: kseq.Sequential, b: kseq.Sequential) -> None:
    for p, q in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)


def test_sample_weight_through_a_dataset_equals_the_arrays_path_on_one_batch() -> None:
    x, y = make_data(64)
    sw = np.random.default_rng(2).uniform(0.1, 3.0, size=64).astype("float32")
    by_arrays, by_dataset = make_model(), make_model()
    by_arrays.fit(x, y, sample_weight=sw, batch_size=64, shuffle=False, verbose=0)
    triples = TensorDataset(*(torch.from_numpy(a) for a in (x, y, sw)))
    by_dataset.fit(triples, batch_size=64, shuffle=False, verbose=0)
    same_weights(by_arrays, by_dataset)
    unweighted = make_model()
    unweighted.fit(x, y, batch_size=64, shuffle=False, verbose=0)
    assert not np.allclose(unweighted.get_weights()[0], by_dataset.get_weights()[0])


def test_class_weight_through_a_dataset_equals_the_arrays_path_on_one_batch() -> None:
    x, y = make_data(64)
    class_weight = {0: 0.3, 1: 2.5}
    by_arrays, by_dataset, by_loader = make_model(), make_model(), make_model()
    by_arrays.fit(x, y, class_weight=class_weight, batch_size=64, shuffle=False, verbose=0)
    by_dataset.fit(Samples(x, y), class_weight=class_weight, batch_size=64, verbose=0)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=64)
    by_loader.fit(loader, class_weight=class_weight, verbose=0)
    same_weights(by_arrays, by_dataset)
    same_weights(by_arrays, by_loader)


def test_dict_samples_and_validation_data_of_every_kind() -> None:
    x, y = make_data(96)

    class Records(Dataset):
        def __len__(self) -> int:
            return 96

        def __getitem__(self, i: int) -> dict:
            return {"x": x[i], "y": y[i]}

    model = make_model()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    for val in (Records(), DataLoader(TensorDataset(xt, yt), batch_size=16), Samples(x, y)):
        logs = model.evaluate(val, verbose=0, return_dict=True)
        assert logs["loss"] == pytest.approx(expected["loss"], rel=1e-5)
    history = model.fit(Records(), validation_data=Samples(x, y), epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x, y, verbose=0)[0])


def test_steps_per_epoch_continues_the_dataset_across_epochs() -> None:
    x, y = make_data(32)
    data = Samples(x, y)
    model = make_model()
    data.read.clear()
    history = model.fit(data, batch_size=4, steps_per_epoch=3, epochs=2, shuffle=False, verbose=0)
    assert history.params["steps"] == 3
    assert data.read[-24:] == list(range(24))  # epoch 2 picks up where epoch 1 stopped
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=8)
    assert len(model.fit(loader, steps_per_epoch=2, epochs=3, verbose=0).history["loss"]) == 3


def test_errors_name_the_argument_and_the_fix() -> None:
    x, y = make_data(32)
    model = make_model()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=8)
    with pytest.raises(ValueError, match=r"^The `batch_size` argument must not be specified when `x` is a torch DataLoader: .*its batch_size is 8\). Received: batch_size=16 in fit\(\)"):  # fmt: skip
        model.fit(loader, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=r"batch_size=4 in predict\(\)"):
        model.predict(loader, batch_size=4, verbose=0)
    model.fit(loader, shuffle=True, verbose=0)  # shuffle is the DataLoader's business: ignored
    for data in (Samples(x, y), loader, batch_generator(x, y, 8)):
        with pytest.raises(ValueError, match=r"`validation_split` is only supported for Tensors or NumPy arrays\. Received: x of type \w+\. .* `validation_data=`"):  # fmt: skip
            model.fit(data, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match=r"When providing `x` as a torch Dataset, `y` should not be passed\. Instead, the targets should be included as part of the torch Dataset\."):  # fmt: skip
        model.fit(Samples(x, y), y, verbose=0)
    with pytest.raises(ValueError, match=r"as a torch DataLoader, `sample_weights` should not be passed"):  # fmt: skip
        model.fit(loader, sample_weight=np.ones(32), verbose=0)
    with pytest.raises(ValueError, match=r"The torch Dataset passed as `x` is empty"):
        model.fit(TensorDataset(torch.zeros(0, FEATURES), torch.zeros(0)), verbose=0)


def test_cpu_batches_reach_the_model_without_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSEQ_DEVICE", "cpu")
    x, y = make_data(64)
    seen: list[int] = []

    class Spy(layers.Layer):
        def call(self, inputs):
            seen.append(inputs.data_ptr())
            return inputs

    model = kseq.Sequential([kseq.Input(shape=(FEATURES,)), Spy(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    batches = [(torch.from_numpy(x[i : i + 16]), torch.from_numpy(y[i : i + 16])) for i in range(0, 64, 16)]  # fmt: skip
    model.fit(iter(batches), epochs=1, steps_per_epoch=4, verbose=0)
    assert {b[0].data_ptr() for b in batches} <= set(seen)
    seen.clear()
    model.predict(DataLoader(TensorDataset(torch.from_numpy(x)), batch_size=64), verbose=0)
    assert len(seen) == 1


def test_batches_in_the_step_dtypes_are_inspected_once_then_passed_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The per-batch work of a DataLoader of float32 (x, y) tensors: no structure walk, no dtype
    # casts, no .to() after the first batch; the model still learns as on the arrays path.
    from kseq.training import streams

    monkeypatch.setenv("KSEQ_DEVICE", "cpu")
    calls = {"host": 0, "to_tensor": 0}
    host, to_tensor = streams.Stream._host, streams.to_tensor

    def counting_host(self, item):
        calls["host"] += 1
        return host(self, item)

    def counting_to_tensor(*args, **kwargs):
        calls["to_tensor"] += 1
        return to_tensor(*args, **kwargs)

    monkeypatch.setattr(streams.Stream, "_host", counting_host)
    monkeypatch.setattr(streams, "to_tensor", counting_to_tensor)
    x, y = make_data()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=32)
    model = make_model()
    model.fit(loader, epochs=3, verbose=0)
    assert calls == {"host": 1, "to_tensor": 2}  # fit's peek at the first batch (x and y) only
    assert model.evaluate(x, y, verbose=0)[1] > 0.9
    # Batches that do need converting (float64 x, int y) still are, on every batch.
    calls.update(host=0, to_tensor=0)
    doubles = DataLoader(TensorDataset(torch.from_numpy(x.astype("float64")), torch.from_numpy(y.astype("int64"))), batch_size=256)  # fmt: skip
    model.fit(doubles, epochs=1, verbose=0)
    assert calls["host"] == 1 + 2  # peek, then both batches
    # A (N,) target of a (N, 1) output gets its axis on the plain path: the same loss either way.
    x1, y1 = torch.from_numpy(x[:32]), torch.from_numpy(y[:32])
    stream = streams.Stream([(x1, y1)], torch.device("cpu"))
    stream.expand_targets()
    ((_, y_plain, _),) = stream.batches()
    assert tuple(y_plain.shape) == (32, 1) and y_plain.data_ptr() == y1.data_ptr()


@pytest.mark.cuda
def test_cuda_batches_are_pinned_and_copied_one_ahead() -> None:
    cuda = torch.device("cuda")
    host = [(torch.full((4, 3), float(i)), torch.full((4,), float(i)), None) for i in range(5)]
    pinned: list[bool] = []
    original = torch.Tensor.to

    def spy_to(self, *args, **kwargs):
        if self.device.type == "cpu" and kwargs.get("non_blocking"):
            pinned.append(self.is_pinned())
        return original(self, *args, **kwargs)

    torch.Tensor.to = spy_to
    try:
        out = list(Prefetcher(cuda).run(iter(host)))
    finally:
        torch.Tensor.to = original
    assert pinned and all(pinned)
    assert [int(b[0][0, 0]) for b in out] == list(range(5))
    assert all(b[0].device.type == "cuda" and b[2] is None for b in out)
    x, y = make_data()
    model = make_model()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=32, shuffle=True)  # fmt: skip
    model.fit(loader, epochs=6, verbose=0)
    assert model.evaluate(loader, verbose=0)[1] > 0.9
