"""Helper process for ``test_atomic.py``: forks writers that save checkpoints in a loop and SIGKILLs
them at random moments, keeping a copy of the file left on disk after each kill.

Each writer is killed after its first complete save, at a random moment of the following ones.
Usage: ``python kill_worker.py <folder> <kills> <seed>``. Prints one JSON line per kill:
``{"kill": i, "format": ..., "snapshot": path, "last_done": v}`` where ``last_done`` is the last
version the writer reported as completely saved before it was killed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)  # forked children must not need a thread pool

import kseq  # noqa: E402
from kseq.saving.training_checkpoint import save_checkpoint  # noqa: E402

FORMATS = (".weights.pt", ".weights.h5", ".keras", ".checkpoint.pt")


def build() -> kseq.Sequential:
    model = kseq.Sequential([kseq.Input((256,)), kseq.layers.Dense(512), kseq.layers.Dense(64)])
    model.compile(optimizer="adam", loss="mse")
    return model


def writer(model: kseq.Sequential, path: str, fmt: str, pipe: int) -> None:
    shapes = [w.shape for w in model.get_weights()]
    version = 0
    while True:
        version += 1
        model.set_weights([np.full(s, version, dtype="float32") for s in shapes])
        if fmt == ".keras":
            model.save(path)
        elif fmt == ".checkpoint.pt":
            save_checkpoint(path, model, epoch=version)
        else:
            model.save_weights(path)
        os.write(pipe, f"{version}\n".encode())


def main() -> None:
    folder, kills, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    model = build()
    for i in range(kills):
        fmt = FORMATS[i % len(FORMATS)]
        path = os.path.join(folder, f"ckpt{fmt}")
        if os.path.exists(path):
            os.remove(path)  # each round starts from nothing, so versions are comparable
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the writer
            os.close(read_end)
            try:
                writer(model, path, fmt, write_end)
            finally:
                os._exit(1)
        os.close(write_end)
        reported = b""
        while b"\n" not in reported:  # one complete save first, so every round has a file
            reported += os.read(read_end, 1 << 16)
        time.sleep(rng.uniform(0.0, 0.25))  # then die at a random moment of later saves
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        while chunk := os.read(read_end, 1 << 16):
            reported += chunk
        os.close(read_end)
        done = [int(v) for v in reported.split()]
        snapshot = os.path.join(folder, f"kill{i}{fmt}")
        if os.path.exists(path):
            shutil.copyfile(path, snapshot)
        leftovers = [n for n in os.listdir(folder) if n.endswith(".tmp")]
        print(
            json.dumps(
                {
                    "kill": i,
                    "format": fmt,
                    "snapshot": snapshot,
                    "last_done": done[-1] if done else 0,
                    "stray_temp_files": len(leftovers),
                }
            ),
            flush=True,
        )
        for name in leftovers:  # a killed writer leaves its temporary file: clean for the next run
            os.remove(os.path.join(folder, name))


if __name__ == "__main__":
    main()
