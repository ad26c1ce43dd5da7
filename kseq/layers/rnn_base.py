"""``BaseRNN``: what SimpleRNN, LSTM and GRU share — one fused torch kernel call per layer.

Each recurrent layer owns a real ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (``batch_first=True``) and runs
the whole sequence through it in **one call** (torch's C++ loop on CPU, cuDNN on GPU). Only Keras
options without a fused equivalent take a per-timestep Python loop over the same weights (the
subclass docstrings list them); both paths implement Keras's semantics exactly:

* **Masks** (``Embedding(mask_zero=True)``, ``Masking``): a masked step keeps the previous state, and
  its output is the previous step's output (zeros before the first valid step), or zeros with
  ``zero_output_for_mask=True``. The fused path handles *any* mask — post-padded, pre-padded or
  with holes — in one kernel call, by compacting each sequence's valid steps to the front
  (:mod:`kseq.layers.rnn_masking`).
* **dropout**: one ``(batch, features)`` mask per sequence, broadcast over time, applied to the
  input before the fused call (as Keras's fused path does).
* **go_backwards** flips the input (and mask) and returns the outputs in processing order.
* **stateful**: the final states (detached) become the next call's initial states; the batch size
  is fixed by the first call (or by a static batch size at build). ``reset_states()`` zeroes them.

Weights live in torch layout inside the torch module; ``get_weights``/``set_weights`` convert to and
from Keras's ``[kernel (in, G*units), recurrent_kernel (units, G*units), bias]`` in one place
(:mod:`kseq.layers.rnn_weights`), and ``weights``/``kernel``/... are Keras-layout variables over them
(:mod:`kseq.layers.weight_views`, paths ``<name>/<cell>/kernel`` as Keras's). The per-timestep fallback is :mod:`kseq.layers.rnn_loop`.

Example:
    >>> import torch
    >>> from kseq.layers import LSTM
    >>> LSTM(4, return_sequences=True)(torch.ones(2, 5, 3)).shape
    torch.Size([2, 5, 4])
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kseq import activations, constraints, initializers, regularizers
from kseq.core.naming import to_snake_case
from kseq.layers.layer import InputSpec, Layer, Shape
from kseq.layers.rnn_loop import dropout_mask, input_projection, recurrent_projection, timestep_loop
from kseq.layers.rnn_masking import fused_masked_call
from kseq.layers.rnn_states import check_stateful_batch, given_initial_states
from kseq.layers.rnn_weights import load_keras_weights, single_bias
from kseq.layers.weight_views import KerasWeight
from kseq.variables import Variable

__all__: list[str] = []

_TANH = (activations.tanh, torch.tanh, F.tanh)
_SIGMOID = (activations.sigmoid, torch.sigmoid, F.sigmoid)


def _transpose(w: Tensor) -> Tensor:
    return w.T


class BaseRNN(Layer):
    """Base of the fused recurrent layers (not a public Keras class: use SimpleRNN, LSTM or GRU).

    Subclasses set ``_gates`` (1, 4 or 3), ``_module_name`` and implement ``_make_module``,
    ``_cell`` (one step of the per-timestep fallback) and ``_fused_ok``.

    Example:
        >>> from kseq.layers import GRU
        >>> isinstance(GRU(2), BaseRNN)
        True
    """

    supports_masking = True
    creates_mask = False  # consumes/forwards masks; Sequential needs no mask path for it alone
    _gates: ClassVar[int] = 1
    _module_name: ClassVar[str] = "rnn"
    _two_biases: bool = False  # Keras bias has an input row and a recurrent row (GRU reset_after)

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
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                "Received an invalid value for argument `units`, expected a positive integer, "
                f"got {units}."
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(
            unroll
        )  # accepted for compatibility; the fused kernel needs no unrolling
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.input_spec = InputSpec(ndim=3)
        self._state_names: list[str] = []

    # --------------------------------------------------------------- subclass
    def _make_module(self, input_dim: int) -> nn.RNNBase:
        raise NotImplementedError

    def _fused_ok(self) -> bool:
        """Whether the activations/options have an exact fused torch kernel."""
        raise NotImplementedError

    def _cell(self, x_proj: Tensor, states: list[Tensor], rec_masks: Tensor | None) -> list[Tensor]:
        """One fallback step on a precomputed input projection; returns the new states (h first)."""
        raise NotImplementedError

    def _initial_bias(self) -> Tensor:
        shape = (2, self._gates * self.units) if self._two_biases else (self._gates * self.units,)
        return self.bias_initializer(shape)

    @property
    def state_size(self) -> list[int]:
        """Sizes of the recurrent states (``[units]``; ``[units, units]`` for LSTM's h and c)."""
        return [self.units]

    def _state_shape(self) -> tuple[int, ...]:
        """Per-sample shape of each state and output step (``(units,)``; ConvLSTM: an image)."""
        return (self.units,)

    def _weight_dtype(self) -> torch.dtype:
        return self.module.weight_ih_l0.dtype

    def _dropout_per_gate(self) -> bool:
        """Keras's ``implementation=1``: one dropout mask per gate (when recurrent dropout is on)."""
        return 0.0 < self.recurrent_dropout < 1.0 and self._gates > 1

    # ------------------------------------------------------------------ build
    @property
    def module(self) -> nn.RNNBase:
        """The torch recurrent module holding the weights (``self.lstm``, ``self.gru``, ``self.rnn``)."""
        return getattr(self, self._module_name)

    def build(self, input_shape: Shape) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last dimension of the input to {type(self).__name__} layer '{self.name}' must be "
                f"defined. Received input_shape={input_shape}"
            )
        module = self._make_module(input_dim)
        if self.use_bias and not self._two_biases:
            single_bias(module)  # Keras has one bias: torch's recurrent one becomes a zero buffer
        setattr(self, self._module_name, module)
        prefix = self._module_name
        # Regularizers/constraints see the Keras axes; GRU's gate blocks are in torch order, which
        # only matters for a constraint that mixes columns (none of Keras's built-in ones does).
        self.track_weight(
            f"{prefix}.weight_ih_l0", self.kernel_regularizer, self.kernel_constraint, _transpose
        )
        self.track_weight(
            f"{prefix}.weight_hh_l0",
            self.recurrent_regularizer,
            self.recurrent_constraint,
            _transpose,
        )
        if self.use_bias:
            self.track_weight(f"{prefix}.bias_ih_l0", self.bias_regularizer, self.bias_constraint)
            if self._two_biases:
                self.track_weight(
                    f"{prefix}.bias_hh_l0", self.bias_regularizer, self.bias_constraint
                )
        self.input_spec = InputSpec(ndim=3, axes={-1: input_dim})
        if self.stateful and input_shape[0] is not None:
            self._create_states(input_shape[0], torch.device("cpu"), torch.get_default_dtype())
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """(Re-)initialize with the Keras initializers, drawn in Keras layout."""
        input_dim = self.module.input_size
        with torch.no_grad():
            kernel = self.kernel_initializer((input_dim, self._gates * self.units))
            recurrent = self.recurrent_initializer((self.units, self._gates * self.units))
            bias = self._initial_bias() if self.use_bias else None
            self._load_keras(kernel, recurrent, bias)

    # --------------------------------------------------------------- weights
    def _gate_order(self, t: Tensor) -> Tensor:
        """Permute gate blocks along dim 0 between Keras and torch order (an involution)."""
        return t

    def _load_keras(self, kernel: Tensor, recurrent: Tensor, bias: Tensor | None) -> None:
        load_keras_weights(self.module, self._gate_order, kernel, recurrent, bias, self._two_biases)

    def _keras_weight_specs(self) -> list[KerasWeight]:
        """Keras's ``kernel``, ``recurrent_kernel``, ``bias``: transposed views of torch's
        weights, or (GRU's gate order, GRU's two biases) copies with an inverse map."""
        m, order = self._module_name, self._gate_order
        if type(self)._gate_order is BaseRNN._gate_order:
            kernel: tuple[Any, Any] = (_transpose, None)
        else:
            kernel = (lambda w: order(w).T, lambda k: (order(k.T),))
        specs = [
            KerasWeight("kernel", (f"{m}.weight_ih_l0",), *kernel),
            KerasWeight("recurrent_kernel", (f"{m}.weight_hh_l0",), *kernel),
        ]
        if not self.use_bias:
            return specs
        if self._two_biases:
            bias = KerasWeight(
                "bias", (f"{m}.bias_ih_l0", f"{m}.bias_hh_l0"),
                lambda a, b: torch.stack([order(a), order(b)]),
                lambda k: (order(k[0]), order(k[1])),
            )  # fmt: skip
        elif kernel[1] is None:
            bias = KerasWeight("bias", (f"{m}.bias_ih_l0",))
        else:
            bias = KerasWeight("bias", (f"{m}.bias_ih_l0",), order, lambda k: (order(k),))
        return [*specs, bias]

    def _keras_variable_prefix(self) -> str:
        return f"{self._kseq_path_scope}{self.name}/{to_snake_case(self._keras_cell_class)}"

    # Keras keeps a recurrent layer's variables in its cell (``lstm/lstm_cell/kernel``).
    _keras_cell_class: ClassVar[str] = "SimpleRNNCell"

    @property
    def kernel(self) -> Variable:
        """Keras-layout input kernel ``(input_dim, gates * units)``."""
        return self._keras_weight("kernel")

    @property
    def recurrent_kernel(self) -> Variable:
        """Keras-layout recurrent kernel ``(units, gates * units)``."""
        return self._keras_weight("recurrent_kernel")

    @property
    def bias(self) -> Variable | None:
        """Keras-layout bias: ``(gates * units,)``, or ``(2, 3 * units)`` for GRU ``reset_after``."""
        return self._keras_weight("bias") if self.use_bias else None

    def _get_own_weights(self) -> list[np.ndarray]:
        with torch.no_grad():
            return [v.numpy() for v in self._own_keras_variables()]

    def _set_own_weights(self, arrays: list[np.ndarray]) -> None:
        dtype = self._weight_dtype()
        tensors = [torch.as_tensor(a, dtype=dtype) for a in arrays]
        self._load_keras(tensors[0], tensors[1], tensors[2] if self.use_bias else None)

    # ----------------------------------------------------------------- states
    @property
    def states(self) -> list[Tensor] | None:
        """The carried states of a ``stateful`` layer (``None`` before the first batch)."""
        if not self._state_names:
            return None
        return [getattr(self, n) for n in self._state_names]

    def _create_states(self, batch_size: int, device: torch.device, dtype: torch.dtype) -> None:
        self._state_names = [f"state_{i}" for i in range(len(self.state_size))]
        for name in self._state_names:
            state = torch.zeros(batch_size, *self._state_shape(), device=device, dtype=dtype)
            self.register_buffer(name, state, persistent=False)

    def reset_states(self) -> None:
        """Zero the carried states of a ``stateful`` layer (Keras's ``reset_states``).

        Example:
            >>> import torch
            >>> from kseq.layers import SimpleRNN
            >>> rnn = SimpleRNN(2, stateful=True); _ = rnn(torch.ones(1, 3, 2))
            >>> rnn.reset_states(); rnn.states[0].abs().sum().item()
            0.0
        """
        for name in self._state_names:
            # Rebind rather than zero in place: the old tensor may be saved for a pending backward.
            setattr(self, name, torch.zeros_like(getattr(self, name)))

    reset_state = reset_states

    def _initial_states(self, x: Tensor, initial_state: Any) -> list[Tensor] | None:
        if initial_state is not None:
            layer = f"'{self.name}' ({type(self).__name__})"
            n_states, shape = len(self.state_size), self._state_shape()
            return given_initial_states(initial_state, n_states, shape, x, layer)
        if not self.stateful:
            return None
        if not self._state_names:
            self._create_states(x.shape[0], x.device, x.dtype)
        states = self.states
        assert states is not None
        check_stateful_batch(states, x.shape[0])
        return states

    # ------------------------------------------------------------------ call
    def call(
        self,
        inputs: Tensor,
        initial_state: Any = None,
        mask: Tensor | None = None,
        training: bool | None = None,
    ) -> Tensor | tuple[Tensor, ...]:
        training = self.training if training is None else bool(training)
        x = inputs
        dtype = self._weight_dtype()
        if x.dtype != dtype and not torch.is_autocast_enabled():
            x = x.to(dtype)
        states = self._initial_states(x, initial_state)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            mask = mask.to(device=x.device, dtype=torch.bool)
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        if self._fused_ok() and not (training and 0.0 < self.recurrent_dropout < 1.0):
            if training and 0.0 < self.dropout < 1.0:
                x = x * self._dropout_mask(x[:, 0], self.dropout).unsqueeze(1)
            seq, last, new_states = self._run_fused(x, states, mask)
        else:
            seq, last, new_states = self._run_loop(x, states, mask, training)
        if self.stateful:
            for name, state in zip(self._state_names, new_states, strict=True):
                setattr(self, name, state.detach())
        output = seq if self.return_sequences else last
        if self.return_state:
            return (output, *new_states)
        return output

    def _dropout_mask(self, like: Tensor, rate: float, count: int | None = None) -> Tensor:
        """Keras's per-sequence dropout mask (:func:`~kseq.layers.rnn_loop.dropout_mask`), drawn
        from this layer's seeded generator."""
        return dropout_mask(like, rate, count, self._seeded_generator(like.device))

    def _hx(self, states: list[Tensor] | None) -> Any:
        if states is None:
            return None
        return states[0].unsqueeze(0).contiguous()

    def _final_states(self, hn: Any) -> list[Tensor]:
        return [hn[0]]

    def _run_fused(
        self, x: Tensor, states: list[Tensor] | None, mask: Tensor | None
    ) -> tuple[Tensor | None, Tensor, list[Tensor]]:
        """One fused kernel call. Returns (outputs in processing order — None when masked and not
        ``return_sequences`` —, last output, final states)."""
        module, hx = self.module, self._hx(states)
        if mask is None:
            y, hn = module(x, hx)
            return y, y[:, -1], self._final_states(hn)
        cell_state = len(self.state_size) > 1 and (self.return_state or self.stateful)  # LSTM
        run = fused_masked_call(
            module, x, hx, mask, self.zero_output_for_mask, cell_state, self.return_sequences
        )
        initial = states or [torch.zeros_like(run.last_valid) for _ in self.state_size]
        # the final hidden state is the last valid output; no valid step: the initial states
        final = [run.last_valid] if run.cell_state is None else [run.last_valid, run.cell_state]
        final = [
            torch.where(run.has_valid, s, s0)
            for s, s0 in zip(final, initial[: len(final)], strict=True)
        ]
        return run.outputs, run.last, final

    def _run_loop(
        self, x: Tensor, states: list[Tensor] | None, mask: Tensor | None, training: bool
    ) -> tuple[Tensor, Tensor, list[Tensor]]:
        """Per-timestep fallback (options without a fused kernel), with Keras's mask semantics."""
        batch = x.shape[0]
        gates = self._gates if self._dropout_per_gate() else 1
        in_masks = rec_masks = None
        if training and 0.0 < self.dropout < 1.0:
            in_masks = self._dropout_mask(x[:, 0], self.dropout, gates)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            rec_masks = self._dropout_mask(
                x.new_empty(batch, *self._state_shape()), self.recurrent_dropout, gates
            )
        x_proj = self._input_projection(x, in_masks)
        if states is None:
            states = [x.new_zeros(batch, *self._state_shape()) for _ in self.state_size]
        zeros = x.new_zeros(batch, *self._state_shape())
        return timestep_loop(
            self._cell, x_proj, states, mask, zeros, self.zero_output_for_mask, rec_masks
        )

    def _input_projection(self, x: Tensor, in_masks: Tensor | None) -> Tensor:
        m = self.module
        return input_projection(
            x, m.weight_ih_l0, m.bias_ih_l0 if self.use_bias else None, in_masks
        )

    def _recurrent_projection(
        self, h: Tensor, rec_masks: Tensor | None, rows: slice = slice(None)
    ) -> Tensor:
        """``h @ W_hh[rows].T + b_hh[rows]``, with one recurrent dropout mask per gate block."""
        m = self.module
        weight = m.weight_hh_l0[rows]
        bias = m.bias_hh_l0[rows] if self.use_bias else None
        first = (rows.start or 0) // self.units
        return recurrent_projection(h, weight, bias, rec_masks, self.units, first)

    # ---------------------------------------------------------------- shapes
    def compute_output_shape(self, input_shape: Shape) -> Any:
        batch = input_shape[0]
        output = (
            (batch, input_shape[1], *self._state_shape())
            if self.return_sequences
            else (batch, *self._state_shape())
        )
        if self.return_state:
            return [output] + [(batch, *self._state_shape()) for _ in self.state_size]
        return output

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    # ---------------------------------------------------------------- config
    def _cell_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            **self._cell_config(),
        }

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}"
