"""Running a fused torch RNN module under a Keras timestep mask, without a Python loop.

Keras's rule: a masked step keeps the previous state, and its output is the previous step's output
(zeros before the first valid step) — or zeros with ``zero_output_for_mask``. cuDNN/torch kernels
only know *right* padding (``pack_padded_sequence``), but Keras masks may be pre-padded or have
holes. :func:`fused_masked_call` handles any mask exactly with one kernel call:

1. a stable ``argsort`` of the mask moves each sequence's valid steps to the front, in order, and a
   ``gather`` builds that compacted batch (its padding now trails, where it cannot affect the
   valid steps' outputs);
2. one kernel call on the compacted batch (packed only when the final states are needed *and*
   cannot be read off the outputs — LSTM's cell state — since packing needs CPU lengths);
3. each original step's output is the compacted output at ``cumsum(mask) - 1`` (the latest valid
   step at or before it), zeroed where Keras outputs zeros.

Everything stays on the device; the only host sync is the packed case's lengths.

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
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__: list[str] = []


class MaskedRun(NamedTuple):
    """Result of :func:`fused_masked_call` (outputs in processing order)."""

    outputs: Tensor | None  # (batch, steps, units), Keras's masked outputs (when asked for)
    last: Tensor  # (batch, units), Keras's last output
    last_valid: Tensor  # (batch, units), output of the last valid step (zeros when none)
    has_valid: Tensor  # (batch, 1) bool, whether a sequence has any valid step
    hidden: Any  # the module's final states (packed runs only), else None


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
    packed: bool = False,
    sequences: bool = True,
) -> MaskedRun:
    """Run ``module`` (``batch_first``) on ``x`` under ``mask`` with Keras's semantics, in one call.

    Args:
        module: A ``batch_first`` ``nn.RNN``/``nn.LSTM``/``nn.GRU``.
        x: Inputs ``(batch, steps, features)``.
        hx: Initial state(s) in the module's format, or ``None`` for zeros.
        mask: Boolean ``(batch, steps)``, True for valid steps.
        zero_output_for_mask: Keras's option: zeros (not the previous output) at masked steps.
        packed: Also return the module's true final states (through ``pack_padded_sequence``, which
            costs a host sync on GPU). Without it, read the final hidden state from ``last_valid``.
        sequences: Build the full output sequence (else ``outputs`` is None and only the last
            outputs are gathered).
    """
    batch, steps = mask.shape
    order = torch.argsort((~mask).to(torch.uint8), dim=1, stable=True)
    compact = x.gather(1, order.unsqueeze(-1).expand_as(x))
    lengths = mask.sum(1)
    hidden = None
    if packed:
        # host sync: pack_padded_sequence takes CPU lengths (free when x is on the CPU).
        # Empty sequences run one (discarded) step: the caller keeps their initial states.
        cpu_lengths = lengths.clamp(min=1).cpu()
        sequence = pack_padded_sequence(
            compact, cpu_lengths, batch_first=True, enforce_sorted=False
        )
        y_packed, hidden = module(sequence, hx)
        y_compact, _ = pad_packed_sequence(y_packed, batch_first=True, total_length=steps)
    else:
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
    return MaskedRun(outputs, last, last_valid, has_valid, hidden)
