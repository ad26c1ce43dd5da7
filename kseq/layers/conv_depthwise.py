"""Depthwise and depthwise-separable convolutions: ``DepthwiseConv1D/2D``, ``SeparableConv1D/2D``
(and the ``SeparableConvolution1D/2D`` aliases).

A depthwise convolution is a grouped ``nn.Conv1d/2d`` with ``groups = in_channels`` and
``in_channels * depth_multiplier`` outputs (output channel ``c * depth_multiplier + m``, as Keras
orders them). Its Keras kernel ``(*kernel_size, in_channels, depth_multiplier)`` is a view of the
torch weight ``(in * dm, 1, *kernel_size)``. A separable convolution is that depthwise step
(``self.depthwise``, no bias) followed by a 1x1 ``self.pointwise`` conv carrying the bias; its
``get_weights()`` is ``[depthwise_kernel, pointwise_kernel, bias]``.

Example:
    >>> import torch
    >>> layer = SeparableConv2D(8, 3, depth_multiplier=2)
    >>> layer(torch.ones(1, 6, 6, 3)).shape, [w.shape for w in layer.get_weights()]
    (torch.Size([1, 4, 4, 8]), [(3, 3, 3, 2), (1, 1, 6, 8), (8,)])
"""

from __future__ import annotations

import functools
from typing import Any

from torch import Tensor, nn

from kseq.core.conv_utils import keras_depthwise_view, keras_kernel_view
from kseq.layers.conv_base import BaseConv, WeightSpec
from kseq.variables import Variable

__all__ = [
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "SeparableConvolution1D", "SeparableConvolution2D",
]  # fmt: skip

_CONV_MODULES: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d}


class _DepthwiseStep(BaseConv):
    """The depthwise part shared by depthwise and separable convolutions."""

    def _init_depthwise(self, depth_multiplier: int, *options: Any) -> None:
        """Store ``depth_multiplier`` and the depthwise initializer/regularizer/constraint."""
        self.depth_multiplier = depth_multiplier
        self._set_weight_options("depthwise", *options)
        self._check_positive(depth_multiplier, "depth_multiplier")

    def _depthwise_module(self, in_channels: int, bias: bool) -> nn.Module:
        return _CONV_MODULES[self.rank](
            in_channels, in_channels * self.depth_multiplier, self.kernel_size,
            stride=self.strides, padding=self._module_padding, dilation=self.dilation_rate,
            groups=in_channels, bias=bias,
        )  # fmt: skip

    def _depthwise_spec(self, path: str) -> WeightSpec:
        view = functools.partial(keras_depthwise_view, depth_multiplier=self.depth_multiplier)
        return self._spec("depthwise", path, view)

    def _depthwise_config(self) -> dict[str, Any]:
        return {"depth_multiplier": self.depth_multiplier}


class BaseDepthwiseConv(_DepthwiseStep):
    """Abstract depthwise convolution: each input channel convolved with its own
    ``depth_multiplier`` filters (Keras's ``BaseDepthwiseConv``).

    Args:
        kernel_size: Int or tuple of ``rank`` ints.
        strides: Int or tuple of ``rank`` ints.
        padding: ``"valid"`` or ``"same"``.
        depth_multiplier: Output channels per input channel.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: Int or tuple of ``rank`` ints.
        activation: Activation name or callable (``None`` = linear).
        use_bias: Whether to add a bias of size ``in_channels * depth_multiplier``.
        depthwise_initializer: Default ``"glorot_uniform"``; bias_initializer: default ``"zeros"``.
        depthwise_regularizer, bias_regularizer, activity_regularizer: Optional penalties.
        depthwise_constraint, bias_constraint: Optional projections.

    Example:
        >>> DepthwiseConv2D(3, depth_multiplier=2).compute_output_shape((None, 8, 8, 4))
        (None, 6, 6, 8)
    """

    _weight_prefixes = ("depthwise",)

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_common(
            kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias
        )
        self._set_weight_options("bias", bias_initializer, bias_regularizer, bias_constraint)
        self._init_depthwise(
            depth_multiplier, depthwise_initializer, depthwise_regularizer, depthwise_constraint
        )

    def _make_modules(self, in_channels: int) -> None:
        self.conv = self._depthwise_module(in_channels, self.use_bias)

    def _weight_specs(self) -> list[WeightSpec]:
        return [self._depthwise_spec("conv.weight"), *self._bias_spec("conv.bias")]

    def _output_channels(self, in_channels: int | None) -> int | None:
        return None if in_channels is None else in_channels * self.depth_multiplier

    @property
    def kernel(self) -> Variable:
        """The Keras-layout depthwise kernel ``(*kernel_size, in, depth_multiplier)`` (a view)."""
        return self._keras_weight("kernel")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            **self._depthwise_config(),
            **self._common_config(),
            **self._tail_config(),
        }


