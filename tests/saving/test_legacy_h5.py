"""Keras's legacy HDF5 model files (``model.save("m.h5")`` / ``load_model("m.h5")``), both ways.

A model trained a little in Keras 3 and saved as ``.h5`` loads in kseq with the same predictions
(and compiled, with its optimizer state), and the reverse; a hostile or damaged ``.h5`` file is
refused with a ``ValueError`` that names it, and nothing in it runs.
"""

from __future__ import annotations

import json
import pickle
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import kseq
from kseq.callbacks import ModelCheckpoint
from kseq.saving.legacy_h5 import LEGACY_H5_WARNING
from kseq.saving.optimizer_layout import keras_optimizer_arrays

RNG = np.random.default_rng(0)
X_VEC = RNG.normal(size=(16, 6)).astype("float32")
X_IMG = RNG.normal(size=(8, 8, 8, 1)).astype("float32")
X_TOK = RNG.integers(1, 20, size=(8, 7))

WARNING_TEXT = (
    "You are saving your model as an HDF5 file via `model.save()` or "
    "`keras.saving.save_model(model)`. This file format is considered legacy. We recommend using "
    "instead the native Keras format, e.g. `model.save('my_model.keras')` or "
    "`keras.saving.save_model(model, 'my_model.keras')`. "
)


