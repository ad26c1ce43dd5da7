"""Recurrent layers: ``SimpleRNN``, ``LSTM`` and ``GRU`` on ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``.

Keras's arguments, defaults, configs and weight layouts; the computation is one fused torch kernel
call per layer (see :mod:`kseq.layers.rnn_base` for masks, dropout, ``go_backwards`` and
``stateful``). This module owns what differs per layer: the torch module, the Keras <-> torch gate
order, the bias layout, and the one-step cell used by the per-timestep fallback.

Example:
    >>> import torch
    >>> from kseq.layers import GRU
    >>> GRU(3)(torch.ones(2, 4, 5)).shape
    torch.Size([2, 3])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kseq import activations
from kseq.layers.rnn_base import _SIGMOID, _TANH, BaseRNN

__all__ = ["GRU", "LSTM", "SimpleRNN"]

_RELU = (activations.relu, torch.relu, F.relu)
_USE_CUDNN = ("auto", True, False)


def lstm_initial_bias(initializer: Any, units: int, unit_forget_bias: bool) -> Tensor:
    """Keras's LSTM bias ``(4 * units,)``: with ``unit_forget_bias`` the forget block is ones.

    Example:
        >>> from kseq import initializers
        >>> lstm_initial_bias(initializers.get("zeros"), 1, True).tolist()
        [0.0, 1.0, 0.0, 0.0]
    """
    if not unit_forget_bias:
        return initializer((4 * units,))
    return torch.cat([initializer((units,)), torch.ones(units), initializer((2 * units,))])


def lstm_cell(
    layer: BaseRNN, x_proj: Tensor, states: list[Tensor], rec_masks: Tensor | None
) -> list[Tensor]:
    """One LSTM step (gates i, f, c, o on the last axis) for the per-timestep fallback.

    Example:
        >>> layer = LSTM(2); layer.build((None, 1, 3))
        >>> h, c = lstm_cell(layer, torch.zeros(1, 8), [torch.zeros(1, 2)] * 2, None)
        >>> h.tolist(), c.tolist()
        ([[0.0, 0.0]], [[0.0, 0.0]])
    """
    h, c = states
    i, f, g, o = (x_proj + layer._recurrent_projection(h, rec_masks)).chunk(4, dim=-1)
    gate = layer.recurrent_activation
    c = gate(f) * c + gate(i) * layer.activation(g)
    return [gate(o) * layer.activation(c), c]


def with_unit_forget_bias(config: dict[str, Any], value: bool) -> dict[str, Any]:
    """``config`` with ``unit_forget_bias`` after ``bias_initializer`` (Keras's key order).

    Example:
        >>> list(with_unit_forget_bias({"bias_initializer": None, "dropout": 0.0}, True))
        ['bias_initializer', 'unit_forget_bias', 'dropout']
    """
    items = list(config.items())
    at = [key for key, _ in items].index("bias_initializer") + 1
    return dict([*items[:at], ("unit_forget_bias", value), *items[at:]])


class _CudnnOption(BaseRNN):
    """``use_cudnn`` handling shared by LSTM and GRU (Keras's argument and messages)."""

    def _set_use_cudnn(self, use_cudnn: Any) -> None:
        if use_cudnn not in _USE_CUDNN or not isinstance(use_cudnn, (str, bool)):
            raise ValueError(
                "Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, False}. "
                f"Received: use_cudnn={use_cudnn}"
            )
        self.use_cudnn = use_cudnn

    def _run_loop(self, *args: Any, **kwargs: Any) -> Any:
        if self.use_cudnn is True:
            raise ValueError(
                "use_cudnn=True was specified, but cuDNN is not supported for this layer configuration "
                "with this backend. Pass use_cudnn='auto' to fallback to a non-cuDNN implementation."
            )
        return super()._run_loop(*args, **kwargs)

    def _run_fused(self, x: Tensor, *args: Any, **kwargs: Any) -> Any:
        if self.use_cudnn is False and x.is_cuda:
            with torch.backends.cudnn.flags(enabled=False):
                return super()._run_fused(x, *args, **kwargs)
        return super()._run_fused(x, *args, **kwargs)


class SimpleRNN(BaseRNN):
    """Fully-connected RNN ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Runs on one ``nn.RNN`` call for ``activation`` ``"tanh"`` or ``"relu"``; any other activation, or
    ``recurrent_dropout`` while training, takes the per-timestep fallback loop.

    Args:
        units: Dimensionality of the output space.
        activation: Default ``"tanh"``.
        use_bias: Whether to use a bias vector.
        kernel_initializer: Default ``"glorot_uniform"``.
        recurrent_initializer: Default ``"orthogonal"``.
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: Penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: Projections after each step.
        dropout: Fraction of input units dropped (one mask per sequence).
        recurrent_dropout: Fraction of recurrent units dropped (one mask per sequence).
        return_sequences: Return the whole output sequence instead of the last output.
        return_state: Also return the final state: ``(output, h)``.
        go_backwards: Process the sequence backwards (outputs come in processing order).
        stateful: Carry the final states of batch ``i`` over as the initial states of batch ``i+1``.
        unroll: Accepted for compatibility; no effect (the fused kernel needs no unrolling).
        seed: Seed of the dropout masks.
        zero_output_for_mask: Output zeros (not the previous output) at masked steps.

    Input shape: ``(batch, timesteps, features)``. Output shape: ``(batch, units)`` or
    ``(batch, timesteps, units)``. Keras weights: ``[kernel (features, units),
    recurrent_kernel (units, units), bias (units,)]``.

    Example:
        >>> import torch
        >>> SimpleRNN(4, return_sequences=True)(torch.ones(2, 6, 3)).shape
        torch.Size([2, 6, 4])
    """

    _gates = 1
    _module_name = "rnn"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: int | None = None,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            units, activation, None, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
            activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
            recurrent_dropout, seed, return_sequences, return_state, go_backwards, stateful, unroll,
            zero_output_for_mask, **kwargs,
        )  # fmt: skip

    def _make_module(self, input_dim: int) -> nn.RNNBase:
        relu = self.activation in _RELU
        return nn.RNN(input_dim, self.units, nonlinearity="relu" if relu else "tanh",
                      bias=self.use_bias, batch_first=True)  # fmt: skip

    def _fused_ok(self) -> bool:
        return self.activation in _TANH or self.activation in _RELU

    def _cell(self, x_proj: Tensor, states: list[Tensor], rec_masks: Tensor | None) -> list[Tensor]:
        return [self.activation(x_proj + self._recurrent_projection(states[0], rec_masks))]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()  # Keras's SimpleRNN config has no `seed`
        del config["recurrent_activation"]
        return config


class LSTM(_CudnnOption):
    """Long Short-Term Memory layer (Hochreiter 1997) on one fused ``nn.LSTM`` call.

    Fused (one ``nn.LSTM`` call, cuDNN on GPU) for ``activation="tanh"`` and
    ``recurrent_activation="sigmoid"`` with any mask, ``dropout``, ``go_backwards``, ``stateful``
    and ``return_state``; other activations, or ``recurrent_dropout`` while training, take the
    per-timestep fallback loop (with Keras's per-gate dropout masks).

    Keras's single bias is torch's ``bias_ih_l0``; ``bias_hh_l0`` is a constant zero buffer (not a
    parameter), so parameter counts and training match Keras. Gate order is i, f, c(g), o in both.

    Args:
        units: Dimensionality of the output space.
        activation: Default ``"tanh"``.
        recurrent_activation: Gate activation, default ``"sigmoid"``.
        use_bias: Whether to use a bias vector.
        kernel_initializer: Default ``"glorot_uniform"``.
        recurrent_initializer: Default ``"orthogonal"``.
        bias_initializer: Default ``"zeros"``.
        unit_forget_bias: Add 1 to the forget-gate bias at initialization (default True).
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: Penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: Projections after each step.
        dropout: Fraction of input units dropped (one mask per sequence, all timesteps).
        recurrent_dropout: Fraction of recurrent units dropped (fallback loop while training).
        seed: Seed of the dropout masks.
        return_sequences: Return the whole output sequence instead of the last output.
        return_state: Also return the final states: ``(output, h, c)``.
        go_backwards: Process the sequence backwards (outputs come in processing order).
        stateful: Carry the final states of batch ``i`` over as the initial states of batch ``i+1``.
        unroll: Accepted for compatibility; no effect.
        use_cudnn: ``"auto"``; ``False`` disables cuDNN on GPU; ``True`` raises when the
            configuration needs the fallback loop.
        zero_output_for_mask: Output zeros (not the previous output) at masked steps.

    Input shape: ``(batch, timesteps, features)``. Keras weights: ``[kernel (features, 4u),
    recurrent_kernel (u, 4u), bias (4u,)]``.

    Example:
        >>> import torch
        >>> out, h, c = LSTM(4, return_state=True)(torch.ones(2, 6, 3))
        >>> out.shape, bool(torch.equal(out, h)), c.shape
        (torch.Size([2, 4]), True, torch.Size([2, 4]))
    """

    _gates = 4
    _module_name = "lstm"
    _keras_cell_class = "LSTMCell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        use_cudnn: Any = "auto",
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            units, activation, recurrent_activation, use_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint, dropout, recurrent_dropout, seed, return_sequences, return_state,
            go_backwards, stateful, unroll, zero_output_for_mask, **kwargs,
        )  # fmt: skip
        self.unit_forget_bias = bool(unit_forget_bias)
        self._set_use_cudnn(use_cudnn)

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def _make_module(self, input_dim: int) -> nn.RNNBase:
        return nn.LSTM(input_dim, self.units, bias=self.use_bias, batch_first=True)

    def _fused_ok(self) -> bool:
        return self.activation in _TANH and self.recurrent_activation in _SIGMOID

    def _initial_bias(self) -> Tensor:
        return lstm_initial_bias(self.bias_initializer, self.units, self.unit_forget_bias)

    def _hx(self, states: list[Tensor] | None) -> Any:
        if states is None:
            return None
        return (states[0].unsqueeze(0).contiguous(), states[1].unsqueeze(0).contiguous())

    def _final_states(self, hn: Any) -> list[Tensor]:
        return [hn[0][0], hn[1][0]]

    def _cell(self, x_proj: Tensor, states: list[Tensor], rec_masks: Tensor | None) -> list[Tensor]:
        return lstm_cell(self, x_proj, states, rec_masks)

    def _cell_config(self) -> dict[str, Any]:
        return with_unit_forget_bias(super()._cell_config(), self.unit_forget_bias)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


