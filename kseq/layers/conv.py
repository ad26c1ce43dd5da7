"""Convolution layers ``Conv1D``, ``Conv2D``, ``Conv3D`` (and Keras's ``Convolution*D`` aliases).

Each runs a real ``nn.Conv1d``/``nn.Conv2d``/``nn.Conv3d`` (``self.conv``) built in ``build``; the
layout, padding and weight-layout machinery is ``BaseConv`` (``conv_base.py``). The Keras kernel
``(*kernel_size, in / groups, filters)`` is a permuted view of ``conv.weight``
``(filters, in / groups, *kernel_size)``.

Example:
    >>> import torch
    >>> Conv2D(8, 3, strides=2, padding="same")(torch.ones(1, 28, 28, 1)).shape
    torch.Size([1, 14, 14, 8])
"""

from __future__ import annotations

from typing import Any

from torch import nn

from kseq.layers.conv_base import BaseConv

__all__ = [
    "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
]  # fmt: skip

_CONV_MODULES: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


class BaseConvND(BaseConv):
    """Abstract N-D convolution ``activation(conv(inputs, kernel) + bias)`` (Keras's ``BaseConv``).

    Args:
        filters: Number of output channels.
        kernel_size: Int or tuple of ``rank`` ints, the window size.
        strides: Int or tuple of ``rank`` ints. ``strides > 1`` cannot be combined with
            ``dilation_rate > 1``.
        padding: ``"valid"`` (no padding) or ``"same"`` (output length ``ceil(n / stride)``, the odd
            extra padding cell at the end as in TF/Keras); ``Conv1D`` also takes ``"causal"``.
        data_format: ``"channels_last"`` (default, from ``kseq.config.image_data_format()``) or
            ``"channels_first"``.
        dilation_rate: Int or tuple of ``rank`` ints.
        groups: Split the input channels into this many groups, each convolved with
            ``filters // groups`` filters; both channel counts must be divisible by it.
        activation: Activation name or callable (``None`` = linear).
        use_bias: Whether to add a bias.
        kernel_initializer: Default ``"glorot_uniform"`` (drawn in Keras layout).
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer, bias_regularizer, activity_regularizer: Optional penalties.
        kernel_constraint, bias_constraint: Optional projections applied after each step.

    Example:
        >>> Conv1D(4, 3, groups=2).compute_output_shape((None, 10, 6))
        (None, 8, 4)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        groups: int = 1,
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
        self.groups = groups
        self._check_positive(filters, "filters")
        if groups <= 0:
            raise ValueError(
                f"The number of groups must be a positive integer. Received: groups={groups}."
            )
        if filters % groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}."
            )
        self._check_strides_and_dilation()

    def _make_modules(self, in_channels: int) -> None:
        if in_channels % self.groups != 0:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {in_channels} channels "
                f"(layer '{self.name}')."
            )
        self.conv = _CONV_MODULES[self.rank](
            in_channels, self.filters, self.kernel_size, stride=self.strides,
            padding=self._module_padding, dilation=self.dilation_rate, groups=self.groups,
            bias=self.use_bias,
        )  # fmt: skip

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            **self._common_config(),
            "groups": self.groups,
            **self._tail_config(),
        }


class Conv1D(BaseConvND):
    """1D convolution over ``(batch, steps, channels)`` (temporal convolution), on ``nn.Conv1d``.

    ``padding="causal"`` left-pads by ``dilation_rate * (kernel_size - 1)`` so output ``t`` only
    sees inputs ``<= t`` (WaveNet-style). Arguments: see ``BaseConvND``.

    Input shape: ``(batch, steps, channels)`` (``(batch, channels, steps)`` for channels_first).
    Output shape: ``(batch, new_steps, filters)``.

    Example:
        >>> import torch
        >>> Conv1D(8, 5, padding="causal", dilation_rate=2)(torch.ones(4, 20, 3)).shape
        torch.Size([4, 20, 8])
    """

    rank = 1
    _allow_causal = True


class Conv2D(BaseConvND):
    """2D convolution over images ``(batch, rows, cols, channels)``, on ``nn.Conv2d``.

    channels_last inputs run as zero-copy channels_last-memory-format NCHW views, with the weight
    in the same memory format. Arguments: see ``BaseConvND``.

    Input shape: ``(batch, rows, cols, channels)`` (``(batch, channels, rows, cols)`` for
    channels_first). Output shape: ``(batch, new_rows, new_cols, filters)``.

    Example:
        >>> import torch
        >>> layer = Conv2D(16, (3, 3), activation="relu")
        >>> layer(torch.ones(2, 28, 28, 1)).shape, layer.kernel.shape
        (torch.Size([2, 26, 26, 16]), torch.Size([3, 3, 1, 16]))
    """

    rank = 2


class Conv3D(BaseConvND):
    """3D convolution over volumes ``(batch, dim1, dim2, dim3, channels)``, on ``nn.Conv3d``.

    Arguments: see ``BaseConvND``.

    Input shape: ``(batch, d1, d2, d3, channels)`` (channels second for channels_first).
    Output shape: ``(batch, new_d1, new_d2, new_d3, filters)``.

    Example:
        >>> import torch
        >>> Conv3D(2, 3, padding="same")(torch.ones(1, 4, 4, 4, 1)).shape
        torch.Size([1, 4, 4, 4, 2])
    """

    rank = 3


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
