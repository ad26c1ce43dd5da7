"""Keras's layout of a fused recurrent layer's weights, on top of torch's ``nn.RNN``/``LSTM``/``GRU``.

Keras stores ``kernel (input_dim, G*units)``, ``recurrent_kernel (units, G*units)`` and one bias
``(G*units,)`` (GRU with ``reset_after``: two, ``(2, 3*units)``); torch stores the transposes,
``weight_ih_l0``/``weight_hh_l0``, and two biases, with GRU's gate blocks in another order (the
layer's ``gate_order``, an involution). The conversions both ways live here, in one place.

Example:
    >>> import torch
    >>> from torch import nn
    >>> rnn = nn.RNN(2, 3, batch_first=True)
    >>> with torch.no_grad():
    ...     load_keras_weights(rnn, lambda t: t, torch.ones(2, 3), torch.eye(3), torch.ones(3))
    >>> rnn.weight_ih_l0.shape, keras_bias(rnn, lambda t: t, two_biases=False).tolist()
    (torch.Size([3, 2]), [1.0, 1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

__all__: list[str] = []

GateOrder = Callable[[Tensor], Tensor]


def single_bias(module: nn.RNNBase) -> None:
    """Keep torch's recurrent bias ``bias_hh_l0`` as a constant zero buffer: Keras has one bias, so
    the parameter count and the training dynamics are Keras's (two trainable biases would double
    the bias gradient).

    Example:
        >>> lstm = nn.LSTM(2, 3); single_bias(lstm)
        >>> [name for name, _ in lstm.named_parameters()]
        ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0']
    """
    hidden_bias = module._parameters.pop("bias_hh_l0")
    module.register_buffer("bias_hh_l0", torch.zeros_like(hidden_bias.data), persistent=False)
    module._init_flat_weights()


def load_keras_weights(
    module: nn.RNNBase,
    gate_order: GateOrder,
    kernel: Tensor,
    recurrent: Tensor,
    bias: Tensor | None,
    two_biases: bool = False,
) -> None:
    """Copy Keras-layout weights into ``module`` (in place; call under ``torch.no_grad()``).

    Example:
        >>> gru = nn.GRU(1, 1)
        >>> with torch.no_grad():
        ...     load_keras_weights(gru, lambda t: t, torch.ones(1, 3), torch.ones(1, 3),
        ...                        torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), two_biases=True)
        >>> gru.bias_hh_l0.tolist()
        [4.0, 5.0, 6.0]
    """
    module.weight_ih_l0.copy_(gate_order(torch.as_tensor(kernel).T))
    module.weight_hh_l0.copy_(gate_order(torch.as_tensor(recurrent).T))
    if bias is not None:
        bias = torch.as_tensor(bias)
        if two_biases:
            module.bias_ih_l0.copy_(gate_order(bias[0]))
            module.bias_hh_l0.copy_(gate_order(bias[1]))
        else:
            module.bias_ih_l0.copy_(gate_order(bias))
            module.bias_hh_l0.zero_()


def keras_bias(module: nn.RNNBase, gate_order: GateOrder, two_biases: bool) -> Tensor:
    """The Keras-layout bias of ``module``: ``(G*units,)``, or ``(2, G*units)`` with two biases.

    Example:
        >>> rnn = nn.RNN(1, 2)
        >>> _ = nn.init.ones_(rnn.bias_ih_l0), nn.init.ones_(rnn.bias_hh_l0)
        >>> keras_bias(rnn, lambda t: t, two_biases=False).tolist()
        [2.0, 2.0]
    """
    if two_biases:
        return torch.stack([gate_order(module.bias_ih_l0), gate_order(module.bias_hh_l0)])
    return gate_order(module.bias_ih_l0 + module.bias_hh_l0)