class GRU(_CudnnOption):
    """Gated Recurrent Unit (Cho et al. 2014) on one fused ``nn.GRU`` call.

    ``reset_after=True`` (Keras 3's default, the cuDNN formulation) is exactly torch's GRU: fused for
    ``activation="tanh"`` and ``recurrent_activation="sigmoid"``. ``reset_after=False``, other
    activations, or ``recurrent_dropout`` while training take the per-timestep fallback loop.

    Keras's gate order is z, r, h; torch's is r, z, n: ``get_weights``/``set_weights`` swap the first
    two blocks. With ``reset_after=True`` the Keras bias ``(2, 3u)`` is torch's
    ``[bias_ih_l0, bias_hh_l0]``; with ``reset_after=False`` it is ``(3u,)`` and ``bias_hh_l0`` is a
    constant zero buffer.

    Args:
        units: Dimensionality of the output space.
        activation: Default ``"tanh"``.
        recurrent_activation: Gate activation, default ``"sigmoid"``.
        use_bias: Whether to use a bias.
        kernel_initializer: Default ``"glorot_uniform"``.
        recurrent_initializer: Default ``"orthogonal"``.
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: Penalties
            (a bias penalty applies to both bias rows, as in Keras).
        kernel_constraint, recurrent_constraint, bias_constraint: Projections after each step
            (with ``reset_after``, a bias constraint is applied to each bias row separately).
        dropout: Fraction of input units dropped (one mask per sequence, all timesteps).
        recurrent_dropout: Fraction of recurrent units dropped (fallback loop while training).
        seed: Seed of the dropout masks.
        return_sequences: Return the whole output sequence instead of the last output.
        return_state: Also return the final state: ``(output, h)``.
        go_backwards: Process the sequence backwards (outputs come in processing order).
        stateful: Carry the final states of batch ``i`` over as the initial states of batch ``i+1``.
        unroll: Accepted for compatibility; no effect.
        reset_after: Apply the reset gate after the recurrent matmul (default True).
        use_cudnn: ``"auto"``; ``False`` disables cuDNN on GPU; ``True`` raises when the
            configuration needs the fallback loop.
        zero_output_for_mask: Output zeros (not the previous output) at masked steps.

    Example:
        >>> import torch
        >>> gru = GRU(2); _ = gru(torch.ones(1, 3, 5))
        >>> [w.shape for w in gru.get_weights()]
        [(5, 6), (2, 6), (2, 6)]
    """

    _gates = 3
    _module_name = "gru"
    _keras_cell_class = "GRUCell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        reset_after: bool = True,
        use_cudnn: Any = "auto",
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            units, activation, recurrent_activation, use_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint, dropout, recurrent_dropout, seed, return_sequences, return_state,
            go_backwards, stateful, unroll, zero_output_for_mask, **kwargs,
        )  # fmt: skip
        self.reset_after = bool(reset_after)
        self._two_biases = self.reset_after
        self._set_use_cudnn(use_cudnn)

    def _make_module(self, input_dim: int) -> nn.RNNBase:
        return nn.GRU(input_dim, self.units, bias=self.use_bias, batch_first=True)

    def _fused_ok(self) -> bool:
        return (
            self.reset_after and self.activation in _TANH and self.recurrent_activation in _SIGMOID
        )

    def _gate_order(self, t: Tensor) -> Tensor:
        u = self.units
        return torch.cat([t[u : 2 * u], t[:u], t[2 * u :]])

    def _cell(self, x_proj: Tensor, states: list[Tensor], rec_masks: Tensor | None) -> list[Tensor]:
        (h,) = states
        u, gate = self.units, self.recurrent_activation
        x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
        if self.reset_after:
            h_r, h_z, h_n = self._recurrent_projection(h, rec_masks).chunk(3, dim=-1)
            r, z = gate(x_r + h_r), gate(x_z + h_z)
            n = self.activation(x_n + r * h_n)
        else:
            h_r, h_z = self._recurrent_projection(h, rec_masks, slice(0, 2 * u)).chunk(2, dim=-1)
            r, z = gate(x_r + h_r), gate(x_z + h_z)
            n = self.activation(
                x_n + self._recurrent_projection(r * h, rec_masks, slice(2 * u, 3 * u))
            )
        return [z * h + (1.0 - z) * n]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after, "seed": self.seed}
