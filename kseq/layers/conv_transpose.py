"""Transposed convolutions ``Conv1DTranspose``, ``Conv2DTranspose``, ``Conv3DTranspose`` (and the
``Convolution*DTranspose`` aliases), on ``nn.ConvTranspose1d/2d/3d``.

Keras's kernel is ``(*kernel_size, filters, in_channels)``, a permuted view of torch's
``(in_channels, filters, *kernel_size)``. Keras defines the output window as JAX does (the larger
half of the "same" padding on the left); torch's ``padding``/``output_padding`` express that
whenever Keras crops at least as much on the left as on the right, which covers ``"valid"`` and
most ``"same"`` cases; otherwise (e.g. an odd kernel with an even stride under ``"same"``) the
surplus cells on the right are sliced off the torch output, as Keras's torch backend does.

Example:
    >>> import torch
    >>> Conv2DTranspose(4, 3, strides=2, padding="same")(torch.ones(1, 5, 5, 2)).shape
    torch.Size([1, 10, 10, 4])
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from kseq.core.conv_utils import (
    conv_transpose_crops,
    conv_transpose_output_length,
    standardize_tuple,
)
from kseq.layers.conv_base import BaseConv
from kseq.layers.layer import Shape

__all__ = [
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "Convolution1DTranspose", "Convolution2DTranspose", "Convolution3DTranspose",
]  # fmt: skip

_MODULES: dict[int, type[nn.Module]] = {
    1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d,
}  # fmt: skip


class BaseConvTranspose(BaseConv):
    """Abstract N-D transposed convolution (Keras's ``BaseConvTranspose``).

    Args:
        filters: Number of output channels.
        kernel_size: Int or tuple of ``rank`` ints.
        strides: Int or tuple of ``rank`` ints (not combinable with ``dilation_rate > 1``).
        padding: ``"valid"`` (output ``(n - 1) * stride + max(span, stride)``) or ``"same"``
            (output ``n * stride``).
        output_padding: ``None`` or int / tuple of ``rank`` ints, each ``< strides``: extra cells
            at the end of each spatial axis (then the output is
            ``(n - 1) * stride + span + output_padding`` for ``"valid"``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: Int or tuple of ``rank`` ints.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in ``Conv2D``.

    Example:
        >>> Conv1DTranspose(2, 3, strides=2).compute_output_shape((None, 5, 4))
        (None, 11, 2)
    """

    _conv_padding_rule = False

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_common(
            kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias
        )
        self._set_weight_options(
            "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )
        self._set_weight_options("bias", bias_initializer, bias_regularizer, bias_constraint)
        self.filters = filters
        self.output_padding = (
            None
            if output_padding is None
            else standardize_tuple(output_padding, self.rank, "output_padding", allow_zero=True)
        )
        self._check_positive(filters, "filters")
        if self.output_padding is not None:
            for i, (extra, stride) in enumerate(
                zip(self.output_padding, self.strides, strict=True)
            ):
                if extra >= stride:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {extra} but "
                        f"`strides` is {stride}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}"
                    )
        self._check_strides_and_dilation()

    def _axis_output_padding(self, i: int) -> int | None:
        return None if self.output_padding is None else self.output_padding[i]

    def _make_modules(self, in_channels: int) -> None:
        crops = [
            conv_transpose_crops(k, s, d, self.padding, self._axis_output_padding(i))
            for i, (k, s, d) in enumerate(zip(self.kernel_size, self.strides, self.dilation_rate, strict=True))
        ]  # fmt: skip
        # torch crops `padding` on both sides and adds `output_padding` (bias-only) cells on the
        # right: that is Keras's (left, right) crop whenever left >= right. Else slice the rest.
        padding = tuple(left for left, _ in crops)
        extra = tuple(max(left - right, 0) for left, right in crops)
        self._surplus = tuple(max(right - left, 0) for left, right in crops)
        crop = tuple(slice(0, -s if s else None) for s in self._surplus)
        self._slices = (slice(None), slice(None), *crop)
        self.conv = _MODULES[self.rank](
            in_channels, self.filters, self.kernel_size, stride=self.strides, padding=padding,
            output_padding=extra, dilation=self.dilation_rate, bias=self.use_bias,
        )  # fmt: skip

    def _convolve(self, x: Tensor) -> Tensor:
        y = self.conv(x)
        return y[self._slices] if any(self._surplus) else y

    def _output_spatial(self, spatial: Shape) -> Shape:
        return tuple(
            conv_transpose_output_length(n, k, s, d, self.padding, self._axis_output_padding(i))
            for i, (n, k, s, d) in enumerate(
                zip(spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True)
            )
        )

    def get_config(self) -> dict[str, Any]:
        common = self._common_config()
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": common.pop("kernel_size"),
            "strides": common.pop("strides"),
            "padding": common.pop("padding"),
            "output_padding": self.output_padding,
            **common,
            **self._tail_config(),
        }


class Conv1DTranspose(BaseConvTranspose):
    """1D transposed convolution (learned upsampling of ``(batch, steps, channels)``).

    Arguments: see ``BaseConvTranspose``. Kernel (Keras layout): ``(kernel_size, filters, in)``.

    Example:
        >>> import torch
        >>> Conv1DTranspose(3, 4, strides=2, padding="same")(torch.ones(2, 6, 5)).shape
        torch.Size([2, 12, 3])
    """

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """2D transposed convolution (learned upsampling of images), on ``nn.ConvTranspose2d``.

    Arguments: see ``BaseConvTranspose``. Kernel (Keras layout): ``(kh, kw, filters, in)``.

    Example:
        >>> import torch
        >>> layer = Conv2DTranspose(8, (3, 3), strides=(2, 2))
        >>> layer(torch.ones(1, 7, 7, 4)).shape, layer.kernel.shape
        (torch.Size([1, 15, 15, 8]), torch.Size([3, 3, 8, 4]))
    """

    rank = 2


class Conv3DTranspose(BaseConvTranspose):
    """3D transposed convolution (learned upsampling of volumes), on ``nn.ConvTranspose3d``.

    Keras's positional order differs here: ``(filters, kernel_size, strides, padding,
    data_format, output_padding, ...)``. Arguments: see ``BaseConvTranspose``.

    Example:
        >>> import torch
        >>> Conv3DTranspose(2, 2, strides=2)(torch.ones(1, 3, 3, 3, 1)).shape
        torch.Size([1, 6, 6, 6, 2])
    """

    rank = 3

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        output_padding: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            filters, kernel_size, strides, padding, output_padding=output_padding,
            data_format=data_format, **kwargs,
        )  # fmt: skip


Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
