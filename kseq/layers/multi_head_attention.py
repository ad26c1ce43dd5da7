"""``MultiHeadAttention``: Keras's multi-head attention, on ``EinsumDense`` projections.

Keras's structure, so weights and files line up: the sublayers ``_query_dense`` ("query"),
``_key_dense`` ("key"), optional ``_gate_dense`` ("gate"), ``_value_dense`` ("value") and
``_output_dense`` ("attention_output") are :class:`~kseq.layers.EinsumDense` layers, in that
(``get_weights``) order, with kernels ``(dim, heads, key_dim)`` and ``(heads, value_dim, dim)``.

Keras's numerics, two paths: with no dropout, no returned scores and rank-4 projections (the
default attention over the sequence axis of ``(batch, seq, dim)`` inputs) the attention is
``torch.nn.functional.scaled_dot_product_attention`` (an additive ``0`` / large-negative mask, or
``is_causal``), as Keras's torch backend runs it; otherwise einsum scores, Keras's masked softmax
(``-1e9``, ``-3e4`` in float16) over the attention axes, dropout, and an einsum with the values.

The layer builds from the shapes of ``query``, ``value`` and ``key`` (its own lazy hook on the first
call), and its ``build_config`` holds them under Keras's keys (``query_shape``, ``value_shape``,
``key_shape``).

Example:
    >>> import torch
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = torch.ones(3, 5, 8)
    >>> out, scores = mha(x, x, return_attention_scores=True)
    >>> out.shape, scores.shape
    (torch.Size([3, 5, 8]), torch.Size([3, 2, 5, 5]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq import constraints, initializers, regularizers
from kseq.core.shapes import shape_of, standardize_shape
from kseq.layers.attention_ops import (
    build_attention_equation,
    build_proj_equation,
    causal_mask,
    masked_softmax,
    output_shape_of,
    sdpa,
    sliding_window_mask,
)
from kseq.layers.base_merge import attach_mask
from kseq.layers.core import Dropout
from kseq.layers.einsum_dense import EinsumDense
from kseq.layers.layer import Layer, Shape

__all__ = ["MultiHeadAttention"]


def _mha_build_hook(
    layer: MultiHeadAttention, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """One-shot pre-hook: build from the shapes of ``query``, ``value`` (and ``key``)."""
    tensors = dict(zip(("query", "value", "key"), args[:3], strict=False))
    tensors.update({k: kwargs[k] for k in ("query", "value", "key") if k in kwargs})
    query, value, key = tensors.get("query"), tensors.get("value"), tensors.get("key")
    if query is None or value is None:
        raise ValueError(
            f"Layer '{layer.name}' (MultiHeadAttention) must be called as layer(query, value) or "
            "layer(query, value, key)."
        )
    if not layer.built:
        layer.build(shape_of(query), shape_of(value), None if key is None else shape_of(key))
    layer._remove_build_hook()
    if isinstance(query, Tensor):
        layer._to_device(query.device)


class MultiHeadAttention(Layer):
    """Multi-head attention ("Attention is all you need", Vaswani et al., 2017).

    ``query``, ``key`` and ``value`` are projected to ``num_heads`` heads (``key_dim`` channels
    for query/key, ``value_dim`` for value), scaled dot-product attention runs per head, and the
    heads are projected back to the query's last dimension (or ``output_shape``).

    Args:
        num_heads: Number of attention heads.
        key_dim: Size of each head for query and key.
        value_dim: Size of each head for value (default ``key_dim``).
        dropout: Dropout rate on the attention weights.
        use_bias: Whether the projections have biases.
        output_shape: Output shape besides the batch and sequence axes (default: the query's
            last dimension).
        attention_axes: Axes the attention runs over (default: every axis but batch, heads and
            features), e.g. ``(1, 2)`` for 2-D attention on ``(batch, H, W, C)`` inputs.
        sliding_window: Attend only to keys within ``sliding_window - 1`` steps.
        flash_attention: ``True`` forces torch's flash kernel (GPU); ``None``/``False`` lets
            torch pick the ``scaled_dot_product_attention`` kernel.
        kernel_initializer, bias_initializer: Projection initializers (``"glorot_uniform"``,
            ``"zeros"``).
        kernel_regularizer, bias_regularizer, activity_regularizer: Projection penalties.
        kernel_constraint, bias_constraint: Projection constraints.
        use_gate: Gate the attention output with a sigmoid projection of the query.
        seed: Seed of the dropout.

    Call arguments:
        query: ``(batch, T, dim)``. value: ``(batch, S, dim)``. key: ``(batch, S, dim)``
            (default ``value``).
        query_mask, value_mask, key_mask: Boolean ``(batch, T)`` / ``(batch, S)`` padding masks;
            when omitted, the masks the tensors carry (``_keras_mask``, Keras's rule).
        attention_mask: Boolean ``(batch, T, S)``: which query steps may attend to which keys.
        return_attention_scores: Also return the scores ``(batch, heads, T, S)``.
        training: Whether dropout is active (``None``: the layer's mode).
        use_causal_mask: Step ``i`` attends only to key steps ``j <= i``.

    Example:
        >>> layer = MultiHeadAttention(num_heads=2, key_dim=2)
        >>> target, source = torch.ones(1, 8, 16), torch.ones(1, 4, 16)
        >>> layer(target, source).shape, [tuple(w.shape) for w in layer.get_weights()][:2]
        (torch.Size([1, 8, 16]), [(16, 2, 2), (2, 2)])
    """

    supports_masking = True

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: Sequence[int] | int | None = None,
        attention_axes: Sequence[int] | int | None = None,
        sliding_window: int | None = None,
        flash_attention: bool | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        use_gate: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(num_heads, int) or num_heads <= 0:
            raise ValueError(
                "Received an invalid value for argument `num_heads`, expected a positive "
                f"integer. Received: num_heads={num_heads}"
            )
        if not isinstance(key_dim, int) or key_dim <= 0:
            raise ValueError(
                "Received an invalid value for argument `key_dim`, expected a positive integer. "
                f"Received: key_dim={key_dim}"
            )
        if value_dim is not None and (not isinstance(value_dim, int) or value_dim <= 0):
            raise ValueError(
                "Received an invalid value for argument `value_dim`, expected a positive integer "
                f"or `None`. Received: value_dim={value_dim}"
            )
        super().__init__(**kwargs)
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` "
                    "should be of type tuple, list, or int."
                ) from None
        self._output_shape = output_shape
        self._flash_attention = flash_attention
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                "`attention_axes` must be an int, list, or tuple."
                f"Received: attention_axes={attention_axes}"
            )
        self._attention_axes = attention_axes
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                "`sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window}"
            )
        self._sliding_window = sliding_window
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        if self._flash_attention and self._dropout > 0.0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. Please set dropout to "
                "0.0 to use flash attention."
            )
        self._build_shapes: dict[str, Any] | None = None
        # Build from query, value and key (the base hook sees the first argument only).
        self._build_hook.remove()
        self._build_hook = self.register_forward_pre_hook(_mha_build_hook, with_kwargs=True)

    num_heads = property(lambda self: self._num_heads, doc="Number of heads.")
    key_dim = property(lambda self: self._key_dim, doc="Size of each query/key head.")
    value_dim = property(lambda self: self._value_dim, doc="Size of each value head.")
    dropout = property(lambda self: self._dropout, doc="Dropout rate on the attention weights.")
    use_bias = property(lambda self: self._use_bias, doc="Whether the projections have biases.")
    attention_axes = property(lambda self: self._attention_axes, doc="The attention axes.")
    query_dense = property(lambda self: self._query_dense, doc="The query projection.")
    key_dense = property(lambda self: self._key_dense, doc="The key projection.")
    value_dense = property(lambda self: self._value_dense, doc="The value projection.")
    output_dense = property(lambda self: self._output_dense, doc="The output projection.")

    # ------------------------------------------------------------------ build
    def _sublayer_kwargs(self) -> dict[str, Any]:
        return {
            "kernel_initializer": initializers.get(
                initializers.serialize(self._kernel_initializer)
            ),
            "bias_initializer": initializers.get(initializers.serialize(self._bias_initializer)),
            "kernel_regularizer": self._kernel_regularizer,
            "bias_regularizer": self._bias_regularizer,
            "activity_regularizer": self._activity_regularizer,
            "kernel_constraint": self._kernel_constraint,
            "bias_constraint": self._bias_constraint,
            "dtype": self.dtype_policy,
        }

    def _projection(self, rank: int, last_dims: list[int], name: str, **kw: Any) -> EinsumDense:
        equation, bias_axes, output_rank = build_proj_equation(rank - 1, 1, 2)
        return EinsumDense(
            equation,
            output_shape=output_shape_of(output_rank - 1, last_dims),
            bias_axes=bias_axes if self._use_bias else None,
            name=name,
            **kw,
            **self._sublayer_kwargs(),
        )

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        """Create the projections for ``query_shape``, ``value_shape`` and ``key_shape``."""
        query_shape, value_shape, key_shape = self._shapes(query_shape, value_shape, key_shape)
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not None:
            self._build_shapes["key_shape"] = key_shape
        key_shape = value_shape if key_shape is None else key_shape
        self._check_key_value(value_shape, key_shape)
        heads = self._num_heads
        self._query_dense = self._projection(len(query_shape), [heads, self._key_dim], "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._projection(len(key_shape), [heads, self._key_dim], "key")
        self._key_dense.build(key_shape)
        if self._use_gate:
            self._gate_dense = self._projection(
                len(query_shape), [heads, self._value_dim], "gate", activation="sigmoid"
            )
            self._gate_dense.build(query_shape)
        self._value_dense = self._projection(len(value_shape), [heads, self._value_dim], "value")
        self._value_dense.build(value_shape)
        self._build_attention(len(value_shape) + 1)
        out_dims = list(self._output_shape) if self._output_shape else [query_shape[-1]]
        equation, bias_axes, output_rank = build_proj_equation(
            len(query_shape) - 1, 2, len(out_dims)
        )
        self._output_dense = EinsumDense(
            equation,
            output_shape=output_shape_of(output_rank - 1, out_dims),
            bias_axes=bias_axes if self._use_bias else None,
            name="attention_output",
            **self._sublayer_kwargs(),
        )
        dense_input = list(self._query_dense.compute_output_shape(query_shape))
        dense_input[-1] = self._value_dim
        self._output_dense.build(tuple(dense_input))

    def _build_attention(self, rank: int) -> None:
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(
                axis if axis >= 0 else (rank - 1) + axis for axis in self._attention_axes
            )
        self._dot_product_equation, self._combine_equation, scores_rank = build_attention_equation(
            rank, self._attention_axes
        )
        n = len(self._attention_axes)
        self._norm_axes = tuple(range(scores_rank - n, scores_rank))
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype_policy, seed=self.seed)

    @staticmethod
    def _shapes(query_shape: Any, value_shape: Any, key_shape: Any) -> tuple[Any, Any, Any]:
        if (
            value_shape is None
            and isinstance(query_shape, list)
            and query_shape
            and (isinstance(query_shape[0], (list, tuple)))
        ):  # [query_shape, value_shape(, key_shape)] in one structure
            query_shape, value_shape, key_shape = (*query_shape, None, None)[:3]
        if value_shape is None:
            raise ValueError(
                "MultiHeadAttention needs the value's shape too: call build(query_shape, "
                f"value_shape, key_shape=None). Received: query_shape={query_shape}"
            )
        std = standardize_shape
        return std(query_shape), std(value_shape), None if key_shape is None else std(key_shape)

    @staticmethod
    def _check_key_value(value_shape: Shape, key_shape: Shape) -> None:
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )

    def get_build_config(self) -> dict[str, Any] | None:
        """Keras's ``{"shapes_dict": {"query_shape": ..., "value_shape": ...}}``."""
        if self._build_shapes is None:
            return None
        return {"shapes_dict": {k: list(v) for k, v in self._build_shapes.items()}}

    def build_from_config(self, config: dict[str, Any] | None) -> None:
        """Build from a ``get_build_config()`` dict (Keras's ``shapes_dict``)."""
        if config and config.get("shapes_dict") and not self.built:
            self.build(**{k: tuple(v) for k, v in config["shapes_dict"].items()})
        elif config and config.get("input_shape") is not None and not self.built:
            self.build(config["input_shape"])

    # ------------------------------------------------------------------- call
    def call(
        self,
        query: Tensor,
        value: Tensor,
        key: Tensor | None = None,
        query_mask: Tensor | None = None,
        value_mask: Tensor | None = None,
        key_mask: Tensor | None = None,
        attention_mask: Tensor | None = None,
        return_attention_scores: bool = False,
        training: bool | None = None,
        use_causal_mask: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor | None]:
        training = self.training if training is None else training
        if not isinstance(value, Tensor):  # NumPy / lists, as the query (Layer.__call__)
            value = torch.as_tensor(value, dtype=query.dtype, device=query.device)
        if key is not None and not isinstance(key, Tensor):
            key = torch.as_tensor(key, dtype=query.dtype, device=query.device)
        if query_mask is None:
            query_mask = getattr(query, "_keras_mask", None)
        if value_mask is None:
            value_mask = getattr(value, "_keras_mask", None)
        if key_mask is None and key is not None:
            key_mask = getattr(key, "_keras_mask", None)
        if key is None:
            key = value
        causal_only = (
            use_causal_mask
            and query_mask is None
            and value_mask is None
            and key_mask is None
            and attention_mask is None
            and self._sliding_window is None
            and type(self)._compute_attention is MultiHeadAttention._compute_attention
        )
        if not causal_only:
            attention_mask = self._compute_attention_mask(
                query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
            )
        gate = self._gate_dense(query) if self._use_gate else None
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        extra = {"use_causal_mask": True} if causal_only else {}
        output, scores = self._compute_attention(
            q, k, v, attention_mask, training, return_attention_scores, **extra
        )
        output = self._output_dense(output if gate is None else output * gate)
        if query_mask is not None:
            attach_mask(output, torch.as_tensor(query_mask, device=output.device).bool())
        if return_attention_scores:
            return output, scores
        return output

    def _compute_attention_mask(
        self,
        query: Tensor,
        value: Tensor,
        query_mask: Tensor | None = None,
        value_mask: Tensor | None = None,
        key_mask: Tensor | None = None,
        attention_mask: Tensor | None = None,
        use_causal_mask: bool = False,
    ) -> Tensor | None:
        """The boolean ``(batch, T, S)`` mask from the padding masks, the causal and sliding-window
        masks and ``attention_mask``, merged with ``&`` (Keras's rule)."""
        device = query.device

        def as_bool(m: Any) -> Tensor:
            return torch.as_tensor(m, device=device).bool()

        auto: Tensor | None = None
        parts = []
        if query_mask is not None:
            parts.append(as_bool(query_mask).unsqueeze(-1))
        if value_mask is not None:
            parts.append(as_bool(value_mask).unsqueeze(-2))
        if key_mask is not None:
            parts.append(as_bool(key_mask).unsqueeze(-2))
        if use_causal_mask:
            parts.append(self._compute_causal_mask(query, value))
        if self._sliding_window is not None:
            parts.append(
                sliding_window_mask(query.shape[1], value.shape[1], self._sliding_window, device)
            )
        for part in parts:
            auto = part if auto is None else auto & part
        if attention_mask is not None:
            attention_mask = as_bool(attention_mask)
        if auto is not None:
            attention_mask = auto if attention_mask is None else attention_mask & auto
        return attention_mask

    def _compute_causal_mask(self, query: Tensor, value: Tensor | None = None) -> Tensor:
        """Boolean ``(1, T, S)`` lower-triangular mask (step ``i`` sees steps ``j <= i``)."""
        return causal_mask(query.shape[1], query.shape[1] if value is None else value.shape[1],
                           query.device)  # fmt: skip

    def _compute_attention(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        attention_mask: Tensor | None = None,
        training: bool | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attention on projected ``(B, T, N, key_dim)`` query, key and value (override to
        customize, as in Keras); returns the output and the scores (``None`` on the fast path)."""
        if self._flash_attention and return_attention_scores:
            raise ValueError(
                "Returning attention scores is not supported when flash attention is enabled. "
                "Please disable flash attention to access attention scores."
            )
        if not (self._dropout > 0.0 or return_attention_scores or query.dim() != 4):
            flash = bool(self._flash_attention)
            scale = self._inverse_sqrt_key_dim
            return sdpa(query, key, value, attention_mask, use_causal_mask, scale, flash), None
        if use_causal_mask:
            causal = self._compute_causal_mask(query, value)
            attention_mask = causal if attention_mask is None else attention_mask.bool() & causal
        query = query * self._inverse_sqrt_key_dim
        scores = torch.einsum(self._dot_product_equation, key, query)
        scores = self._masked_softmax(scores, attention_mask)
        dropped = self._dropout_layer(scores, training=training) if self._dropout > 0.0 else scores
        return torch.einsum(self._combine_equation, dropped, value), scores

    def _masked_softmax(self, scores: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        """Keras's ``Softmax(axis=attention axes)(scores, mask)`` with the mask broadcast in."""
        return masked_softmax(scores, attention_mask, self._norm_axes, len(self._attention_axes))

    def compute_output_shape(
        self, query_shape: Any, value_shape: Any = None, key_shape: Any = None
    ) -> Shape:
        query_shape, value_shape, key_shape = self._shapes(query_shape, value_shape, key_shape)
        self._check_key_value(value_shape, value_shape if key_shape is None else key_shape)
        if self._output_shape:
            return (*query_shape[:-1], *self._output_shape)
        return tuple(query_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": self._sliding_window,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }
