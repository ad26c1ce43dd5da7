"""Plain torch modules in a Sequential: automatic wrapping, TorchModuleWrapper, shapes, saving."""

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
from kseq.layers import Dense, Input, TorchModuleWrapper


class ResidualBlock(nn.Module):
    """A user's residual block: x + MLP(LayerNorm(x))."""

    def __init__(self, width: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.up = nn.Linear(width, hidden)
        self.down = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(torch.relu(self.up(self.norm(x))))


def _summary(model: kseq.Model) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer), mock.patch.dict(os.environ, {"COLUMNS": "200"}):
        model.summary(line_length=110)
    return buffer.getvalue()


def _data() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_classification(
        n_samples=600, n_features=12, n_informative=8, n_classes=3, random_state=0
    )
    return x.astype("float32"), y


def test_the_issue_stack_builds_and_names_torch_classes() -> None:
    model = kseq.Sequential([Input((12,)), Dense(32), nn.GELU(), nn.LayerNorm(32), Dense(1)])
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense", "TorchModuleWrapper", "TorchModuleWrapper", "Dense"
    ]  # fmt: skip
    assert [layer.name for layer in model.layers] == ["dense", "gelu", "layer_norm", "dense_1"]
    assert model.layers[2].output_shape == (None, 32)
    assert model.count_params() == 12 * 32 + 32 + 64 + 33
    text = _summary(model)
    assert "gelu (TorchModuleWrapper)" in text and "layer_norm (TorchModuleWrapper)" in text


def test_residual_block_trains_inside_sequential() -> None:
    x, y = _data()
    block = ResidualBlock()
    model = kseq.Sequential([Input((12,)), Dense(32, activation="relu")])
    model.add(block)
    model.add(Dense(3, activation="softmax"))
    wrapper = model.layers[1]
    assert isinstance(wrapper, TorchModuleWrapper) and wrapper.module is block
    block_params = sum(p.numel() for p in block.parameters())
    assert wrapper.count_params() == block_params == 32 * 2 + 32 * 64 + 64 + 64 * 32 + 32
    assert [w is p for w, p in zip(wrapper.weights, block.parameters(), strict=True)] == [True] * 6
    assert "residual_block (TorchModuleWrapper)" in _summary(model)
    assert f"{block_params:,}" in _summary(model)
    model.compile(
        optimizer=kseq.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x[:480], y[:480], epochs=30, batch_size=32, verbose=0)
    assert model.evaluate(x[480:], y[480:], verbose=0)[1] > 0.8


def test_lazy_linear_is_materialized_by_the_stack() -> None:
    lazy = nn.LazyLinear(5)
    model = kseq.Sequential([Input((7,)), lazy, nn.ReLU(), Dense(2)])
    assert tuple(lazy.weight.shape) == (5, 7) and type(lazy) is nn.Linear
    assert model.layers[0].output_shape == (None, 5)
    assert model.count_params() == 7 * 5 + 5 + 5 * 2 + 2
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 7), "float32"), np.ones((8, 2), "float32"), epochs=1, verbose=0)


def test_lazy_linear_without_input_shape_builds_on_first_call() -> None:
    model = kseq.Sequential([nn.LazyLinear(3), Dense(1)])
    assert model(torch.ones(4, 6)).shape == (4, 1)
    assert model.layers[0].module.weight.shape == (3, 6)


def test_output_shape_keeps_unknown_dims_unknown() -> None:
    model = kseq.Sequential([Input((None, 8)), nn.Linear(8, 4)])
    assert model.layers[0].output_shape == (None, None, 4)
    conv = kseq.Sequential([Input((3, 16, 16)), nn.Conv2d(3, 6, 3, stride=2), nn.Flatten()])
    assert conv.output_shape == (None, 6 * 7 * 7)


def test_shape_probe_leaves_the_rng_and_mode_alone() -> None:
    state = torch.get_rng_state()
    dropout = nn.Dropout(0.5)
    kseq.Sequential([Input((4,)), dropout, nn.BatchNorm1d(4)])
    assert torch.equal(torch.get_rng_state(), state)


