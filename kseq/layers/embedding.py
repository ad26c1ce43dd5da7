"""``Embedding`` (integer ids -> dense vectors, on ``nn.Embedding``) and ``Masking``: the two layers
that *create* a timestep mask for the recurrent layers downstream.

``Sequential`` propagates the mask: each layer's ``compute_mask(inputs, mask)`` gives the next
layer's ``mask=`` argument (``Embedding(mask_zero=True)`` masks id 0, ``Masking`` masks timesteps
whose features all equal ``mask_value``).

Example:
    >>> import torch
    >>> emb = Embedding(10, 3, mask_zero=True)
    >>> ids = torch.tensor([[0, 4, 2]])
    >>> emb(ids).shape, emb.compute_mask(ids).tolist()
    (torch.Size([1, 3, 3]), [[False, True, True]])
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from kseq import constraints, initializers, regularizers
from kseq.layers.layer import Layer, Shape

__all__ = ["Embedding", "Masking"]


class Embedding(Layer):
    """Turn non-negative integer ids into dense vectors of size ``output_dim``.

    The torch face is an ``nn.Embedding`` whose ``weight`` is already in Keras layout
    ``(input_dim, output_dim)`` (Keras's ``embeddings``). Float inputs are cast to integer ids.

    Args:
        input_dim: Vocabulary size (largest id + 1).
        output_dim: Size of each embedding vector.
        embeddings_initializer: Default ``"uniform"`` (``RandomUniform(-0.05, 0.05)``, not torch's
            standard normal).
        embeddings_regularizer: Optional penalty on the embedding matrix.
        embeddings_constraint: Optional projection of the embedding matrix after each step.
        mask_zero: Treat id 0 as padding: the layer outputs a mask (``ids != 0``) that recurrent
            layers and other mask consumers downstream use. Id 0 must then stay reserved.
        weights: Optional initial ``[embeddings]`` (builds the layer at once).
        input_length: Legacy Keras 2 argument; accepted with a warning and ignored.

    Input shape: ``(batch, ...)`` integers. Output shape: ``(batch, ..., output_dim)``.

    Example:
        >>> import torch
        >>> Embedding(100, 8)(torch.tensor([[1, 2, 3]])).shape
        torch.Size([1, 3, 8])
    """

    integer_inputs = True  # Sequential does not cast its integer ids to float

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        **kwargs: Any,
    ) -> None:
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"`{arg}` must be a positive integer. Received: {arg}={value} "
                    f"(of type {type(value).__name__})."
                )
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        if kwargs.pop("quantization_config", None) is not None:
            raise NotImplementedError(
                "Embedding(quantization_config=...) is not supported by kseq; pass quantization_config=None."
            )
        if lora_rank:
            raise NotImplementedError(
                "Embedding(lora_rank=...) is not supported by kseq; freeze the layer "
                "(`trainable=False`) and train a small Dense on top instead."
            )
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        if weights is not None:
            self.build(None)
            self.set_weights(
                weights if isinstance(weights, list) and len(weights) == 1 else [weights]
            )

    @property
    def supports_masking(self) -> bool:  # type: ignore[override]
        return self.mask_zero

    @property
    def creates_mask(self) -> bool:
        """Whether this layer introduces a mask (``Sequential`` only tracks masks when one does)."""
        return self.mask_zero

    def build(self, input_shape: Shape | None = None) -> None:
        self.embedding = nn.Embedding(self.input_dim, self.output_dim)
        self.track_weight(
            "embedding.weight", self.embeddings_regularizer, self.embeddings_constraint
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """(Re-)initialize with the Keras initializer."""
        with torch.no_grad():
            self.embedding.weight.copy_(
                self.embeddings_initializer((self.input_dim, self.output_dim))
            )

    _keras_names: ClassVar[dict[str, str]] = {"embedding.weight": "embeddings"}

    @property
    def embeddings(self) -> Tensor:
        """The embedding matrix ``(input_dim, output_dim)`` (Keras's ``embeddings``)."""
        if not self.built:
            raise AttributeError("You must build the layer before accessing `embeddings`.")
        return self._keras_weight("embeddings")

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        if inputs.dtype not in (torch.int32, torch.int64):
            inputs = inputs.to(torch.int64)
        return self.embedding(inputs)

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor | None:
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }


class Masking(Layer):
    """Mask timesteps whose features all equal ``mask_value``: they are skipped by recurrent layers.

    The output is the input with masked timesteps set to 0, and ``compute_mask`` gives the
    ``(batch, timesteps)`` boolean mask (True = keep).

    Args:
        mask_value: The padding value (default 0.0).

    Example:
        >>> import torch
        >>> x = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
        >>> Masking().compute_mask(x).tolist()
        [[True, False, True]]
    """

    supports_masking = True
    creates_mask = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self._mark_built()

    def _keep(self, inputs: Tensor) -> Tensor:
        return (inputs != self.mask_value).any(dim=-1, keepdim=True)

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return torch.where(
            self._keep(inputs), inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device)
        )

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor:
        return self._keep(inputs).squeeze(-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}
