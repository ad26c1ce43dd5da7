"""The Keras saving API on kseq models: ``save``/``load_model``, ``save_weights``/``load_weights``
(``.weights.h5`` and torch-native ``.weights.pt``), ``to_json``/``model_from_json``,
``clone_model``, custom objects, compile state, optimizer state, and the torch-native paths
(``state_dict``, ``torch.export``, ONNX).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import layers as L
from kseq.saving.optimizer_layout import keras_optimizer_arrays

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 5)).astype("float32")
Y = RNG.normal(size=(16, 2)).astype("float32")


def _model(optimizer: Any = "adam") -> kseq.Sequential:
    model = kseq.Sequential(
        [kseq.Input((5,)), L.Dense(8, activation="relu"), L.BatchNormalization(), L.Dense(2)]
    )
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return model


def _fit(model: Any, epochs: int = 2) -> None:
    model.fit(X, Y, epochs=epochs, batch_size=4, shuffle=False, verbose=0)


def _assert_same_weights(a: Any, b: Any) -> None:
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


# ------------------------------------------------------------------------- .keras archives
@pytest.mark.parametrize(
    "optimizer",
    [
        "adam",
        "nadam",
        "ftrl",
        lambda: kseq.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        lambda: kseq.optimizers.RMSprop(momentum=0.5, centered=True),
        lambda: kseq.optimizers.AdamW(use_ema=True, gradient_accumulation_steps=2, amsgrad=True),
        lambda: kseq.optimizers.Adam(
            learning_rate=kseq.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)
        ),
    ],
    ids=[
        "adam",
        "nadam",
        "ftrl",
        "sgd-nesterov",
        "rmsprop-centered",
        "adamw-ema-accum",
        "schedule",
    ],
)
def test_fit_continues_exactly_after_save_and_load(optimizer: Any, tmp_path: Path) -> None:
    optimizer = optimizer() if callable(optimizer) else optimizer
    model = _model(optimizer)
    _fit(model)
    model.save(tmp_path / "m.keras")
    loaded = kseq.models.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations
    _fit(model, epochs=1)
    _fit(loaded, epochs=1)
    _assert_same_weights(loaded, model)


def test_load_without_compile(tmp_path: Path) -> None:
    model = _model()
    _fit(model)
    model.save(tmp_path / "m.keras")
    loaded = kseq.models.load_model(tmp_path / "m.keras", compile=False)
    assert not loaded.compiled
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_compile_config_round_trip() -> None:
    model = _model(kseq.optimizers.SGD(learning_rate=0.3))
    config = model.get_compile_config()
    assert config["optimizer"]["class_name"] == "SGD"
    assert (config["loss"], config["metrics"], config["jit_compile"]) == ("mse", ["mae"], False)
    twin = kseq.models.clone_model(model)
    twin.compile_from_config(config)
    assert twin.optimizer.learning_rate == 0.3 and twin.optimizer.built
    assert kseq.Sequential([L.Dense(1)]).get_compile_config() is None


def test_save_extension_rules_and_messages(tmp_path: Path) -> None:
    model = _model()
    with pytest.raises(ValueError, match="Invalid filepath extension for saving"):
        model.save(tmp_path / "m.pt")
    with pytest.raises(ValueError, match="The filename must end in `.weights.h5`"):
        model.save_weights(tmp_path / "m.h5")  # legacy `.h5` files hold models, not weights
    with pytest.raises(ValueError, match="The filename must end in `.weights.h5`"):
        model.save_weights(tmp_path / "m.h5weights")
    with pytest.raises(ValueError, match="File format not supported"):
        kseq.models.load_model(tmp_path / "m.pt")
    with pytest.raises(ValueError, match="File not found: filepath="):
        kseq.models.load_model(tmp_path / "missing.keras")
    with pytest.warns(UserWarning, match="The `save_format` argument is deprecated in Keras 3"):
        model.save(tmp_path / "m.keras", save_format="tf")  # Keras warns, then saves
    assert (tmp_path / "m.keras").exists()
    with pytest.raises(ValueError, match="not supported"):
        model.save(tmp_path / "m.keras", format="tf")


def test_saving_an_unbuilt_model_warns(tmp_path: Path) -> None:
    model = kseq.Sequential([L.Dense(2)])
    with pytest.warns(UserWarning, match="has not yet been built"):
        model.save(tmp_path / "m.keras")
    loaded = kseq.models.load_model(tmp_path / "m.keras")
    assert not loaded.built and loaded.layers[0].units == 2


def test_overwrite_false_asks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model()
    path = tmp_path / "m.weights.pt"
    path.write_bytes(b"keep me")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    model.save_weights(path, overwrite=False)
    assert path.read_bytes() == b"keep me"
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    model.save_weights(path, overwrite=False)
    assert path.read_bytes() != b"keep me"


def test_missing_h5py_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "h5py", None)
    model = _model()
    for call in (
        lambda: model.save(tmp_path / "m.keras"),
        lambda: model.save_weights(tmp_path / "m.weights.h5"),
    ):
        with pytest.raises(ImportError, match=r'pip install "kseq\[h5\]"'):
            call()
    model.save_weights(tmp_path / "m.weights.pt")  # the torch-native format needs no h5py
    model.load_weights(tmp_path / "m.weights.pt")


# ------------------------------------------------------------------------------ weights
@pytest.mark.parametrize("suffix", [".weights.h5", ".weights.pt", ".keras"])
def test_weights_round_trip_with_optimizer_state(suffix: str, tmp_path: Path) -> None:
    model = _model()
    _fit(model)
    path = tmp_path / f"m{suffix}"
    model.save(path) if suffix == ".keras" else model.save_weights(path)
    twin = _model()  # compiled, optimizer not built yet: loading creates and fills it
    twin.load_weights(path)
    _assert_same_weights(twin, model)
    assert twin.optimizer.iterations == model.optimizer.iterations == 8
    for a, b in zip(
        keras_optimizer_arrays(twin.optimizer, twin),
        keras_optimizer_arrays(model.optimizer, model),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_weights_pt_is_a_plain_dict_of_tensors(tmp_path: Path) -> None:
    model = _model()
    model.save_weights(tmp_path / "m.weights.pt")
    content = torch.load(tmp_path / "m.weights.pt", weights_only=True)
    assert sorted(content)[:3] == [
        "layers/batch_normalization/vars/0",
        "layers/batch_normalization/vars/1",
        "layers/batch_normalization/vars/2",
    ]
    kernel = model.layers[0].get_weights()[0]
    np.testing.assert_array_equal(content["layers/dense/vars/0"].numpy(), kernel)  # Keras layout


def test_mismatched_weights_are_refused_without_changing_the_model(tmp_path: Path) -> None:
    model = _model()
    model.save_weights(tmp_path / "m.weights.h5")
    other = kseq.Sequential([kseq.Input((5,)), L.Dense(3), L.BatchNormalization(), L.Dense(2)])
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"m\.weights\.h5.*\n*.*expected|shape"):
        other.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(other.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
    other.load_weights(tmp_path / "m.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(
        other.layers[2].get_weights()[1], model.layers[2].get_weights()[1]
    )

    smaller = kseq.Sequential([kseq.Input((5,)), L.Dense(8), L.BatchNormalization()])
    with pytest.raises(ValueError, match="no layer of model"):
        smaller.load_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="is not built"):
        kseq.Sequential([L.Dense(2)]).load_weights(tmp_path / "m.weights.h5")


def test_optimizer_of_another_shape_is_skipped_with_keras_warning(tmp_path: Path) -> None:
    model = _model()
    _fit(model)
    model.save_weights(tmp_path / "m.weights.h5")
    twin = _model("sgd")
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        twin.load_weights(tmp_path / "m.weights.h5")
    _assert_same_weights(twin, model)


def test_optimizer_without_keras_layout_warns_and_is_left_out(tmp_path: Path) -> None:
    model = _model("adafactor")
    _fit(model, epochs=1)
    with pytest.warns(UserWarning, match="has no Keras layout"):
        model.save(tmp_path / "m.keras")
    loaded = kseq.models.load_model(tmp_path / "m.keras")
    _assert_same_weights(loaded, model)


# ----------------------------------------------------------------------- configs / json
def test_to_json_and_model_from_json() -> None:
    model = _model()
    rebuilt = kseq.models.model_from_json(model.to_json())
    assert [type(layer) for layer in rebuilt.layers] == [type(layer) for layer in model.layers]
    assert [layer.get_config() for layer in rebuilt.layers] == [
        layer.get_config() for layer in model.layers
    ]
    assert rebuilt.compiled and rebuilt.output_shape == (None, 2)
    with pytest.raises(ValueError, match="invalid JSON"):
        kseq.models.model_from_json("{not json")


def test_clone_model_has_new_weights_and_same_config() -> None:
    kseq.utils.set_random_seed(1)
    inner = kseq.Sequential([L.Dense(3), L.Dense(3)])
    model = kseq.Sequential([kseq.Input((5,)), L.Dense(4), inner])
    clone = kseq.models.clone_model(model)
    assert clone.name == model.name and not clone.compiled
    assert [layer.get_config() for layer in clone.layers[:1]] == [model.layers[0].get_config()]
    assert not np.array_equal(clone.layers[0].get_weights()[0], model.layers[0].get_weights()[0])
    renamed = kseq.models.clone_model(
        model,
        clone_function=lambda layer: layer.__class__.from_config(
            {**layer.get_config(), "name": "x_" + layer.name}
        ),
        recursive=True,
    )
    assert [layer.name for layer in renamed.layers[1].layers] == ["x_dense", "x_dense_1"]
    wider = kseq.models.clone_model(model, input_tensors=kseq.Input((7,)))
    assert wider.input_shape == (None, 7)


@kseq.saving.register_keras_serializable(package="tests")
class Scale(kseq.Layer):
    """A user layer with one weight, registered so that files may name it."""

    def __init__(self, factor: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape: Any) -> None:
        self.alpha = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="alpha")

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self.alpha * self.factor

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Scale):
    """The same layer, not registered: loading must be refused unless passed in custom_objects."""


@kseq.saving.register_keras_serializable(package="tests")
def halve(x: torch.Tensor) -> torch.Tensor:
    return x / 2


def test_registered_and_custom_objects(tmp_path: Path) -> None:
    model = kseq.Sequential(
        [kseq.Input((3,)), Scale(3.0), L.Dense(2, activation=halve), L.Lambda(halve)]
    )
    model.set_weights([RNG.normal(size=w.shape) for w in model.get_weights()])
    model.save(tmp_path / "m.keras")
    loaded = kseq.models.load_model(tmp_path / "m.keras")  # safe mode: named functions are fine
    x = RNG.normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].factor == 3.0 and loaded.layers[1].activation is halve

    custom = kseq.Sequential([kseq.Input((3,)), Unregistered(), L.Dense(1)])
    custom.save(tmp_path / "custom.keras")
    with pytest.raises(ValueError, match="Unknown layer: 'Unregistered'|Could not locate"):
        kseq.models.load_model(tmp_path / "custom.keras")
    loaded = kseq.models.load_model(
        tmp_path / "custom.keras", custom_objects={"Unregistered": Unregistered}
    )
    assert type(loaded.layers[0]) is Unregistered


@kseq.saving.register_keras_serializable(package="tests")
class TwoTowers(kseq.Model):
    """A subclassed model, saved through its get_config/from_config."""

    def __init__(self, units: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.left = L.Dense(units)
        self.right = L.Dense(units)
        self.head = L.Dense(1)

    def call(self, inputs: torch.Tensor, training: Any = None) -> torch.Tensor:
        return self.head(self.left(inputs) * self.right(inputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


def test_subclassed_model_round_trip(tmp_path: Path) -> None:
    model = TwoTowers(units=3)
    model.compile(optimizer="adam", loss="mse")
    _fit_sub = model.fit(X, Y[:, :1], epochs=1, verbose=0)
    assert _fit_sub.epoch == [0]
    model.save(tmp_path / "towers.keras")
    loaded = kseq.models.load_model(tmp_path / "towers.keras")
    assert type(loaded) is TwoTowers and loaded.units == 3
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-6)
    assert loaded.optimizer.iterations == model.optimizer.iterations


# ------------------------------------------------------------------------ torch-native
def test_state_dict_round_trip_and_torch_export(tmp_path: Path) -> None:
    model = _model()
    _fit(model, epochs=1)
    torch.save(model.state_dict(), tmp_path / "sd.pt")
    twin = _model()
    twin.load_state_dict(torch.load(tmp_path / "sd.pt", weights_only=True))
    _assert_same_weights(twin, model)
    model.eval()
    x = torch.from_numpy(X[:4])
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), model(x))


@pytest.mark.skipif(importlib.util.find_spec("onnx") is None, reason="onnx is not installed")
def test_onnx_export(tmp_path: Path) -> None:  # pragma: no cover - needs the onnx package
    model = _model()
    model.eval()
    torch.onnx.export(model, (torch.from_numpy(X[:2]),), str(tmp_path / "m.onnx"), dynamo=True)
    assert os.path.getsize(tmp_path / "m.onnx") > 0
