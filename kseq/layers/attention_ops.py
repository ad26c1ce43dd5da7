"""The math of ``MultiHeadAttention``: its einsum equations, masks and the two attention kernels.

* ``build_proj_equation`` / ``build_attention_equation``: Keras's einsum strings for the
  projections and for the scores / combination over any set of attention axes.
* ``causal_mask`` / ``sliding_window_mask``: boolean ``(1, T, S)`` masks.
* ``sdpa``: ``torch.nn.functional.scaled_dot_product_attention`` on ``(B, T, N, H)`` tensors with
  Keras's torch-backend mask rule (an additive ``0`` / ``-0.7 * max`` float mask; ``is_causal``
  folded into an explicit mask when both are given).
* ``masked_softmax``: Keras's ``Softmax(axis=...)(scores, mask)``: masked scores set to ``-1e9``
  (``-3e4`` in float16), softmax over the attention axes, masked weights set to ``0``.

Example:
    >>> import torch
    >>> masked_softmax(torch.zeros(1, 3), torch.tensor([[True, True, False]]), (1,), 1).tolist()
    [[0.5, 0.5, 0.0]]
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "build_attention_equation",
    "build_proj_equation",
    "causal_mask",
    "masked_softmax",
    "output_shape_of",
    "sdpa",
    "sliding_window_mask",
]


def _letter(i: int) -> str:
    return string.ascii_lowercase[i]


def build_attention_equation(rank: int, attn_axes: tuple[int, ...]) -> tuple[str, str, int]:
    """Einsum equations ``key, query -> scores`` and ``scores, value -> output``, and the scores'
    rank, for projected tensors ``(batch, <other axes>, <attention axes>, heads, channels)``.

    Example:
        >>> build_attention_equation(4, (1,))
        ('aecd,abcd->acbe', 'acbe,aecd->abcd', 4)
    """
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = [i for i in range(rank) if i not in (*attn_axes, rank - 1)]
    offset, source = rank, ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letter(offset)
            offset += 1
    product = "".join(
        [target[i] for i in batch_dims]
        + [target[i] for i in attn_axes]
        + [source[i] for i in attn_axes]
    )
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def build_proj_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple[str, str, int]:
    """A projection's einsum equation, its bias axes and its output rank.

    Example:
        >>> build_proj_equation(2, bound_dims=1, output_dims=2)
        ('abc,cde->abde', 'de', 4)
    """
    free = "".join(_letter(i) for i in range(free_dims))
    bound = "".join(_letter(free_dims + i) for i in range(bound_dims))
    out = "".join(_letter(free_dims + bound_dims + i) for i in range(output_dims))
    return f"{free}{bound},{bound}{out}->{free}{out}", out, len(free) + len(out)


def output_shape_of(output_rank: int, known_last_dims: Sequence[int]) -> list[int | None]:
    """A projection's ``output_shape``: unknown leading axes, then ``known_last_dims``.

    Example:
        >>> output_shape_of(3, [2, 4])
        [None, 2, 4]
    """
    return [None] * (output_rank - len(known_last_dims)) + list(known_last_dims)


def causal_mask(t: int, s: int, device: torch.device | str | None = None) -> Tensor:
    """Boolean ``(1, t, s)`` lower-triangular mask: query step ``i`` sees key steps ``j <= i``.

    Example:
        >>> causal_mask(2, 3).int().tolist()
        [[[1, 0, 0], [1, 1, 0]]]
    """
    return torch.ones(t, s, dtype=torch.bool, device=device).tril().unsqueeze(0)


def sliding_window_mask(
    t: int, s: int, window: int, device: torch.device | str | None = None
) -> Tensor:
    """Boolean ``(1, t, s)`` band: ``|i - j| < window``.

    Example:
        >>> sliding_window_mask(3, 3, 2).int().tolist()
        [[[1, 1, 0], [1, 1, 1], [0, 1, 1]]]
    """
    rows = torch.arange(t, device=device).reshape(1, t, 1)
    cols = torch.arange(s, device=device).reshape(1, 1, s)
    return (rows - cols).abs() < window


def _large_negative(dtype: torch.dtype) -> float:
    """Keras's torch-backend mask value for ``scaled_dot_product_attention``."""
    return -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)


def sdpa(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None,
    is_causal: bool,
    scale: float,
    flash: bool = False,
) -> Tensor:
    """``scaled_dot_product_attention`` on ``(B, T, N, H)`` tensors, as Keras's torch backend.

    ``mask`` is boolean, broadcastable to ``(B, N, T, S)`` once missing leading axes are added
    (``(B, T, S)`` is the usual one); ``flash`` forces torch's flash kernel.

    Example:
        >>> q = torch.ones(1, 2, 1, 4)
        >>> sdpa(q, q, q, None, True, 0.5).shape
        torch.Size([1, 2, 1, 4])
    """
    bias = None
    if mask is not None:
        mask = mask.bool()
        while mask.dim() < 4:
            mask = mask.unsqueeze(-3)
        if is_causal:  # torch takes a mask or is_causal: fold the causal rule into the mask
            mask = mask & causal_mask(query.shape[1], key.shape[1], mask.device)[0]
            is_causal = False
        bias = torch.zeros(mask.shape, dtype=query.dtype, device=query.device)
        bias = bias.masked_fill(~mask, _large_negative(query.dtype))
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))
    if flash:
        backends = [torch.nn.attention.SDPBackend.FLASH_ATTENTION]
        with torch.nn.attention.sdpa_kernel(backends=backends):
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias, is_causal=is_causal, scale=scale
            )
    else:
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, is_causal=is_causal, scale=scale
        )
    return out.transpose(1, 2)


def masked_softmax(
    scores: Tensor, mask: Tensor | None, norm_axes: tuple[int, ...], n_attention_axes: int
) -> Tensor:
    """Keras's masked softmax of attention ``scores`` over ``norm_axes``; ``mask`` gets the
    missing axes (heads...) inserted before the query attention axes.

    Example:
        >>> masked_softmax(torch.zeros(1, 1, 2), None, (2,), 1).tolist()
        [[[0.5, 0.5]]]
    """
    if mask is not None:
        mask = mask.bool()
        axis = -n_attention_axes * 2 - 1
        while mask.dim() < scores.dim():
            mask = mask.unsqueeze(axis)
        scores = scores.masked_fill(~mask, -3e4 if scores.dtype == torch.float16 else -1e9)
    if len(norm_axes) > 1:
        out = torch.exp(scores - torch.logsumexp(scores, dim=norm_axes, keepdim=True))
    else:
        out = torch.softmax(scores, dim=norm_axes[0])
    return out if mask is None else out.masked_fill(~mask, 0.0)