class BaseSeparableConv(_DepthwiseStep):
    """Abstract depthwise-separable convolution: a depthwise step then a 1x1 pointwise conv
    mixing channels (Keras's ``BaseSeparableConv``).

    Args:
        filters: Output channels of the pointwise step.
        kernel_size, strides, padding, data_format, dilation_rate: of the depthwise step.
        depth_multiplier: Depthwise output channels per input channel.
        activation, use_bias: as in ``Conv2D`` (the bias follows the pointwise step).
        depthwise_initializer, pointwise_initializer: Default ``"glorot_uniform"``.
        bias_initializer: Default ``"zeros"``.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
        depthwise_constraint, pointwise_constraint, bias_constraint: Optional.

    Example:
        >>> SeparableConv1D(4, 3, padding="same").compute_output_shape((None, 10, 2))
        (None, 10, 4)
    """

    _weight_prefixes = ("depthwise", "pointwise")

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_common(
            kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias
        )
        self._set_weight_options("bias", bias_initializer, bias_regularizer, bias_constraint)
        self._init_depthwise(
            depth_multiplier, depthwise_initializer, depthwise_regularizer, depthwise_constraint
        )
        self._set_weight_options(
            "pointwise", pointwise_initializer, pointwise_regularizer, pointwise_constraint
        )
        self.filters = filters
        self._check_positive(filters, "filters")

    def _make_modules(self, in_channels: int) -> None:
        self.depthwise = self._depthwise_module(in_channels, bias=False)
        self.pointwise = _CONV_MODULES[self.rank](
            in_channels * self.depth_multiplier, self.filters, 1, bias=self.use_bias
        )

    def _weight_specs(self) -> list[WeightSpec]:
        return [
            self._depthwise_spec("depthwise.weight"),
            self._spec("pointwise", "pointwise.weight", keras_kernel_view),
            *self._bias_spec("pointwise.bias"),
        ]

    def _convolve(self, x: Tensor) -> Tensor:
        return self.pointwise(self._padded_conv(self.depthwise, x))

    @property
    def depthwise_kernel(self) -> Variable:
        """Keras-layout ``(*kernel_size, in, depth_multiplier)`` view of ``depthwise.weight``."""
        return self._keras_weight("depthwise_kernel")

    @property
    def pointwise_kernel(self) -> Variable:
        """Keras-layout ``(*ones, in * depth_multiplier, filters)`` view of ``pointwise.weight``."""
        return self._keras_weight("pointwise_kernel")

    @property
    def bias(self) -> Variable | None:
        return self._keras_weight("bias") if self.use_bias else None

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            **self._depthwise_config(),
            "filters": self.filters,
            **self._common_config(),
            **self._tail_config(),
        }


class DepthwiseConv1D(BaseDepthwiseConv):
    """1D depthwise convolution over ``(batch, steps, channels)``. Arguments: see
    ``BaseDepthwiseConv``.

    Example:
        >>> import torch
        >>> DepthwiseConv1D(3, depth_multiplier=2)(torch.ones(2, 10, 4)).shape
        torch.Size([2, 8, 8])
    """

    rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    """2D depthwise convolution over images. Arguments: see ``BaseDepthwiseConv``.

    Example:
        >>> import torch
        >>> layer = DepthwiseConv2D((3, 3), padding="same")
        >>> layer(torch.ones(1, 8, 8, 5)).shape, layer.kernel.shape
        (torch.Size([1, 8, 8, 5]), torch.Size([3, 3, 5, 1]))
    """

    rank = 2


class SeparableConv1D(BaseSeparableConv):
    """1D depthwise-separable convolution. Arguments: see ``BaseSeparableConv``.

    Example:
        >>> import torch
        >>> SeparableConv1D(6, 3, strides=2, padding="same")(torch.ones(2, 9, 4)).shape
        torch.Size([2, 5, 6])
    """

    rank = 1


class SeparableConv2D(BaseSeparableConv):
    """2D depthwise-separable convolution (as in Xception / MobileNet). Arguments: see
    ``BaseSeparableConv``.

    Example:
        >>> import torch
        >>> SeparableConv2D(16, 3, activation="relu")(torch.ones(1, 10, 10, 3)).shape
        torch.Size([1, 8, 8, 16])
    """

    rank = 2


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
