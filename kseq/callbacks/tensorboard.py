"""``TensorBoard``: write Keras's TensorBoard scalars (and weight histograms) with
``torch.utils.tensorboard.SummaryWriter``.

It needs the optional ``tensorboard`` package (``pip install tensorboard`` or
``pip install kseq[tensorboard]``); constructing the callback without it raises ``ImportError``.
No TensorFlow is involved.

What is written, with Keras's tags and directories:

* ``<log_dir>/train``: ``epoch_<metric>`` and ``epoch_learning_rate`` at step ``epoch``
  (plus ``epoch_steps_per_second`` with ``write_steps_per_second``); with an integer
  ``update_freq`` (or ``"batch"``), ``batch_<metric>`` every ``update_freq`` batches at step
  ``global batch count`` (plus ``batch_steps_per_second``); weight histograms every
  ``histogram_freq`` epochs, tagged ``<layer name>/<torch parameter name>/histogram``.
* ``<log_dir>/validation``: ``epoch_<metric>`` for the ``val_`` logs, and
  ``evaluation_<metric>_vs_iterations`` at step ``optimizer.iterations`` after each evaluation.

Batch scalars cost a host sync only on the batches that are written. Not supported (accepted
and ignored, as Keras's torch backend does for the graph): ``write_graph``, ``write_images``,
``embeddings_freq``/``embeddings_metadata``; ``profile_batch`` raises as in Keras on torch.

Example:
    >>> import importlib.util
    >>> if importlib.util.find_spec("tensorboard") is None:
    ...     try:
    ...         TensorBoard(log_dir="logs")
    ...     except ImportError as e:
    ...         print("pip install tensorboard" in str(e))
    ... else:
    ...     print(True)
    True
"""

from __future__ import annotations

import os
import time
from itertools import chain
from typing import Any

from kseq.callbacks._learning_rate import log_learning_rate
from kseq.callbacks.callback import Callback, Logs

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Enable visualizations for TensorBoard.

    Args:
        log_dir: Directory of the event files (``train/`` and ``validation/`` are created in it).
        histogram_freq: Every how many epochs to write weight histograms (``0``: never).
        write_graph: Accepted for Keras compatibility; not supported (Keras on torch neither).
        write_images: Accepted for Keras compatibility; not supported.
        write_steps_per_second: Also log the training steps per second.
        update_freq: ``"epoch"``, ``"batch"`` or an integer ``N``: write the batch metrics every
            ``N`` batches (each written batch reads the metrics from the device once).
        profile_batch: Must be ``0``: profiling is not available with the torch backend.
        embeddings_freq: Accepted for Keras compatibility; not supported.
        embeddings_metadata: Accepted for Keras compatibility; not supported.

    Raises:
        ImportError: If the ``tensorboard`` package is not installed.
        ValueError: If ``profile_batch`` is not ``0``, or ``update_freq`` is invalid.

    Example:
        >>> TensorBoard.__name__
        'TensorBoard'
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int | tuple[int, int] = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Any = None,
    ) -> None:
        super().__init__()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise ImportError(
                "The TensorBoard callback needs the `tensorboard` package, which is not installed. "
                "Install it with `pip install tensorboard` (or `pip install kseq[tensorboard]`)."
            ) from exc
        if profile_batch:
            raise ValueError(
                "Profiling is not yet available with the torch backend. Please open a PR if you'd "
                f"like to add this feature. Received: profile_batch={profile_batch} (must be 0)"
            )
        update_freq = 1 if update_freq == "batch" else update_freq
        if update_freq != "epoch" and (
            isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1
        ):
            raise ValueError(
                "`update_freq` must be 'epoch', 'batch' or a positive integer. "
                f"Received: update_freq={update_freq!r}"
            )
        self._summary_writer_cls = SummaryWriter
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict[str, Any] = {}
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0

    # ------------------------------------------------------------------ writers
    def _writer(self, name: str) -> Any:
        """The ``train`` or ``validation`` writer, created on first use (no empty event files)."""
        if name not in self._writers:
            self._writers[name] = self._summary_writer_cls(os.path.join(self.log_dir, name))
        return self._writers[name]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -------------------------------------------------------------------- hooks
    def _wants_batch_logs(self, batch: int) -> bool:
        # Read the device metrics only on the batches that are written.
        return self.update_freq != "epoch" and self._global_train_batch % self.update_freq == 0

    def on_train_begin(self, logs: Logs = None) -> None:
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs: Logs = None) -> None:
        self._close_writers()

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        if self.write_steps_per_second:
            self._previous_epoch_iterations = self.model.optimizer.iterations
            self._epoch_start_time = time.time()

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None:
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        if logs is None:
            return
        step = self._global_train_batch
        writer = self._writer("train")
        if self.write_steps_per_second:
            elapsed = time.time() - self._batch_start_time
            writer.add_scalar("batch_steps_per_second", 1.0 / max(elapsed, 1e-12), step)
        for name, value in logs.items():
            writer.add_scalar(f"batch_{name}", value, step)

    def on_test_end(self, logs: Logs = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations"):
            writer = self._writer("validation")
            for name, value in (logs or {}).items():
                writer.add_scalar(f"evaluation_{name}_vs_iterations", value, optimizer.iterations)
            writer.flush()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    # ------------------------------------------------------------------ writing
    def _log_epoch_metrics(self, epoch: int, logs: Logs) -> None:
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if getattr(self.model, "optimizer", None) is not None:
            train_logs = log_learning_rate(self.model, train_logs)
        if self.write_steps_per_second:
            iterations = self.model.optimizer.iterations - self._previous_epoch_iterations
            train_logs["steps_per_second"] = iterations / (time.time() - self._epoch_start_time)
        for name, subset in (("train", train_logs), ("validation", val_logs)):
            if subset:
                writer = self._writer(name)
                for key, value in subset.items():
                    writer.add_scalar(f"epoch_{key}", value, epoch)
                writer.flush()

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in getattr(self.model, "layers", []):
            # Keras's ``layer.weights``: the trainable ones and the float state (BN statistics).
            named = chain(layer.named_parameters(), layer.named_buffers())
            for name, weight in named:
                if weight.is_floating_point():
                    tag = f"{layer.name}/{name}/histogram"
                    writer.add_histogram(tag, weight.detach(), epoch)
        writer.flush()
