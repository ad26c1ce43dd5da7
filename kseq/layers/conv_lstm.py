"""Convolutional LSTMs: ``ConvLSTM1D``, ``ConvLSTM2D``, ``ConvLSTM3D`` (Shi et al. 2015).

The LSTM gates are convolutions: an input convolution ``nn.ConvNd(channels, 4 * filters)`` (Keras's
``strides``/``padding``/``dilation_rate``) and a recurrent one ``nn.ConvNd(filters, 4 * filters)``
(stride 1, "same", no bias). torch has no fused ConvLSTM kernel, so this layer **loops over
timesteps in Python**: the input convolution runs once for all timesteps (folded into the batch);
only the recurrent convolution and the gate math run per step. Masks, ``go_backwards``,
``stateful``, ``return_state`` and dropout follow :class:`~kseq.layers.rnn_base.BaseRNN` (Keras's
per-gate dropout masks, as Keras's ConvLSTM cell always uses).

Tensors are channels_last by default: ``(batch, time, *spatial, channels)``; convolutions see a
zero-copy channels-first view. Keras weights: ``[kernel (*k, channels, 4f), recurrent_kernel
(*k, f, 4f), bias (4f,)]``, gate order i, f, c, o.

Example:
    >>> import torch
    >>> ConvLSTM2D(4, 3, padding="same", return_sequences=True)(torch.ones(2, 5, 8, 8, 3)).shape
    torch.Size([2, 5, 8, 8, 4])
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kseq import config
from kseq.core import conv_utils
from kseq.layers.layer import InputSpec, Shape
from kseq.layers.recurrent import lstm_cell, lstm_initial_bias, with_unit_forget_bias
from kseq.layers.rnn_base import BaseRNN
from kseq.layers.weight_views import KerasWeight

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def _split_padding(pads: list[tuple[int, int]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Symmetric pads go to the conv's own ``padding`` (no copy); asymmetric ones (Keras "same"
    with an even span) need an explicit ``F.pad``: returns ``(conv_padding, explicit_pads)``."""
    if all(left == right for left, right in pads):
        return tuple(left for left, _ in pads), ()
    return (0,) * len(pads), conv_utils.flat_pads(pads)


