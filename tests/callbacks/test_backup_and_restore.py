"""BackupAndRestore: a run interrupted after epoch 3 (by an exception, or by SIGKILL of the
process) and resumed ends with exactly the weights of an uninterrupted run, shuffling and
dropout included (same seed, CPU)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq.callbacks import BackupAndRestore

sys.path.insert(0, str(Path(__file__).parent))
from resume_common import BATCH_SIZE, EPOCHS, build, data

HERE = Path(__file__).parent


class Interrupt(kseq.callbacks.Callback):
    """Simulates a crash: raises when epoch ``at`` starts."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.at:
            raise RuntimeError("Interrupting!")


def _uninterrupted(threads: int | None = None) -> list[np.ndarray]:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or previous)  # the worker process runs on one thread
    try:
        kseq.utils.set_random_seed(0)
        model = build()
        x, y = data()
        model.fit(x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
        return model.get_weights()
    finally:
        torch.set_num_threads(previous)


def _assert_equal(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_resume_after_an_exception_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    expected = _uninterrupted()
    x, y = data()
    kseq.utils.set_random_seed(0)
    model = build()
    with pytest.raises(RuntimeError, match="Interrupting!"):
        model.fit(
            x,
            y,
            epochs=EPOCHS,
            batch_size=BATCH_SIZE,
            verbose=0,
            callbacks=[BackupAndRestore(tmp_path / "backup"), Interrupt(at=3)],
        )
    assert (tmp_path / "backup" / "latest.checkpoint.pt").exists()
    # A restarted program: other seed, fresh model and optimizer; everything comes from the backup.
    kseq.utils.set_random_seed(123)
    model = build()
    history = model.fit(
        x,
        y,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=0,
        callbacks=[BackupAndRestore(tmp_path / "backup")],
    )
    assert history.epoch == [3, 4, 5]
    assert model.optimizer.iterations == EPOCHS * 4
    _assert_equal(model.get_weights(), expected)
    assert not (tmp_path / "backup").exists()  # delete_checkpoint=True after a complete fit


def test_resume_after_sigkill_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    backup, out = tmp_path / "backup", tmp_path / "final.npz"
    worker = [sys.executable, str(HERE / "resume_worker.py"), str(backup), str(out)]
    with subprocess.Popen(worker, stdout=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == "epoch 2 saved":  # three epochs done and backed up
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL and not out.exists()
    resumed = subprocess.run([*worker, "123"], env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.split("\n")[0].startswith("epoch 3")  # epochs 0-2 were not redone
    with np.load(out) as saved:
        final = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    _assert_equal(final, _uninterrupted(threads=1))


def test_batch_level_backup_restarts_the_epoch_in_progress(tmp_path: Path) -> None:
    x, y = data()
    model = build()
    backup = BackupAndRestore(tmp_path, save_freq=3)

    class InterruptMidEpoch(kseq.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if self.model.optimizer.iterations == 7:  # epoch 1, after the backup at step 6
                raise RuntimeError("Interrupting!")

    with pytest.raises(RuntimeError):
        model.fit(
            x,
            y,
            epochs=EPOCHS,
            batch_size=BATCH_SIZE,
            verbose=0,
            callbacks=[backup, InterruptMidEpoch()],
        )
    model = build()
    history = model.fit(
        x,
        y,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=0,
        callbacks=[BackupAndRestore(tmp_path, save_freq=3)],
    )
    assert history.epoch == [1, 2, 3, 4, 5]  # epoch 1 was in progress: it runs again
    assert model.optimizer.iterations == 6 + 5 * 4  # restored after 6 steps


def test_double_checkpoint_falls_back_to_the_previous_state(tmp_path: Path) -> None:
    x, y = data()
    model = build()
    with pytest.raises(RuntimeError):
        model.fit(
            x,
            y,
            epochs=EPOCHS,
            batch_size=BATCH_SIZE,
            verbose=0,
            callbacks=[BackupAndRestore(tmp_path, double_checkpoint=True), Interrupt(at=3)],
        )
    (tmp_path / "latest.checkpoint.pt").write_bytes(b"damaged by a crash")
    model = build()
    history = model.fit(
        x,
        y,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=0,
        callbacks=[BackupAndRestore(tmp_path, double_checkpoint=True)],
    )
    assert history.epoch == [2, 3, 4, 5]  # the previous backup was taken after epoch index 1


def test_a_damaged_backup_without_fallback_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "latest.checkpoint.pt").write_bytes(b"\x00" * 100)
    x, y = data()
    with pytest.raises(ValueError, match="latest.checkpoint.pt"):
        build().fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_a_backup_of_another_model_is_refused(tmp_path: Path) -> None:
    x, y = data()
    with pytest.raises(RuntimeError):
        build().fit(
            x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path), Interrupt(at=1)]
        )
    other = kseq.Sequential([kseq.Input((6,)), kseq.layers.Dense(1)])
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="saved from a different model"):
        other.fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_delete_checkpoint_only_removes_its_own_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    x, y = data()
    build().fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]
    build().fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[BackupAndRestore(tmp_path / "b", delete_checkpoint=False)],
    )
    assert os.listdir(tmp_path / "b") == ["latest.checkpoint.pt"]


def test_argument_errors() -> None:
    with pytest.raises(ValueError, match="Empty `backup_dir` argument passed"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        BackupAndRestore("/tmp/b", save_freq="batch")
    model = kseq.Sequential([kseq.layers.Dense(1)])
    callback = BackupAndRestore("/tmp/never")
    callback.set_model(model)
    with pytest.raises(ValueError, match="you model must be built"):
        callback.on_train_begin()


def test_epoch_backups_add_no_batch_hooks() -> None:
    from kseq.callbacks.callback import overrides

    assert not overrides(BackupAndRestore("/tmp/b"), "on_train_batch_end")
    assert overrides(BackupAndRestore("/tmp/b", save_freq=5), "on_train_batch_end")
    assert torch.get_rng_state().numel() > 0