def test_train_and_eval_modes_reach_the_module() -> None:
    seen: list[bool] = []

    class Spy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(self.training)
            return x

    model = kseq.Sequential([Input((2,)), Spy(), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    seen.clear()
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=1, verbose=0)
    assert seen and all(seen)
    seen.clear()
    model.predict(np.ones((4, 2), "float32"), verbose=0)
    assert seen and not any(seen)


def test_buffers_update_in_fit_and_are_weights() -> None:
    bn = nn.BatchNorm1d(3)
    model = kseq.Sequential([Input((3,)), bn])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(5.0, 1.0, (64, 3)).astype("float32")
    model.fit(x, x, epochs=1, verbose=0, batch_size=64)
    assert bn.running_mean.mean().item() > 0.4  # the running stats moved in train mode
    wrapper = model.layers[0]
    assert len(wrapper.non_trainable_weights) == 2 and len(wrapper.trainable_weights) == 2


def test_get_set_weights_and_weights_file_round_trip(tmp_path: Path) -> None:
    def make() -> kseq.Sequential:
        return kseq.Sequential([Input((4,)), nn.Linear(4, 3), nn.BatchNorm1d(3), Dense(2)])

    model, other = make(), make()
    with torch.no_grad():
        model.layers[1].module.running_mean.fill_(0.5)
    other.set_weights(model.get_weights())
    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save_weights(tmp_path / "m.weights.h5")
    third = make()
    third.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(third.predict(x, verbose=0), model.predict(x, verbose=0))
    assert torch.equal(third.layers[1].module.running_mean, torch.full((3,), 0.5))


def test_keras_file_holds_weights_and_loads_with_factories(tmp_path: Path) -> None:
    model = kseq.Sequential([Input((12,)), Dense(32), ResidualBlock(), nn.LayerNorm(32), Dense(1)])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = kseq.models.load_model(
        path,
        custom_objects={"ResidualBlock": ResidualBlock, "layer_norm": lambda: nn.LayerNorm(32)},
    )
    x = np.random.default_rng(2).normal(size=(3, 12)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert isinstance(loaded.layers[1].module, ResidualBlock)


def test_loading_without_a_factory_names_what_to_pass(tmp_path: Path) -> None:
    model = kseq.Sequential([Input((4,)), ResidualBlock(4, 8)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError) as info:
        kseq.models.load_model(tmp_path / "m.keras")
    message = str(info.value)
    assert "needs the torch module test_torch_module_wrapper.ResidualBlock" in message
    assert "never unpickles" in message
    assert "custom_objects={'ResidualBlock': ResidualBlock}" in message


def test_config_names_the_class_and_never_holds_the_module() -> None:
    config = TorchModuleWrapper(nn.Linear(2, 3), name="lin").get_config()
    assert config["module"] == "torch.nn.modules.linear.Linear"
    assert config["name"] == "lin" and config["output_shape"] is None
    with pytest.raises(ValueError, match="never unpickles a torch module"):
        TorchModuleWrapper.from_config({**config, "module": {"pickled": "gASV..."}})


def test_errors() -> None:
    with pytest.raises(
        ValueError, match="wraps a plain `torch.nn.Module`. Received: module=.*Dense"
    ):
        TorchModuleWrapper(Dense(2))
    with pytest.raises(
        ValueError, match=r"could not run Linear on an input of shape \(None, 5\).*output_shape="
    ):
        kseq.Sequential([Input((5,)), nn.Linear(4, 2)])


def test_explicit_output_shape_is_used() -> None:
    layer = TorchModuleWrapper(nn.Identity(), output_shape=(None, 9))
    assert layer.compute_output_shape((None, 4)) == (None, 9)


@pytest.mark.keras
def test_parity_with_keras_wrapper(keras) -> None:
    kseq_block, keras_block = ResidualBlock(8, 16), ResidualBlock(8, 16)
    keras_block.load_state_dict(kseq_block.state_dict())
    ours = kseq.Sequential([Input((8,)), TorchModuleWrapper(kseq_block, name="block")])
    theirs = keras.Sequential(
        [keras.Input((8,)), keras.layers.TorchModuleWrapper(keras_block, name="block")]
    )
    x = np.random.default_rng(3).normal(size=(4, 8)).astype("float32")
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    assert (
        ours.count_params()
        == theirs.count_params()
        == sum(p.numel() for p in kseq_block.parameters())
    )
    row = "block (TorchModuleWrapper)"
    lines = []
    theirs.summary(print_fn=lambda line, *a, **k: lines.append(line))
    assert row in "\n".join(lines) and row in _summary(ours)
    assert f"{ours.count_params():,}" in "\n".join(lines)
