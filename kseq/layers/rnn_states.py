"""The initial states of a recurrent layer's call, checked as Keras checks them.

An ``initial_state`` the caller passes must have one tensor per state (``h``; LSTM: ``h`` and
``c``); a ``stateful`` layer's carried states must match the batch size of every later input.

Example:
    >>> import torch
    >>> x = torch.ones(2, 3, 5, dtype=torch.float64)
    >>> [s.dtype for s in given_initial_states(torch.zeros(2, 4), 1, (4,), x, "'rnn' (SimpleRNN)")]
    [torch.float64]
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__: list[str] = []


def given_initial_states(
    initial_state: Any, n_states: int, state_shape: tuple[int, ...], x: Tensor, layer: str
) -> list[Tensor]:
    """``initial_state`` (a tensor or a list of them) as ``n_states`` tensors of ``x``'s dtype and
    device, or Keras's error naming ``layer`` (``"name (Class)"``) when the count is wrong.

    Example:
        >>> given_initial_states([torch.zeros(1, 2)], 2, (2,), torch.ones(1, 3, 2), "'lstm' (LSTM)")
        Traceback (most recent call last):
        ...
        ValueError: Layer 'lstm' (LSTM) expects 2 initial state tensor(s) of shape (None, 2), but received 1.
    """
    states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
    if len(states) != n_states:
        raise ValueError(
            f"Layer {layer} expects {n_states} initial state tensor(s) of shape "
            f"{(None, *state_shape)}, but received {len(states)}."
        )
    return [torch.as_tensor(s, dtype=x.dtype, device=x.device) for s in states]


def check_stateful_batch(states: list[Tensor], batch_size: int) -> None:
    """Keras's error when a stateful layer's carried states are for another batch size.

    Example:
        >>> check_stateful_batch([torch.zeros(4, 2)], 4)  # same batch size: no error
        >>> check_stateful_batch([torch.zeros(4, 2)], 3)
        Traceback (most recent call last):
        ...
        ValueError: If an RNN is stateful, the batch size of the input sequences must be the same as the batch size of the initial state.
        - Expected batch size: 4
        - Received batch size: 3
    """
    if states[0].shape[0] != batch_size:
        raise ValueError(
            "If an RNN is stateful, the batch size of the input sequences must be the same as the "
            f"batch size of the initial state. \n- Expected batch size: {states[0].shape[0]}\n"
            f"- Received batch size: {batch_size}"
        )