class ConvLSTM(BaseRNN):
    """Base of ``ConvLSTM1D/2D/3D`` (the ``rank`` is the number of spatial axes).

    Example:
        >>> issubclass(ConvLSTM2D, ConvLSTM)
        True
    """

    _gates = 4
    _module_name = "input_conv"
    rank: ClassVar[int] = 2

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
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
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            filters, activation, recurrent_activation, use_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint, dropout, recurrent_dropout, seed, return_sequences, return_state,
            go_backwards, stateful, unroll, zero_output_for_mask, **kwargs,
        )  # fmt: skip
        rank = self.rank
        self.filters = self.units
        self.kernel_size = conv_utils.standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = conv_utils.standardize_tuple(strides, rank, "strides", allow_zero=True)
        self.padding = conv_utils.standardize_padding(padding)
        self.data_format = config.standardize_data_format(data_format)
        self.dilation_rate = conv_utils.standardize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide "
                f"`strides=1` or `dilation_rate=1`. Received: strides={self.strides} and "
                f"dilation_rate={self.dilation_rate}"
            )
        self.unit_forget_bias = bool(unit_forget_bias)
        self.input_spec = InputSpec(ndim=rank + 3)
        self._out_spatial: tuple[int, ...] = ()
        self._pads: tuple[int, ...] = ()
        self._rec_pads: tuple[int, ...] = ()

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Shape) -> None:
        spatial = conv_utils.spatial_dims(input_shape[1:], self.data_format)
        channels = conv_utils.channels_of(input_shape[1:], self.data_format)
        if None in spatial:
            raise ValueError(
                "ConvLSTM layers only support static input shapes for the spatial dimension. "
                f"Received invalid input shape: input_shape={input_shape}"
            )
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs (last axis) should be defined. Found None. "
                f"Full input shape received: input_shape={input_shape}"
            )
        dims = list(zip(spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True))
        self._out_spatial = tuple(
            conv_utils.conv_output_length(n, k, s, d, self.padding) for n, k, s, d in dims
        )  # type: ignore[misc]
        pads = [conv_utils.same_padding(*dim) if self.padding == "same" else (0, 0) for dim in dims]
        in_padding, self._pads = _split_padding(pads)
        rec_pads = [
            conv_utils.same_padding(n, k, 1)
            for n, k in zip(self._out_spatial, self.kernel_size, strict=True)
        ]
        rec_padding, self._rec_pads = _split_padding(rec_pads)  # the recurrent conv is "same"
        conv = _CONV[self.rank]
        self.input_conv = conv(channels, 4 * self.filters, self.kernel_size, self.strides,
                               padding=in_padding, dilation=self.dilation_rate, bias=self.use_bias)  # fmt: skip
        self.recurrent_conv = conv(self.filters, 4 * self.filters, self.kernel_size,
                                   padding=rec_padding, bias=False)  # fmt: skip
        view = conv_utils.keras_kernel_view
        self.track_weight(
            "input_conv.weight", self.kernel_regularizer, self.kernel_constraint, view
        )
        self.track_weight(
            "recurrent_conv.weight", self.recurrent_regularizer, self.recurrent_constraint, view
        )
        if self.use_bias:
            self.track_weight("input_conv.bias", self.bias_regularizer, self.bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 3, shape=(None, None, *input_shape[2:]))
        if self.stateful and input_shape[0] is not None:
            self._create_states(input_shape[0], torch.device("cpu"), torch.get_default_dtype())
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """(Re-)initialize with the Keras initializers, drawn in Keras layout."""
        k, f = self.kernel_size, self.filters
        with torch.no_grad():
            kernel = self.kernel_initializer((*k, self.input_conv.in_channels, 4 * f))
            recurrent = self.recurrent_initializer((*k, f, 4 * f))
            bias = lstm_initial_bias(self.bias_initializer, f, self.unit_forget_bias)
            self._load_keras(kernel, recurrent, bias if self.use_bias else None)

    def _state_shape(self) -> tuple[int, ...]:
        return (*self._out_spatial, self.filters)

    def _weight_dtype(self) -> torch.dtype:
        return self.input_conv.weight.dtype

    def _fused_ok(self) -> bool:
        return False

    def _dropout_per_gate(self) -> bool:
        return True

    # --------------------------------------------------------------- weights
    def _load_keras(self, kernel: Tensor, recurrent: Tensor, bias: Tensor | None) -> None:
        conv_utils.keras_kernel_view(self.input_conv.weight).copy_(torch.as_tensor(kernel))
        conv_utils.keras_kernel_view(self.recurrent_conv.weight).copy_(torch.as_tensor(recurrent))
        if bias is not None:
            self.input_conv.bias.copy_(torch.as_tensor(bias))

    _keras_cell_class = "ConvLSTMCell"

    def _keras_weight_specs(self) -> list[KerasWeight]:
        """``kernel (*kernel_size, channels, 4 * filters)``, ``recurrent_kernel (*kernel_size,
        filters, 4 * filters)`` (views of the two convolutions' weights) and ``bias``."""
        view = conv_utils.keras_kernel_view
        specs = [
            KerasWeight("kernel", ("input_conv.weight",), view),
            KerasWeight("recurrent_kernel", ("recurrent_conv.weight",), view),
        ]
        return specs + ([KerasWeight("bias", ("input_conv.bias",))] if self.use_bias else [])

    # ------------------------------------------------------------------ call
    def call(
        self,
        inputs: Tensor,
        initial_state: Any = None,
        mask: Tensor | None = None,
        training: bool | None = None,
    ) -> Tensor | tuple[Tensor, ...]:
        if self.data_format == "channels_last":
            return super().call(inputs, initial_state, mask, training)
        # channels_first: run channels_last inside, hand back channels_first views
        if initial_state is not None:
            initial_state = [conv_utils.to_channels_last(s) for s in initial_state]
        out = super().call(inputs.movedim(2, -1), initial_state, mask, training)
        if self.return_state:
            first, *states = out
            return (self._channels_first(first), *map(conv_utils.to_channels_first, states))
        return self._channels_first(out)  # type: ignore[arg-type]

    def _channels_first(self, output: Tensor) -> Tensor:
        return output.movedim(-1, 2) if self.return_sequences else output.movedim(-1, 1)

    def _conv(self, conv: nn.Module, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """Channels-last in and out; ``x`` may carry extra leading axes (folded into the batch)."""
        lead = x.shape[: -self.rank - 1]
        x = conv_utils.to_channels_first(x.reshape(-1, *x.shape[-self.rank - 1 :]))
        pads = self._pads if conv is self.input_conv else self._rec_pads
        if pads:
            x = F.pad(x, pads)  # asymmetric Keras "same": the odd extra cell at the end
        y = conv_utils.to_channels_last(conv._conv_forward(x, weight, bias))  # type: ignore[operator]
        return y.reshape(*lead, *y.shape[1:])

    def _gate_blocks(self, weight: Tensor) -> list[Tensor]:
        return list(weight.chunk(4, dim=0))

    def _input_projection(self, x: Tensor, in_masks: Tensor | None) -> Tensor:
        conv, bias = self.input_conv, self.input_conv.bias
        if in_masks is None:
            return self._conv(conv, x, conv.weight, bias)
        # One dropout mask per gate (broadcast over time): one convolution per gate block.
        biases = bias.chunk(4) if bias is not None else [None] * 4
        blocks = self._gate_blocks(conv.weight)
        parts = [
            self._conv(conv, x * m.unsqueeze(1), w, b)
            for m, w, b in zip(in_masks, blocks, biases, strict=True)
        ]
        return torch.cat(parts, dim=-1)

    def _recurrent_projection(
        self, h: Tensor, rec_masks: Tensor | None, rows: slice = slice(None)
    ) -> Tensor:
        conv = self.recurrent_conv
        if rec_masks is None:
            return self._conv(conv, h, conv.weight, None)
        blocks = self._gate_blocks(conv.weight)
        return torch.cat(
            [self._conv(conv, h * m, w, None) for m, w in zip(rec_masks, blocks, strict=True)],
            dim=-1,
        )

    def _cell(self, x_proj: Tensor, states: list[Tensor], rec_masks: Tensor | None) -> list[Tensor]:
        return lstm_cell(self, x_proj, states, rec_masks)

    @property
    def state_size(self) -> list[int]:
        return [self.filters, self.filters]

    # ---------------------------------------------------------------- shapes
    def compute_output_shape(self, input_shape: Shape) -> Any:
        spatial = conv_utils.spatial_dims(input_shape[1:], self.data_format)
        out_spatial = tuple(
            conv_utils.conv_output_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        )
        step = conv_utils.with_spatial(None, out_spatial, self.filters, self.data_format)[1:]
        batch = input_shape[0]
        output = (batch, input_shape[1], *step) if self.return_sequences else (batch, *step)
        if self.return_state:
            return [output, (batch, *step), (batch, *step)]
        return output

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        base = super().get_config()
        cell = with_unit_forget_bias(self._cell_config(), self.unit_forget_bias)
        del cell["units"]
        rnn = {k: v for k, v in base.items() if k not in cell and k != "units"}
        conv = {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }
        return {**rnn, **conv, **cell, "seed": self.seed}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, filters={self.filters}, kernel_size={self.kernel_size}"


class ConvLSTM1D(ConvLSTM):
    """1D convolutional LSTM on ``(batch, time, steps, channels)`` (see :class:`ConvLSTM`).

    Example:
        >>> import torch
        >>> ConvLSTM1D(2, 3)(torch.ones(1, 4, 10, 5)).shape
        torch.Size([1, 8, 2])
    """

    rank = 1


class ConvLSTM2D(ConvLSTM):
    """2D convolutional LSTM on ``(batch, time, rows, cols, channels)``: the LSTM gates are Conv2D
    kernels, so the state is an image ``(batch, rows', cols', filters)``.

    A per-timestep loop (torch has no fused ConvLSTM kernel): the input convolution runs once over
    all timesteps, the recurrent convolution once per step.

    Args:
        filters: Number of output channels (state channels).
        kernel_size: Int or tuple of 2 ints (both convolutions).
        strides: Of the input convolution (the recurrent one has stride 1).
        padding: ``"valid"`` or ``"same"`` (input convolution; the recurrent one is "same").
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: Of the input convolution.
        activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, unit_forget_bias, *_regularizer, *_constraint, dropout,
        recurrent_dropout, seed, return_sequences, return_state, go_backwards, stateful:
            As for :class:`~kseq.layers.LSTM`.

    Example:
        >>> import torch
        >>> layer = ConvLSTM2D(4, (3, 3))
        >>> layer(torch.ones(2, 3, 8, 8, 1)).shape, [w.shape for w in layer.get_weights()]
        (torch.Size([2, 6, 6, 4]), [(3, 3, 1, 16), (3, 3, 4, 16), (16,)])
    """

    rank = 2


class ConvLSTM3D(ConvLSTM):
    """3D convolutional LSTM on ``(batch, time, d1, d2, d3, channels)`` (see :class:`ConvLSTM`).

    Example:
        >>> import torch
        >>> ConvLSTM3D(2, 3, padding="same")(torch.ones(1, 2, 4, 4, 4, 1)).shape
        torch.Size([1, 4, 4, 4, 2])
    """

    rank = 3
