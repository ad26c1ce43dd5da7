"""Helper process for ``test_backup_and_restore.py``: trains 6 epochs with BackupAndRestore and
writes the final weights. Usage: ``python resume_worker.py <backup_dir> <out.npz> [--no-backup]``.
Prints ``epoch <n> saved`` after the backup of each epoch (the test kills it on ``epoch 2``).
"""

from __future__ import annotations

import sys

import numpy as np
import torch

torch.set_num_threads(1)

from resume_common import BATCH_SIZE, EPOCHS, build, data  # noqa: E402

import kseq  # noqa: E402


class Announce(kseq.callbacks.Callback):
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        print(f"epoch {epoch} saved", flush=True)


def main() -> None:
    backup_dir, out = sys.argv[1], sys.argv[2]
    kseq.utils.set_random_seed(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    model = build()
    x, y = data()
    callbacks = [kseq.callbacks.BackupAndRestore(backup_dir), Announce()]
    model.fit(x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, callbacks=callbacks, verbose=0)
    np.savez(out, *model.get_weights())


if __name__ == "__main__":
    main()
