"""Files from strangers: every loader refuses pickled code, damaged, truncated, mistyped and
crafted files with a clear ``ValueError``/``OSError`` that names the file, and never runs code,
crashes or hangs. A seeded byte-mutation fuzz loop checks the same over saved files.
"""

from __future__ import annotations

import io
import json
import pickle
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import torch

import kseq
from kseq.callbacks import BackupAndRestore
from kseq.saving.training_checkpoint import load_checkpoint, save_checkpoint


class Payload:
    """Unpickling this object would create the file ``marker`` (the attack being tested)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _model() -> kseq.Sequential:
    model = kseq.Sequential(
        [kseq.Input((4,)), kseq.layers.Dense(3, activation="relu"), kseq.layers.Dense(2)]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 4)), np.ones((4, 2)), epochs=1, verbose=0)
    return model


@pytest.fixture
def model() -> kseq.Sequential:
    return _model()


def _loaders(model: kseq.Sequential) -> dict[str, Callable[[Path], Any]]:
    """Every way kseq reads a file, keyed by the extension it expects."""
    return {
        ".keras": lambda p: kseq.models.load_model(p),
        "weights-of.keras": lambda p: model.load_weights(p),
        ".weights.h5": lambda p: model.load_weights(p),
        ".weights.pt": lambda p: model.load_weights(p),
        ".checkpoint.pt": lambda p: load_checkpoint(str(p), model),
    }


def _suffix(kind: str) -> str:
    return ".keras" if kind == "weights-of.keras" else kind


def _saved_bytes(model: kseq.Sequential, kind: str, folder: Path) -> bytes:
    path = folder / f"good{_suffix(kind)}"
    if kind in (".keras", "weights-of.keras"):
        model.save(path)
    elif kind == ".checkpoint.pt":
        save_checkpoint(str(path), model, epoch=1)
    else:
        model.save_weights(path)
    return path.read_bytes()


def _refused(load: Callable[[Path], Any], path: Path) -> str:
    with pytest.raises((ValueError, OSError)) as info:
        load(path)
    assert str(path) in str(info.value) or path.name in str(info.value), str(info.value)
    return str(info.value)


# ----------------------------------------------------------------------------------- pickle
KINDS = [".keras", "weights-of.keras", ".weights.h5", ".weights.pt", ".checkpoint.pt"]


def _pickle_files(kind: str, marker: Path, good: bytes) -> dict[str, bytes]:
    """Files of the right name that carry a pickle payload, in several wrappings."""
    raw = pickle.dumps({"layers/dense/vars/0": Payload(marker)})
    buffer = io.BytesIO()
    torch.save(
        {"layers/dense/vars/0": Payload(marker), "format": "kseq.training_checkpoint"}, buffer
    )
    files = {"raw pickle": raw, "torch.save of an object": buffer.getvalue()}
    if kind in (".keras", "weights-of.keras"):
        with zipfile.ZipFile(io.BytesIO(good)) as archive:
            members = {n: archive.read(n) for n in archive.namelist()}
        for name, replaced in (("model.weights.h5", raw), ("config.json", raw)):
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as archive:
                for n, data in members.items():
                    archive.writestr(n, replaced if n == name else data)
            files[f"pickle as {name}"] = out.getvalue()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for n, data in members.items():
                archive.writestr(n, data)
            archive.writestr("evil.pkl", raw)
        files["extra pickle member"] = out.getvalue()
    if kind == ".weights.h5":
        out = io.BytesIO()
        with h5py.File(out, "w") as f:
            group = f.create_group("layers/dense/vars")
            group.create_dataset("0", data=np.void(raw))
            group.create_dataset("1", data=np.frombuffer(raw, dtype="S1"))
        files["pickle bytes as datasets"] = out.getvalue()
    return files


@pytest.mark.parametrize("kind", KINDS)
def test_pickle_payloads_are_refused_and_never_run(kind: str, model: Any, tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    good = _saved_bytes(model, kind, tmp_path)
    before = model.get_weights()
    for label, data in _pickle_files(kind, marker, good).items():
        path = tmp_path / f"hostile{_suffix(kind)}"
        path.write_bytes(data)
        _refused(_loaders(model)[kind], path)
        assert not marker.exists(), f"{kind} / {label}: the payload ran"
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)  # refused loads leave the model untouched


def test_backup_and_restore_refuses_a_pickle_checkpoint(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    backup = tmp_path / "backup"
    backup.mkdir()
    torch.save(
        {"format": "kseq.training_checkpoint", "model": Payload(marker)},
        backup / "latest.checkpoint.pt",
    )
    model = _model()
    with pytest.raises(ValueError, match="latest.checkpoint.pt"):
        model.fit(
            np.ones((4, 4)),
            np.ones((4, 2)),
            epochs=2,
            callbacks=[BackupAndRestore(backup)],
            verbose=0,
        )
    assert not marker.exists()


def test_lambda_configs_need_safe_mode_off(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    target = str(marker)
    model = kseq.Sequential(
        [kseq.Input((2,)), kseq.layers.Lambda(lambda x: x + (open(target, "w").close() or 0))]
    )
    with pytest.warns(UserWarning, match="lambda"):
        model.save(tmp_path / "lambda.keras")
    marker.unlink()  # building the model ran the lambda once (shape inference)
    with pytest.raises(ValueError, match="Requested the deserialization of a Python lambda"):
        kseq.models.load_model(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="Requested the deserialization of a Python lambda"):
        kseq.models.model_from_json(json.dumps(json.loads(model.to_json())))
    assert not marker.exists()
    loaded = kseq.models.load_model(tmp_path / "lambda.keras", safe_mode=False)
    assert isinstance(loaded.layers[0], kseq.layers.Lambda)
    kseq.config.enable_unsafe_deserialization()
    try:
        assert isinstance(
            kseq.models.load_model(tmp_path / "lambda.keras").layers[0], kseq.layers.Lambda
        )
    finally:
        kseq.config.disable_unsafe_deserialization()


@pytest.mark.parametrize(
    "entry",
    [
        {"module": "os", "class_name": "system", "config": {}, "registered_name": "system"},
        {
            "module": "builtins",
            "class_name": "function",
            "config": "eval",
            "registered_name": "eval",
        },
        {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/x"}},
        {"module": "subprocess", "class_name": "Popen", "config": {"args": ["true"]}},
    ],
    ids=["os.system", "builtins.eval", "unknown keras class", "subprocess"],
)
def test_configs_cannot_name_arbitrary_objects(
    entry: dict[str, Any], model: Any, tmp_path: Path
) -> None:
    model.save(tmp_path / "good.keras")
    with zipfile.ZipFile(tmp_path / "good.keras") as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"].append(entry)
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / "crafted.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for n, data in members.items():
            archive.writestr(n, data)
    message = _refused(lambda p: kseq.models.load_model(p), path)
    assert "Could not locate" in message or "Unknown layer" in message


# ------------------------------------------------------------------------- damaged files
def _damaged(good: bytes, model: Any) -> dict[str, bytes]:
    # Flip a bit inside the stored weights themselves (a flip in an HDF5 file's slack space is
    # harmless and loads fine: the fuzz test below covers flips anywhere).
    bias = model.layers[0].linear.bias.detach().numpy().tobytes()
    where = good.find(bias)
    assert where >= 0
    flipped = bytearray(good)
    flipped[where + 5] ^= 0x10
    return {
        "empty": b"",
        "truncated to half": good[: len(good) // 2],
        "truncated by one byte": good[:-1],
        "bit flip in a weight": bytes(flipped),
        "text": b"hello, this is not a model\n",
        "png": b"\x89PNG\r\n\x1a\n" + bytes(64),
        "json": b'{"class_name": "Sequential"}',
    }


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_and_mistyped_files_give_clear_errors(
    kind: str, model: Any, tmp_path: Path
) -> None:
    good = _saved_bytes(model, kind, tmp_path)
    for label, data in _damaged(good, model).items():
        path = tmp_path / f"{label.replace(' ', '_')}{_suffix(kind)}"
        path.write_bytes(data)
        _refused(_loaders(model)[kind], path)
    directory = tmp_path / f"folder{_suffix(kind)}"
    directory.mkdir()
    _refused(_loaders(model)[kind], directory)
    _refused(_loaders(model)[kind], tmp_path / f"missing{_suffix(kind)}")


def _rezip(
    good: bytes,
    rename: dict[str, str] | None = None,
    extra: dict[str, bytes] | None = None,
    compress: int = zipfile.ZIP_STORED,
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w", compress) as target:
        for info in source.infolist():
            target.writestr((rename or {}).get(info.filename, info.filename), source.read(info))
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("member", ["../evil.json", "/etc/evil.json", "assets/../../x", "a\\..\\b"])
def test_archive_members_cannot_point_outside(member: str, model: Any, tmp_path: Path) -> None:
    for kind in (".keras", ".weights.pt"):
        good = _saved_bytes(model, kind, tmp_path)
        path = tmp_path / f"traversal{kind}"
        path.write_bytes(_rezip(good, extra={member: b"{}"}))
        message = _refused(_loaders(model)[kind], path)
        assert "outside" in message or "unexpected" in message


def test_zip_bombs_and_oversized_members_are_refused(model: Any, tmp_path: Path) -> None:
    good = _saved_bytes(model, ".keras", tmp_path)
    bomb = tmp_path / "bomb.keras"  # 50 MB of zeros compressed to ~50 KB
    bomb.write_bytes(
        _rezip(
            good,
            rename={"metadata.json": "x"},
            extra={"metadata.json": bytes(50 << 20)},
            compress=zipfile.ZIP_DEFLATED,
        ).replace(b"x\x00", b"x\x00")
    )
    # Keep only the expected names: drop the renamed original metadata member.
    with zipfile.ZipFile(bomb) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist() if i.filename != "x"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    bomb.write_bytes(out.getvalue())
    assert "zip bomb" in _refused(lambda p: kseq.models.load_model(p), bomb)

    deep = tmp_path / "deep.keras"  # a config nested deeper than any parser should follow
    deep.write_bytes(
        _rezip(good, rename={"config.json": "old"}, extra={"config.json": b"[" * 100_000})
    )
    with zipfile.ZipFile(deep) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist() if i.filename != "old"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    deep.write_bytes(out.getvalue())
    _refused(lambda p: kseq.models.load_model(p), deep)


def test_h5_links_and_shape_bombs_are_refused(model: Any, tmp_path: Path) -> None:
    def craft(build: Callable[[Any], None]) -> Path:
        path = tmp_path / "crafted.weights.h5"
        model.save_weights(path)
        with h5py.File(path, "a") as f:
            build(f)
        return path

    def external(f: Any) -> None:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd", "/")

    def soft(f: Any) -> None:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.SoftLink("/layers/dense_1/vars/0")

    def huge(f: Any) -> None:  # declares 10^12 floats, stores almost nothing
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset(
            "0", shape=(10**6, 10**6), dtype="f4", chunks=(1, 1000), compression="gzip"
        )

    for build in (external, soft, huge):
        message = _refused(lambda p: model.load_weights(p), craft(build))
        assert "link" in message.lower() or "shape" in message


# ---------------------------------------------------------------------------------- fuzz
@pytest.mark.parametrize("kind", KINDS)
def test_fuzzed_files_load_exactly_or_fail_cleanly(kind: str, tmp_path: Path) -> None:
    """50 seeded mutations per format (200+ in all): each loads the original weights exactly or
    raises a ValueError/OSError naming the file."""
    model = _model()
    good = _saved_bytes(model, kind, tmp_path)
    expected = model.get_weights()
    rng = random.Random(f"kseq-fuzz-{kind}")
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(50):
        data = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(len(data))
            if rng.random() < 0.8:
                data[position] = rng.randrange(256)
            else:
                del data[position:]
                break
        path = tmp_path / f"fuzz{case}{_suffix(kind)}"
        path.write_bytes(bytes(data))
        target = _model()
        try:
            result = _loaders(target)[kind](path)
        except (ValueError, OSError) as exc:
            assert path.name in str(exc), f"case {case}: {exc}"
            outcomes["refused"] += 1
            continue
        loaded = result if kind == ".keras" else target
        for a, b in zip(loaded.get_weights(), expected, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"case {case} loaded different weights")
        outcomes["loaded"] += 1
    assert outcomes["refused"] > 0
