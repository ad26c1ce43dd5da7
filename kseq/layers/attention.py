"""Dot-product and additive attention: ``Attention`` (Luong-style) and ``AdditiveAttention``
(Bahdanau-style), called on a list ``[query, value]`` or ``[query, value, key]``.

Keras's numerics: scores ``query @ key^T`` (times ``scale`` when ``use_scale``) or, for
``score_mode="concat"`` and ``AdditiveAttention``, ``sum(tanh(query + key))``; masked positions get
``-1e9`` (``-65504`` in float16) before the softmax over the value axis; the output rows of masked
query steps are zero, and the output carries the query mask.

Example:
    >>> import torch
    >>> q, v = torch.ones(2, 3, 4), torch.ones(2, 5, 4)
    >>> Attention()([q, v]).shape
    torch.Size([2, 3, 4])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq.layers.base_merge import attach_mask
from kseq.layers.layer import Layer

__all__ = ["AdditiveAttention", "Attention"]


def _tensor_masks(inputs: Any) -> list[Any] | None:
    """The Keras masks the input tensors carry (``_keras_mask``), or None when none has one."""
    if not isinstance(inputs, (list, tuple)):
        return None
    masks = [getattr(t, "_keras_mask", None) for t in inputs]
    return masks if any(m is not None for m in masks) else None


class Attention(Layer):
    """Dot-product attention layer, a.k.a. Luong-style attention.

    ``inputs`` is ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to ``value``),
    shapes ``(batch, Tq, dim)``, ``(batch, Tv, dim)``, ``(batch, Tv, dim)``; the output has shape
    ``(batch, Tq, dim)`` (and the scores ``(batch, Tq, Tv)`` with ``return_attention_scores``).

    Args:
        use_scale: Learn a scalar ``scale`` multiplying the scores.
        score_mode: ``"dot"`` (``query @ key^T``) or ``"concat"`` (``sum(tanh(query + key))``
            times a learned scalar ``concat_score_weight``).
        dropout: Fraction of the attention weights to drop in training.
        seed: Seed for the dropout draws (a layer-private generator).

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``.
        mask: ``[query_mask, value_mask]`` (booleans ``(batch, Tq)``, ``(batch, Tv)``); the masks
            the inputs carry when omitted.
        training: Whether dropout is active (``None``: the layer's mode).
        return_attention_scores: Also return the attention weights.
        use_causal_mask: Step ``i`` attends only to value steps ``j <= i``.

    Example:
        >>> q = torch.tensor([[[1.0, 0.0]]]); v = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
        >>> out, scores = Attention()([q, v], return_attention_scores=True)
        >>> [round(s, 4) for s in scores[0, 0].tolist()]
        [0.7311, 0.2689]
    """

    supports_masking = True

    def __init__(
        self,
        use_scale: bool = False,
        score_mode: str = "dot",
        dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if self.score_mode not in ["dot", "concat"]:
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )

    def build(self, input_shape: Any) -> None:
        self._validate_inputs(input_shape)
        self.scale: Tensor | None = None
        if self.use_scale:
            del self.scale  # (a plain attribute; the weight registers under the same name)
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        self.concat_score_weight: Tensor | None = None
        if self.score_mode == "concat":
            del self.concat_score_weight
            self.concat_score_weight = self.add_weight(
                shape=(), initializer="ones", name="concat_score_weight"
            )

    def _calculate_scores(self, query: Tensor, key: Tensor) -> Tensor:
        """Scores ``(batch, Tq, Tv)`` of ``query`` against ``key``."""
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores if self.scale is None else scores * self.scale
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(dim=-1)

    def _apply_scores(
        self,
        scores: Tensor,
        value: Tensor,
        scores_mask: Tensor | None = None,
        training: bool | None = False,
    ) -> tuple[Tensor, Tensor]:
        """``softmax(scores) @ value`` with masked scores pushed to a large negative value."""
        if scores_mask is not None:
            padding = ~scores_mask
            max_value = 65504.0 if scores.dtype == torch.float16 else 1.0e9
            if padding.dim() == 2:
                padding = padding.unsqueeze(-2)
            scores = torch.where(padding, scores - max_value, scores)
        weights = torch.softmax(scores, dim=-1)
        if training and self.dropout > 0:
            weights = self._dropout(weights)
        return torch.matmul(weights, value), weights

    def _dropout(self, weights: Tensor) -> Tensor:
        generator = self._seeded_generator(weights.device)
        if generator is None:
            return F.dropout(weights, self.dropout, True)
        keep = 1.0 - self.dropout
        probs = torch.full_like(weights, keep)
        return weights * torch.bernoulli(probs, generator=generator) / keep

    def _calculate_score_mask(
        self, scores: Tensor, v_mask: Tensor | None, use_causal_mask: bool
    ) -> Tensor | None:
        if not use_causal_mask:
            return v_mask
        tq, tv = scores.shape[-2], scores.shape[-1]
        causal = torch.ones(tq, tv, dtype=torch.bool, device=scores.device).tril().unsqueeze(0)
        if v_mask is not None:
            return v_mask.bool().unsqueeze(-2) & causal
        return causal

    def call(
        self,
        inputs: list[Tensor],
        mask: list[Tensor | None] | None = None,
        training: bool | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        if mask is None:
            mask = _tensor_masks(inputs)
        self._validate_inputs(inputs, mask)
        training = self.training if training is None else training
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if v_mask is not None:
            v_mask = torch.as_tensor(v_mask, device=q.device).bool()
        scores = self._calculate_scores(q, k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        output, weights = self._apply_scores(scores, v, scores_mask, training)
        if q_mask is not None:
            q_mask = torch.as_tensor(q_mask, device=q.device).bool()
            output = output.masked_fill(~q_mask.unsqueeze(-1), 0.0)
            attach_mask(output, q_mask)
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Tensor | None:
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return torch.as_tensor(mask[0])

    def compute_output_shape(self, input_shape: Any) -> Any:
        query_shape, value_shape = input_shape[0], input_shape[1]
        return (*query_shape[:-1], value_shape[-1])

    def _validate_inputs(self, inputs: Any, mask: Any = None) -> None:
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: inputs={inputs}."
            )
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(
                    f"{name} layer mask must be a list, namely [query_mask, value_mask]. "
                    f"Received: mask={mask}."
                )
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(
                    f"{name} layer accepts mask list of length 2 or 3. Received: "
                    f"inputs={inputs}, mask={mask}."
                )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


class AdditiveAttention(Attention):
    """Additive attention layer, a.k.a. Bahdanau-style attention.

    Scores are ``sum(scale * tanh(query + key), axis=-1)`` with a learned ``scale`` vector of the
    feature size (``use_scale=True``, Glorot-uniform initialized); otherwise as :class:`Attention`.

    Args:
        use_scale: Learn the ``scale`` vector (default ``True``).
        dropout: Fraction of the attention weights to drop in training.

    Example:
        >>> layer = AdditiveAttention()
        >>> layer([torch.ones(2, 3, 4), torch.ones(2, 5, 4)]).shape, layer.scale.shape
        (torch.Size([2, 3, 4]), torch.Size([4]))
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape: Any) -> None:
        self._validate_inputs(input_shape)
        self.concat_score_weight = None
        self.scale = None
        if self.use_scale:
            del self.scale
            self.scale = self.add_weight(
                shape=(input_shape[0][-1],), initializer="glorot_uniform", name="scale"
            )

    def _calculate_scores(self, query: Tensor, key: Tensor) -> Tensor:
        summed = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.use_scale:
            summed = self.scale * summed
        return summed.sum(dim=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["score_mode"]
        return config
