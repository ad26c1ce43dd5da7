"""The per-timestep fallback of the recurrent layers: Keras options without a fused torch kernel.

``BaseRNN`` runs a sequence through one fused kernel call whenever it can; options without an exact
fused equivalent (recurrent dropout, per-gate dropout masks, non-default activations) take the
Python loop here, over the same weights, with Keras's semantics:

* a masked step keeps the previous states, and its output is the previous step's output (zeros
  before the first valid step), or zeros with ``zero_output_for_mask=True``;
* dropout draws one ``(batch, features)`` mask per sequence (one per gate block with Keras's
  ``implementation=1``), reused at every step.

Example:
    >>> import torch
    >>> def cell(x_t, states, rec_masks):  # a running sum
    ...     return [states[0] + x_t]
    >>> zeros = torch.zeros(1, 1)
    >>> seq, last, states = timestep_loop(cell, torch.ones(1, 3, 1), [zeros], None, zeros, False)
    >>> seq.flatten().tolist(), last.tolist(), states[0].tolist()
    ([1.0, 2.0, 3.0], [[3.0]], [[3.0]])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq.layers.rnn_masking import where_mask

__all__: list[str] = []

# One step: (input projection at t, states, recurrent dropout masks) -> new states (h first).
Cell = Callable[[Tensor, list[Tensor], Tensor | None], list[Tensor]]


def dropout_mask(
    like: Tensor, rate: float, count: int | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """Keras's per-sequence dropout mask: ``(batch, dim)`` (or ``(count, batch, dim)``) of zeros
    and ``1 / (1 - rate)``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> sorted(set(dropout_mask(torch.ones(4, 8), 0.5, count=3, generator=g).flatten().tolist()))
        [0.0, 2.0]
    """
    shape = like.shape if count is None else (count, *like.shape)
    keep = 1.0 - rate
    probs = torch.full(shape, keep, device=like.device, dtype=like.dtype)
    return torch.bernoulli(probs, generator=generator) / keep


def timestep_loop(
    cell: Cell,
    x_proj: Tensor,
    states: list[Tensor],
    mask: Tensor | None,
    zeros: Tensor,
    zero_output_for_mask: bool,
    rec_masks: Tensor | None = None,
) -> tuple[Tensor, Tensor, list[Tensor]]:
    """Run ``cell`` over the time axis of ``x_proj`` (``(batch, steps, ...)``) from ``states``,
    with Keras's mask semantics (``zeros``: one step's zero output, ``(batch, *state_shape)``).
    Returns (all outputs ``(batch, steps, *state_shape)``, the last output, the final states).

    Example:
        >>> def cell(x_t, states, rec_masks):
        ...     return [states[0] + x_t]
        >>> mask, zeros = torch.tensor([[True, False, True]]), torch.zeros(1, 1)
        >>> seq, _, _ = timestep_loop(cell, torch.ones(1, 3, 1), [zeros], mask, zeros, True)
        >>> seq.flatten().tolist()  # the masked step outputs zeros and keeps the state
        [1.0, 0.0, 2.0]
    """
    steps = x_proj.shape[1]
    outputs, previous = [], zeros
    for t in range(steps):  # the documented fallback: no fused kernel for these options
        new_states = cell(x_proj[:, t], states, rec_masks)
        output = new_states[0]
        if mask is not None:
            step_mask = mask[:, t]
            new_states = [
                where_mask(step_mask, n, s) for n, s in zip(new_states, states, strict=True)
            ]
            output = where_mask(step_mask, output, zeros if zero_output_for_mask else previous)
        states, previous = new_states, output
        outputs.append(output)
    return torch.stack(outputs, 1), outputs[-1], states


def input_projection(
    x: Tensor, weight: Tensor, bias: Tensor | None, in_masks: Tensor | None
) -> Tensor:
    """``x @ W_ih.T + b_ih`` for every step, with one input dropout mask (``(1, batch, features)``)
    or one per gate block (``(gates, batch, features)``, Keras's ``implementation=1``).

    Example:
        >>> input_projection(torch.ones(1, 2, 3), torch.ones(4, 3), None, None).shape
        torch.Size([1, 2, 4])
    """
    if in_masks is None:
        return F.linear(x, weight, bias)
    if in_masks.shape[0] == 1:
        return F.linear(x * in_masks[0].unsqueeze(1), weight, bias)
    gates = in_masks.shape[0]
    proj = torch.einsum(
        "btf,gbf,guf->btgu", x, in_masks, weight.view(gates, weight.shape[0] // gates, -1)
    ).flatten(2)
    return proj + bias if bias is not None else proj


def recurrent_projection(
    h: Tensor, weight: Tensor, bias: Tensor | None, rec_masks: Tensor | None, units: int, first: int
) -> Tensor:
    """``h @ W.T + b`` for the gate blocks ``weight`` holds (``first``: the index of its first
    block), with one recurrent dropout mask per gate block (or one shared mask).

    Example:
        >>> recurrent_projection(torch.ones(2, 3), torch.ones(6, 3), None, None, 3, 0).tolist()
        [[3.0, 3.0, 3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0, 3.0, 3.0]]
    """
    if rec_masks is None:
        return F.linear(h, weight, bias)
    if rec_masks.shape[0] == 1:
        return F.linear(h * rec_masks[0], weight, bias)
    blocks = weight.shape[0] // units
    masks = rec_masks[first : first + blocks]
    proj = torch.einsum("gbu,gvu->bgv", h * masks, weight.view(blocks, units, -1)).flatten(1)
    return proj if bias is None else proj + bias
