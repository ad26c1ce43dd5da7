"""Atomic writes: a failed or killed save never damages the previous file.

``test_sigkill_at_random_moments_leaves_a_complete_checkpoint`` runs a helper process that forks
writers saving checkpoints in a loop (``.weights.pt``, ``.weights.h5``, ``.keras`` and training
checkpoints, a version number written into every weight) and SIGKILLs them at random moments;
after every kill the file on disk must load and hold one complete version, the last one reported
saved or the one in flight.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kseq
from kseq.core.atomic import atomic_write, atomic_write_bytes
from kseq.saving.training_checkpoint import load_checkpoint

HERE = Path(__file__).parent


def test_replaces_content_and_keeps_permissions(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    atomic_write_bytes(target, b"one")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert os.listdir(tmp_path) == ["file.bin"]


def test_a_failing_writer_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "model.weights.pt"
    target.write_bytes(b"previous")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_write(target) as f:
        f.write(b"half of the new fi")
        raise RuntimeError("disk on fire")
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["model.weights.pt"]


def test_a_failing_save_leaves_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2)])
    model.save_weights(tmp_path / "m.weights.pt")
    before = (tmp_path / "m.weights.pt").read_bytes()
    monkeypatch.setattr(
        "kseq.saving.api.torch_bytes",
        lambda groups: (_ for _ in ()).throw(OSError("no space left")),
    )
    with pytest.raises(OSError, match="no space left"):
        model.save_weights(tmp_path / "m.weights.pt")
    assert (tmp_path / "m.weights.pt").read_bytes() == before


def test_clear_errors_for_bad_destinations(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="existing directory"):
        atomic_write_bytes(tmp_path, b"x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_bytes(tmp_path / "missing" / "f.bin", b"x")


def _load_version(path: str, fmt: str) -> float:
    model = kseq.Sequential([kseq.Input((256,)), kseq.layers.Dense(512), kseq.layers.Dense(64)])
    model.compile(optimizer="adam", loss="mse")
    if fmt == ".keras":
        model = kseq.models.load_model(path)
    elif fmt == ".checkpoint.pt":
        load_checkpoint(path, model, restore_rng=False)
    else:
        model.load_weights(path)
    values = np.unique(np.concatenate([w.ravel() for w in model.get_weights()]))
    assert len(values) == 1, f"{path} mixes versions {values[:5]}"
    return float(values[0])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_sigkill_at_random_moments_leaves_a_complete_checkpoint(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(HERE / "kill_worker.py"), str(tmp_path), "24", "7"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    kills = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(kills) == 24
    for kill in kills:
        version = _load_version(kill["snapshot"], kill["format"])
        assert kill["last_done"] <= version <= kill["last_done"] + 1, kill
        assert kill["stray_temp_files"] <= 1
    # Some kills must have hit a save in progress (its temporary file was left behind).
    assert any(k["stray_temp_files"] for k in kills)
