"""``SwapEMAWeights``: evaluate (and optionally checkpoint) with the optimizer's exponential moving
average of the weights instead of the raw weights.

The swap is three ``torch._foreach_copy_`` calls through one scratch buffer allocated at the first
swap: on the device, no host round trip (Keras's torch path copies each weight through NumPy).

Difference from Keras 3.15: Keras's ``on_predict_end`` tests the wrong flag and leaves the EMA
weights in the model after ``predict``; kseq swaps them back, as ``on_test_end`` does.

Example:
    >>> import numpy as np, kseq
    >>> model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(1)])
    >>> model.compile(optimizer=kseq.optimizers.SGD(use_ema=True), loss="mse")
    >>> x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")
    >>> h = model.fit(x, y, validation_data=(x, y), callbacks=[SwapEMAWeights()], verbose=0)
    >>> sorted(h.history)
    ['loss', 'val_loss']
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kseq.callbacks.callback import Callback, Logs

__all__ = ["SwapEMAWeights"]


class SwapEMAWeights(Callback):
    """Swaps model weights and EMA weights before and after evaluation.

    Use it with an optimizer created with ``use_ema=True``. Validation inside ``fit``,
    ``evaluate`` and ``predict`` then run with the EMA weights; the training weights are put back
    afterwards. The swap is in place; modifying the EMA or model weights from another callback in
    between is undefined behaviour.

    Args:
        swap_on_epoch: Also swap at ``on_epoch_end`` (and back at the next ``on_epoch_begin``),
            so that callbacks placed after this one (e.g. ``ModelCheckpoint``) see the EMA weights.

    Raises:
        ValueError: At the first swap, if the model's optimizer does not keep an EMA
            (``use_ema=False``).

    Example:
        >>> SwapEMAWeights(swap_on_epoch=True).swap_on_epoch
        True
    """

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False
        self._scratch: list[Tensor] = []

    def _ema_pairs(self) -> tuple[list[Tensor], list[Tensor]]:
        optimizer: Any = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # a loss-scale wrapper
        if not getattr(optimizer, "use_ema", False) or not getattr(optimizer, "_ema", None):
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                f"Received: use_ema={getattr(optimizer, 'use_ema', None)}"
            )
        return optimizer._params, optimizer._ema

    def _swap_variables(self) -> None:
        params, ema = self._ema_pairs()
        if len(self._scratch) != len(params) or any(
            s.shape != p.shape or s.device != p.device
            for s, p in zip(self._scratch, params, strict=True)
        ):
            self._scratch = [torch.empty_like(p) for p in params]
        with torch.no_grad():
            torch._foreach_copy_(self._scratch, params)
            torch._foreach_copy_(params, ema)
            torch._foreach_copy_(ema, self._scratch)

    def _finalize_ema_values(self) -> None:
        # The model holds the EMA weights; make the EMA equal to them, so that the end-of-fit
        # ``finalize_variable_values`` (EMA -> model) leaves them in place.
        params, ema = self._ema_pairs()
        with torch.no_grad():
            torch._foreach_copy_(ema, params)

    def _to_ema(self) -> None:
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def _to_training(self) -> None:
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        if self.swap_on_epoch:
            self._to_training()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._to_ema()
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs: Logs = None) -> None:
        self._to_ema()

    def on_test_end(self, logs: Logs = None) -> None:
        self._to_training()

    def on_predict_begin(self, logs: Logs = None) -> None:
        self._to_ema()

    def on_predict_end(self, logs: Logs = None) -> None:
        self._to_training()
