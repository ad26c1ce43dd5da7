"""kseq.Model(net): the Keras training API on an existing torch network, which stays unchanged."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stdout
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from torch import nn

import kseq
from kseq.models import ModuleModel


class Classifier(nn.Module):
    """A user's network, written without kseq."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(10, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.1))
        self.head = nn.Linear(32, 2)
        self.temperature = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x)) / self.temperature


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 8)
        self.b = nn.Linear(2, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, numbers: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.a(numbers) + self.b(extra)))


def _data() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_classification(n_samples=500, n_features=10, n_informative=6, random_state=1)
    return x.astype("float32"), y


def test_wrapped_network_trains_and_stays_itself() -> None:
    net = Classifier()
    keys, params = list(net.state_dict()), list(net.parameters())
    forward = net.forward
    model = kseq.Model(net)
    assert isinstance(model, ModuleModel) and isinstance(model, kseq.Model)
    assert model.module is net and type(net) is Classifier and net.forward == forward
    assert list(model.state_dict()) == keys
    assert [a is b for a, b in zip(model.parameters(), params, strict=True)] == [True] * len(params)
    assert model.count_params() == sum(p.numel() for p in params) + 2 * 32  # + BN moving stats
    model.compile(
        optimizer=kseq.optimizers.Adam(0.01),
        loss=kseq.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x, y = _data()
    before = net.head.weight.detach().clone()
    history = model.fit(x[:400], y[:400], epochs=15, batch_size=32, validation_split=0.2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(x[400:], y[400:], verbose=0)[1] > 0.8
    assert not torch.equal(before, net.head.weight.detach().cpu())  # the user's own tensors trained
    assert list(net.state_dict()) == keys
    assert all(a is b for a, b in zip(net.parameters(), params, strict=True))
    assert all(a is b for a, b in zip(model.parameters(), params, strict=True))
    # a plain torch loop keeps working on the same network
    assert net(torch.as_tensor(x[:4]).to(net.head.weight.device)).shape == (4, 2)


def test_fit_puts_the_network_in_train_mode_and_predict_in_eval() -> None:
    modes: list[bool] = []
    net = Classifier()
    net.head.register_forward_hook(lambda module, *_: modes.append(module.training))
    model = kseq.Model(net)
    model.compile(
        optimizer="adam", loss=kseq.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x, y = _data()
    model.fit(x[:64], y[:64], epochs=1, batch_size=32, verbose=0)
    assert modes[-2:] == [True, True]
    modes.clear()
    model.predict(x[:8], verbose=0)
    assert modes == [False] and net.training is False


def test_callbacks_and_weights_files(tmp_path: Path) -> None:
    model = kseq.Model(Classifier())
    model.compile(
        optimizer="adam", loss=kseq.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x, y = _data()
    stop = kseq.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[stop])
    assert len(history.epoch) == 2
    model.save_weights(tmp_path / "net.weights.h5")
    other = kseq.Model(Classifier())
    other.load_weights(tmp_path / "net.weights.h5")
    np.testing.assert_allclose(other.predict(x[:5], verbose=0), model.predict(x[:5], verbose=0))


def test_keras_file_round_trip_needs_the_class(tmp_path: Path) -> None:
    model = kseq.Model(Classifier())
    model.save(tmp_path / "net.keras")
    with pytest.raises(ValueError, match=r"custom_objects=\{'Classifier': Classifier\}"):
        kseq.models.load_model(tmp_path / "net.keras")
    loaded = kseq.models.load_model(
        tmp_path / "net.keras", custom_objects={"Classifier": Classifier}
    )
    assert isinstance(loaded.module, Classifier)
    x, _ = _data()
    np.testing.assert_allclose(loaded.predict(x[:5], verbose=0), model.predict(x[:5], verbose=0))


def test_summary_rows_name_the_torch_children() -> None:
    model = kseq.Model(Classifier())
    buffer = io.StringIO()
    with redirect_stdout(buffer), mock.patch.dict(os.environ, {"COLUMNS": "200"}):
        model.summary()
    text = buffer.getvalue()
    assert "body (Sequential)" in text and "head (Linear)" in text
    assert f"Total params: {model.count_params():,}" in text


def test_multi_input_call_and_predict_take_lists_and_dicts() -> None:
    net = TwoInputs()
    model = kseq.Model(net)
    a, b = torch.randn(6, 3), torch.randn(6, 2)
    expected = net(a, b)
    torch.testing.assert_close(model([a, b]), expected)
    torch.testing.assert_close(model({"numbers": a, "extra": b}), expected)
    np.testing.assert_allclose(model.predict([a.numpy(), b.numpy()], verbose=0), expected.detach())
    np.testing.assert_allclose(
        model.predict({"extra": b.numpy(), "numbers": a.numpy()}, verbose=0), expected.detach()
    )
    with pytest.raises(
        ValueError, match=r"keys \['first', 'second'\].*forward takes \['numbers', 'extra'\]"
    ):
        model({"first": a, "second": b})


def test_multi_input_fit() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(256, 3)).astype("float32"), rng.normal(size=(256, 2)).astype("float32")
    y = (a.sum(1, keepdims=True) - b.sum(1, keepdims=True)).astype("float32")
    model = kseq.Model(TwoInputs())
    model.compile(optimizer=kseq.optimizers.Adam(0.02), loss="mse")
    first = model.evaluate([a, b], y, verbose=0)
    model.fit([a, b], y, epochs=20, batch_size=32, verbose=0)
    model.fit({"numbers": a, "extra": b}, y, epochs=5, batch_size=32, verbose=0)
    assert model.evaluate([a, b], y, verbose=0) < first / 5


def test_lazy_network_builds_from_the_data() -> None:
    net = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.Linear(4, 1))
    model = kseq.Model(net)
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 5), "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0)
    assert net[0].weight.shape == (4, 5)


def test_a_kseq_layer_or_a_non_module_is_not_this_path() -> None:
    assert not isinstance(kseq.Model(), ModuleModel)
    with pytest.raises(TypeError, match="outputs"):  # the functional API's constructor, as Keras
        kseq.Model(kseq.layers.Dense(2))
    with pytest.raises(ValueError, match="takes a torch.nn.Module. Received: 3"):
        ModuleModel(3)  # type: ignore[arg-type]