def _dense(lib: Any) -> Any:
    L = lib.layers
    return lib.Sequential(
        [lib.Input((6,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")]
    )


def _conv(lib: Any) -> Any:
    L = lib.layers
    return lib.Sequential(
        [
            lib.Input((8, 8, 1)),
            L.Conv2D(4, 3, activation="relu"),
            L.BatchNormalization(),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ]
    )


def _text(lib: Any) -> Any:
    L = lib.layers
    return lib.Sequential(
        [
            lib.Input((7,)),
            L.Embedding(20, 5),
            L.LSTM(4),
            L.Dense(3, activation="softmax"),
        ]
    )


CASES: dict[str, tuple[Callable[[Any], Any], np.ndarray]] = {
    "dense": (_dense, X_VEC),
    "conv_batchnorm": (_conv, X_IMG),
    "embedding_lstm": (_text, X_TOK),
}


def _trained(lib: Any, case: str) -> tuple[Any, np.ndarray]:
    build, x = CASES[case]
    model = build(lib)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, np.arange(len(x)) % 3, epochs=2, batch_size=4, verbose=0)
    return model, x


def _save_kseq(model: Any, path: Path, **kwargs: Any) -> None:
    with pytest.warns(UserWarning, match="considered legacy"):
        model.save(path, **kwargs)


# ------------------------------------------------------------------------------------- interop
@pytest.mark.keras
@pytest.mark.parametrize("case", list(CASES))
def test_keras_h5_loads_in_kseq_with_equal_predictions(
    case: str, keras: Any, tmp_path: Path
) -> None:
    reference, x = _trained(keras, case)
    reference.save(tmp_path / "keras.h5")
    model = kseq.models.load_model(tmp_path / "keras.h5")
    np.testing.assert_allclose(
        model.predict(x, verbose=0), reference.predict(x, verbose=0), atol=1e-5
    )
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.iterations == int(reference.optimizer.iterations) == len(x) // 2
    ours = keras_optimizer_arrays(model.optimizer, model)
    theirs = [np.asarray(v) for v in reference.optimizer.variables]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # Training goes on from the loaded state (the compiled loss, metrics and optimizer work).
    history = model.fit(x, np.arange(len(x)) % 3, epochs=1, batch_size=4, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]


@pytest.mark.keras
@pytest.mark.parametrize("case", list(CASES))
def test_kseq_h5_loads_in_keras_with_equal_predictions(
    case: str, keras: Any, tmp_path: Path
) -> None:
    model, x = _trained(kseq, case)
    _save_kseq(model, tmp_path / "kseq.h5")
    reference = keras.models.load_model(tmp_path / "kseq.h5")
    np.testing.assert_allclose(
        reference.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5
    )
    assert type(reference.optimizer).__name__ == "Adam"
    # Keras 3's legacy loader builds the optimizer over the model's own (empty) variable list, so
    # it restores `iteration` and `learning_rate` only, from kseq's files as from its own.
    assert int(reference.optimizer.iterations) == len(x) // 2  # 2 epochs of batches of 4
    assert float(reference.optimizer.learning_rate) == pytest.approx(0.001)


@pytest.mark.keras
def test_frozen_layers_use_keras_legacy_weight_order(keras: Any, tmp_path: Path) -> None:
    """Keras stores trainable weights first; a frozen BatchNormalization keeps its own order."""
    reference, x = _trained(keras, "conv_batchnorm")
    reference.layers[1].trainable = False
    reference.save(tmp_path / "frozen.h5")
    model = kseq.models.load_model(tmp_path / "frozen.h5", compile=False)
    assert not model.layers[1].trainable
    np.testing.assert_allclose(
        model.predict(x, verbose=0), reference.predict(x, verbose=0), atol=1e-5
    )
    _save_kseq(model, tmp_path / "back.h5")
    back = keras.models.load_model(tmp_path / "back.h5", compile=False)
    for a, b in zip(back.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------- kseq behaviour
def test_compiled_round_trip_keeps_loss_optimizer_and_state(tmp_path: Path) -> None:
    model = _dense(kseq)
    model.compile(
        optimizer=kseq.optimizers.RMSprop(learning_rate=0.01),
        loss=kseq.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy", kseq.metrics.SparseTopKCategoricalAccuracy(k=2)],
    )
    model.fit(X_VEC, np.arange(16) % 3, epochs=1, batch_size=8, verbose=0)
    _save_kseq(model, tmp_path / "m.hdf5")
    loaded = kseq.models.load_model(tmp_path / "m.hdf5")
    assert type(loaded.optimizer).__name__ == "RMSprop"
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)
    assert loaded.optimizer.iterations == 2
    assert type(loaded.loss).__name__ == "SparseCategoricalCrossentropy"
    for a, b in zip(
        keras_optimizer_arrays(loaded.optimizer, loaded),
        keras_optimizer_arrays(model.optimizer, model),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    y = np.arange(16) % 3
    expected = model.fit(X_VEC, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    got = loaded.fit(X_VEC, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert sorted(got.history) == sorted(expected.history)
    for key, values in expected.history.items():
        assert got.history[key] == pytest.approx(values), key
    np.testing.assert_allclose(loaded.predict(X_VEC, verbose=0), model.predict(X_VEC, verbose=0))


def test_the_file_matches_keras_legacy_layout(tmp_path: Path) -> None:
    model, _ = _trained(kseq, "conv_batchnorm")
    _save_kseq(model, tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5") as f:
        assert sorted(f.attrs) == [
            "backend",
            "keras_version",
            "kseq_sha256",
            "model_config",
            "training_config",
        ]  # fmt: skip (kseq_sha256: kseq's checksum of the arrays; Keras ignores it)
        config = json.loads(f.attrs["model_config"])
        assert config["class_name"] == "Sequential"
        assert [e["class_name"] for e in config["config"]["layers"]] == [
            "InputLayer", "Conv2D", "BatchNormalization", "Flatten", "Dense",
        ]  # fmt: skip
        assert all(sorted(e) == ["class_name", "config"] for e in config["config"]["layers"])
        training = json.loads(f.attrs["training_config"])
        assert training["optimizer_config"]["class_name"] == "Adam"
        assert training["loss"] == "sparse_categorical_crossentropy"
        weights = f["model_weights"]
        assert list(weights.attrs["layer_names"]) == [b"conv2d", b"batch_normalization",
                                                      b"flatten", b"dense"]  # fmt: skip
        names = [n.decode() for n in weights["batch_normalization"].attrs["weight_names"]]
        assert len(names) == 4 and len(f["optimizer_weights"].attrs["weight_names"]) == 2 + 2 * 6
        assert [weights["batch_normalization"][n].shape for n in names] == [(4,)] * 4


def test_saving_warns_with_keras_text_and_save_format(tmp_path: Path) -> None:
    assert LEGACY_H5_WARNING == WARNING_TEXT
    model = _dense(kseq)
    with pytest.warns(UserWarning, match=re.escape(WARNING_TEXT)):
        kseq.saving.save_model(model, tmp_path / "m.h5")
    with pytest.warns(UserWarning) as record:
        model.save(tmp_path / "f.h5", save_format="h5")
    assert [str(w.message) for w in record] == [
        "The `save_format` argument is deprecated in Keras 3. We recommend removing this argument "
        "as it can be inferred from the file path. Received: save_format=h5",
        WARNING_TEXT,
    ]
    with pytest.raises(ValueError, match="pass a file path with either `.keras` or `.h5`"):
        model.save(tmp_path / "m.tf", save_format="tf")


def test_uncompiled_files_and_compile_false(tmp_path: Path) -> None:
    model = _dense(kseq)
    _save_kseq(model, tmp_path / "plain.h5")
    with pytest.warns(UserWarning, match=r"No training configuration found .* \*not\* compiled"):
        loaded = kseq.models.load_model(tmp_path / "plain.h5")
    assert loaded.optimizer is None
    model.compile(optimizer="sgd", loss="mse")
    _save_kseq(model, tmp_path / "compiled.h5")
    assert kseq.models.load_model(tmp_path / "compiled.h5", compile=False).optimizer is None
    _save_kseq(model, tmp_path / "no_optimizer.h5", include_optimizer=False)
    with h5py.File(tmp_path / "no_optimizer.h5") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f


def test_load_weights_and_model_checkpoint_take_h5(tmp_path: Path) -> None:
    model, x = _trained(kseq, "embedding_lstm")
    _save_kseq(model, tmp_path / "m.h5")
    twin = _text(kseq)
    twin.load_weights(tmp_path / "m.h5")
    np.testing.assert_allclose(twin.predict(x, verbose=0), model.predict(x, verbose=0))
    checkpoint = ModelCheckpoint(str(tmp_path / "ckpt.h5"))
    with pytest.warns(UserWarning, match="considered legacy"):
        model.fit(x, np.zeros(len(x)), epochs=1, callbacks=[checkpoint], verbose=0)
    restored = kseq.models.load_model(tmp_path / "ckpt.h5")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_mismatched_models_are_refused_with_keras_messages(tmp_path: Path) -> None:
    _save_kseq(_dense(kseq), tmp_path / "m.h5")
    smaller = kseq.Sequential([kseq.Input((6,)), kseq.layers.Dense(3)])
    with pytest.raises(ValueError, match="Layer count mismatch .* expected 1 layers, found 2"):
        smaller.load_weights(tmp_path / "m.h5")
    wider = kseq.Sequential([kseq.Input((6,)), kseq.layers.Dense(9), kseq.layers.Dense(3)])
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #0 \(named dense"):
        wider.load_weights(tmp_path / "m.h5")
    for a, b in zip(wider.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)  # nothing changed


# ---------------------------------------------------------------------------------- hostile
class Payload:
    """Unpickling this object would create the file ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _good(tmp_path: Path) -> Path:
    kseq.utils.clear_session()  # names "sequential" / "dense": the edits below use them
    model = _dense(kseq)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X_VEC, np.zeros((16, 3)), epochs=1, verbose=0)
    path = tmp_path / "good.h5"
    _save_kseq(model, path)
    return path


def _crafted(tmp_path: Path, edit: Callable[[Any], None], name: str = "crafted.h5") -> Path:
    path = tmp_path / name
    path.write_bytes(_good(tmp_path).read_bytes())
    with h5py.File(path, "a") as f:
        edit(f)
    return path


def _refused(path: Path, load: Callable[[Path], Any] = kseq.models.load_model) -> str:
    with pytest.raises((ValueError, OSError)) as info:
        load(path)
    assert path.name in str(info.value), str(info.value)
    return str(info.value)


def test_garbage_files_are_refused(tmp_path: Path) -> None:
    good = _good(tmp_path).read_bytes()
    for label, data in {
        "empty": b"",
        "text": b"not a model\n",
        "json": b'{"class_name": "Sequential"}',
        "pickle": pickle.dumps({"model_config": 1}),
        "truncated": good[: len(good) // 2],
        "truncated by one byte": good[:-1],
    }.items():
        path = tmp_path / f"{label.replace(' ', '_')}.h5"
        path.write_bytes(data)
        _refused(path)
    (tmp_path / "folder.h5").mkdir()
    _refused(tmp_path / "folder.h5")
    _refused(tmp_path / "missing.h5")
    no_config = tmp_path / "no_config.h5"
    with h5py.File(no_config, "w") as f:
        f.create_group("model_weights")
    assert "No model config found" in _refused(no_config)


def _set_config(f: Any, edit: Callable[[dict[str, Any]], None]) -> None:
    config = json.loads(f.attrs["model_config"])
    edit(config)
    f.attrs["model_config"] = json.dumps(config)


@pytest.mark.parametrize(
    "entry",
    [
        {"module": "os", "class_name": "system", "config": {}},
        {"class_name": "function", "config": "eval", "module": "builtins"},
        {"class_name": "Popen", "config": {"args": ["touch", "PWNED"]}},
        {
            "class_name": "Lambda",
            "config": {"function": {"class_name": "__lambda__", "config": {"code": "x"}}},
        },
    ],
    ids=["os.system", "builtins.eval", "subprocess.Popen", "lambda bytecode"],
)
def test_configs_naming_code_are_refused(entry: dict[str, Any], tmp_path: Path) -> None:
    path = _crafted(
        tmp_path, lambda f: _set_config(f, lambda c: c["config"]["layers"].append(entry))
    )
    message = _refused(path)
    assert re.search("Could not locate|Unknown layer|lambda", message), message


def test_pickles_links_and_bombs_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    raw = pickle.dumps(Payload(marker))
    dense = "model_weights/dense/sequential/dense"

    def pickled_config(f: Any) -> None:
        f.attrs["model_config"] = np.void(raw)

    def pickled_dataset(f: Any) -> None:
        del f[f"{dense}/variable_0"]
        f[dense].create_dataset("variable_0", data=np.void(raw))

    def soft_link(f: Any) -> None:
        del f[f"{dense}/variable_0"]
        f[f"{dense}/variable_0"] = h5py.SoftLink(f"/{dense}/variable_1")

    def external_link(f: Any) -> None:
        del f[f"{dense}/variable_0"]
        f[f"{dense}/variable_0"] = h5py.ExternalLink("/etc/passwd", "/")

    def bomb(f: Any) -> None:  # declares 10^12 floats, stores almost nothing
        del f[f"{dense}/variable_0"]
        f[dense].create_dataset(
            "variable_0", shape=(10**6, 10**6), dtype="f4", chunks=(1, 1000), compression="gzip"
        )

    def escaping_name(f: Any) -> None:
        f["model_weights/dense"].attrs["weight_names"] = [b"../../optimizer_weights", b"x"]

    def numeric_names(f: Any) -> None:
        f["model_weights"].attrs["layer_names"] = np.arange(3)

    def bad_json(f: Any) -> None:
        f.attrs["training_config"] = "[" * 100_000

    for edit in (
        pickled_config, pickled_dataset, soft_link, external_link, bomb, escaping_name,
        numeric_names, bad_json,
    ):  # fmt: skip
        path = _crafted(tmp_path, edit, f"{edit.__name__}.h5")
        model = _dense(kseq)
        before = model.get_weights()
        _refused(path)
        if edit not in (pickled_config, bad_json):  # load_weights reads no config
            _refused(path, model.load_weights)
        for a, b in zip(model.get_weights(), before, strict=True):
            np.testing.assert_array_equal(a, b)
        assert not marker.exists(), f"{edit.__name__}: the payload ran"


def test_fuzzed_files_load_or_fail_cleanly(tmp_path: Path) -> None:
    good = _good(tmp_path).read_bytes()
    expected = kseq.models.load_model(tmp_path / "good.h5").get_weights()
    rng = random.Random("kseq-legacy-h5")
    refused = 0
    for case in range(40):
        data = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"fuzz{case}.h5"
        path.write_bytes(bytes(data))
        try:
            loaded = kseq.models.load_model(path, compile=False)
        except (ValueError, OSError) as exc:
            assert path.name in str(exc), f"case {case}: {exc}"
            refused += 1
            continue
        for a, b in zip(loaded.get_weights(), expected, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"case {case} loaded different weights")
    assert refused > 0
