"""The Keras-words error for data whose shape does not fit a model's input.

``Sequential`` raises it when checking data against its input shape and when a layer's torch
call fails on a mis-shaped batch, so the user reads Keras's sentence (``Input 0 of layer ... is
incompatible with the layer``), the number of features expected and received, and, for an image
batch that looks channels-first, the fixes, instead of torch's internals.

Example:
    >>> print(incompatible_input("dense", (None, 5), (2, 7)))
    Input 0 of layer "dense" is incompatible with the layer: expected axis -1 of input shape to have value 5, but received input with shape (2, 7). The model expects 5 features per sample and received 7.
"""

from __future__ import annotations

from collections.abc import Sequence

from kseq.core.shapes import format_shape

__all__ = ["channels_first_hint", "incompatible_input"]

ShapeLike = Sequence[int | None]


def incompatible_input(layer: str, expected: ShapeLike, received: ShapeLike) -> str | None:
    """Keras's message for ``received`` data into a layer built for ``expected`` (batch axis
    first), or ``None`` when the shapes agree.

    Example:
        >>> incompatible_input("dense", (None, 5), (8, 5)) is None
        True
    """
    expected, received = tuple(expected), tuple(int(d) for d in received)
    head = f'Input 0 of layer "{layer}" is incompatible with the layer: '
    if len(expected) != len(received):
        return (
            f"{head}expected ndim={len(expected)} (shape {format_shape(expected)}), found "
            f"ndim={len(received)}. Full shape received: {format_shape(received)}"
            f"{channels_first_hint(expected, received)}"
        )
    for axis in range(1, len(expected)):
        if expected[axis] is not None and expected[axis] != received[axis]:
            message = (
                f"{head}expected axis {axis - len(expected)} of input shape to have value "
                f"{expected[axis]}, but received input with shape {format_shape(received)}"
            )
            hint = channels_first_hint(expected, received)
            if not hint and len(expected) == 2:
                hint = (
                    f". The model expects {expected[1]} features per sample and received "
                    f"{received[1]}."
                )
            return message + (hint or ".")
    return None


def channels_first_hint(expected: ShapeLike, received: ShapeLike) -> str:
    """The fixes for a channels-first image batch given to a channels_last model ("" otherwise).

    Example:
        >>> "data_format" in channels_first_hint((None, 8, 8, 3), (2, 3, 8, 8))
        True
    """
    expected, received = tuple(expected), tuple(received)
    if not 3 <= len(expected) <= 5 or len(received) != len(expected):
        return ""
    spatial_match = all(
        e is None or e == r for e, r in zip(expected[1:-1], received[2:], strict=True)
    )
    if not spatial_match or expected[-1] in (None, received[-1]):
        return ""
    spatial = ", ".join(["height", "width"] if len(expected) == 4 else
                        ["steps"] if len(expected) == 3 else ["depth", "height", "width"])  # fmt: skip
    order = ", ".join(str(i) for i in (0, *range(2, len(received)), 1))
    permute = ", ".join(str(i) for i in (*range(2, len(received)), 1))
    return (
        f". The model expects channels_last data, shaped (batch, {spatial}, channels) = "
        f"{format_shape(expected)}, but received {format_shape(received)}, which looks channels_first "
        f"(batch, channels, {spatial}). Write `x.transpose({order})` (NumPy) or "
        f"`x.permute({order})` (torch) before passing it, or add `layers.Permute(({permute}))` as the "
        f'first layer, or build the image layers with `data_format="channels_first"`.'
    )
