"""Running a fused torch RNN module under a Keras timestep mask, without a Python loop.

Keras's rule: a masked step keeps the previous state, and its output is the previous step's output
(zeros before the first valid step) — or zeros with ``zero_output_for_mask``. cuDNN/torch kernels
only know *right* padding (``pack_padded_sequence``), but Keras masks may be pre-padded or have
holes. :func:`fused_masked_call` handles any mask exactly with one kernel call:

1. a stable ``argsort`` of the mask moves each sequence's valid steps to the front, in order, and a
   ``gather`` builds that compacted batch (its padding now trails, where it cannot affect the
   valid steps' outputs);
2. one kernel call on the unpacked compacted batch;
3. each original step's output is the compacted output at ``cumsum(mask) - 1`` (the latest valid
   step at or before it), zeroed where Keras outputs zeros. The final hidden state is the last
   valid output; LSTM's final *cell* state, which the outputs do not show, is recomputed in
   parallel by :func:`lstm_final_cell_state`.

Everything stays on the device, with no host sync (``pack_padded_sequence`` would need CPU
lengths, and torch's packed CPU LSTM is ~5x slower than the unpacked one).

Example:
    >>> import torch
    >>> from torch import nn
    >>> rnn = nn.RNN(1, 1, batch_first=True, bias=False)
    >>> _ = nn.init.ones_(rnn.weight_ih_l0), nn.init.zeros_(rnn.weight_hh_l0)
    >>> x = torch.tensor([[[0.0], [1.0], [2.0]]])
    >>> run = fused_masked_call(rnn, x, None, torch.tensor([[False, True, True]]))
    >>> (run.outputs.squeeze(-1) * 1000).round().tolist()  # tanh(1), tanh(2): step 0 is masked
    [[0.0, 762.0, 964.0]]
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__: list[str] = []


class MaskedRun(NamedTuple):
    """Result of :func:`fused_masked_call` (outputs in processing order)."""

    outputs: Tensor | None  # (batch, steps, units), Keras's masked outputs (when asked for)
    last: Tensor  # (batch, units), Keras's last output
    last_valid: Tensor  # (batch, units), output of the last valid step (zeros when none)
    has_valid: Tensor  # (batch, 1) bool, whether a sequence has any valid step
    cell_state: Tensor | None  # LSTM's cell state after the last valid step (when asked for)


def where_mask(mask: Tensor, new: Tensor, old: Tensor) -> Tensor:
    """``new`` where ``mask`` (batch or batch x steps) is True, else ``old``, broadcast over the rest.

    Example:
        >>> where_mask(torch.tensor([True, False]), torch.ones(2, 3), torch.zeros(2, 3)).sum().item()
        3.0
    """
    return torch.where(mask.reshape(*mask.shape, *([1] * (new.dim() - mask.dim()))), new, old)


def fused_masked_call(
    module: nn.RNNBase,
    x: Tensor,
    hx: Any,
    mask: Tensor,
    zero_output_for_mask: bool = False,
    cell_state: bool = False,
    sequences: bool = True,
) -> MaskedRun:
    """Run ``module`` (``batch_first``) on ``x`` under ``mask`` with Keras's semantics, in one call.

    Args:
        module: A ``batch_first`` ``nn.RNN``/``nn.LSTM``/``nn.GRU``.
        x: Inputs ``(batch, steps, features)``.
        hx: Initial state(s) in the module's format, or ``None`` for zeros.
        mask: Boolean ``(batch, steps)``, True for valid steps.
        zero_output_for_mask: Keras's option: zeros (not the previous output) at masked steps.
        cell_state: (``nn.LSTM`` only) also compute the cell state after the last valid step.
        sequences: Build the full output sequence (else ``outputs`` is None and only the last
            outputs are gathered).
    """
    batch, steps = mask.shape
    order = torch.argsort((~mask).to(torch.uint8), dim=1, stable=True)
    compact = x.gather(1, order.unsqueeze(-1).expand_as(x))
    lengths = mask.sum(1)
    y_compact, _ = module(compact, hx)
    has_valid = (lengths > 0).unsqueeze(-1)
    units = y_compact.shape[-1]
    last_index = (lengths - 1).clamp(min=0).view(batch, 1, 1).expand(batch, 1, units)
    zeros = y_compact.new_zeros(())
    last_valid = torch.where(has_valid, y_compact.gather(1, last_index).squeeze(1), zeros)
    last = where_mask(mask[:, -1], last_valid, zeros) if zero_output_for_mask else last_valid
    outputs = None
    if sequences:
        # Each original step shows the output of the latest valid step at or before it.
        seen = mask.cumsum(1)
        index = (seen - 1).clamp(min=0).unsqueeze(-1).expand(batch, steps, units)
        keep = mask if zero_output_for_mask else seen > 0
        outputs = where_mask(keep, y_compact.gather(1, index), zeros)
    cell = None
    if cell_state:
        cell = lstm_final_cell_state(module, compact, y_compact, hx, lengths)  # type: ignore[arg-type]
    return MaskedRun(outputs, last, last_valid, has_valid, cell)


def lstm_final_cell_state(lstm: nn.LSTM, x: Tensor, y: Tensor, hx: Any, lengths: Tensor) -> Tensor:
    """LSTM's cell state after step ``lengths - 1`` of each sequence (its initial one when empty).

    The outputs ``y`` give every step's previous hidden state, so all gates come from two batched
    matmuls, and the cell recurrence ``c_t = f_t c_{t-1} + i_t g_t`` (linear in ``c``) is summed
    in closed form: ``c_L = sum_t i_t g_t prod_{s>t} f_s + c_0 prod_s f_s``. It is the same function
    of the weights as the kernel's own cell state, so its gradients are the true ones.

    Example:
        >>> lstm = nn.LSTM(2, 3, batch_first=True)
        >>> x = torch.randn(1, 4, 2)
        >>> y, (h, c) = lstm(x)
        >>> bool(torch.allclose(lstm_final_cell_state(lstm, x, y, None, torch.tensor([4])), c[0], atol=1e-6))
        True
    """
    batch, steps, units = y.shape
    h0, c0 = (hx[0][0], hx[1][0]) if hx is not None else (y.new_zeros(batch, units),) * 2
    h_prev = torch.cat([h0.unsqueeze(1), y[:, :-1]], dim=1)
    gates = F.linear(x, lstm.weight_ih_l0, getattr(lstm, "bias_ih_l0", None)) + F.linear(
        h_prev, lstm.weight_hh_l0, getattr(lstm, "bias_hh_l0", None)
    )
    i, f, g, _ = gates.chunk(4, dim=-1)
    valid = (torch.arange(steps, device=y.device) < lengths.unsqueeze(1)).unsqueeze(-1)
    forget = torch.where(valid, torch.sigmoid(f), 1.0)  # steps past the end change nothing
    write = torch.where(valid, torch.sigmoid(i) * torch.tanh(g), 0.0)
    keep_from = forget.flip(1).cumprod(1).flip(1)  # prod_{s >= t} f_s
    keep_after = torch.cat([keep_from[:, 1:], torch.ones_like(keep_from[:, :1])], dim=1)
    return (write * keep_after).sum(1) + c0 * keep_from[:, 0]
