"""``BaseConv``: what every convolution layer shares, on top of real ``torch.nn`` conv modules.

A concrete layer (``conv.py``, ``conv_transpose.py``, ``conv_depthwise.py``) says which torch modules
it builds (``_make_modules``), how its weights look in Keras layout (``_weight_specs``), how it
convolves a channels-first tensor (``_convolve``) and its output channels/lengths. This class does
the rest, once:

* Keras argument handling (``kernel_size``/``strides``/``dilation_rate`` tuples, ``padding``,
  ``data_format``, ``activation``, bias options) with Keras's error messages;
* the layout: a channels_last input ``(N, *spatial, C)`` enters torch as the zero-copy view
  ``to_channels_first(x)`` (NCHW in ``torch.channels_last`` memory format), the weights are stored
  in that memory format too, and the output is permuted back, so a conv stack never copies
  activations between NHWC and NCHW;
* Keras "same" padding: symmetric padding goes to torch; the asymmetric cases (even kernels,
  strides > 1, Conv1D ``"causal"``) are zero-padded with ``F.pad``, the extra cell at the end as in
  TF/Keras;
* weights in Keras layout for ``get_weights``/``set_weights``, Keras initializers (drawn in Keras
  layout, so fans match), regularizers and constraints (which see the Keras-layout view).

Example:
    >>> import torch
    >>> from kseq.layers import Conv2D
    >>> layer = Conv2D(4, 3, padding="same")
    >>> y = layer(torch.ones(2, 8, 8, 3))
    >>> tuple(y.shape), [w.shape for w in layer.get_weights()]
    ((2, 8, 8, 4), [(3, 3, 3, 4), (4,)])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kseq import activations, config, constraints, initializers, regularizers
from kseq.core.conv_utils import (
    channels_last_format,
    channels_of,
    conv_output_length,
    effective_kernel,
    flat_pads,
    keras_kernel_view,
    same_padding,
    spatial_dims,
    standardize_padding,
    standardize_tuple,
    to_channels_first,
    to_channels_last,
    with_spatial,
)
from kseq.layers.layer import InputSpec, Layer, Shape, format_shape
from kseq.layers.weight_views import KerasWeight
from kseq.variables import Variable

__all__: list[str] = []

_CONV_FN: dict[int, Callable[..., Tensor]] = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class WeightSpec(NamedTuple):
    """One weight in Keras's order: where it lives, its Keras-layout view and its options.

    Example:
        >>> from kseq.layers import Conv1D
        >>> layer = Conv1D(2, 3); layer.build((None, 8, 4))
        >>> [(spec.path, tuple(layer._keras_tensor(spec).shape)) for spec in layer._weight_specs()]
        [('conv.weight', (3, 4, 2)), ('conv.bias', (2,))]
    """

    path: str
    view: Callable[[Tensor], Tensor] | None
    initializer: Any
    regularizer: Any = None
    constraint: Any = None


class BaseConv(Layer):
    """Abstract N-D convolution layer: Keras's argument handling, layout, padding and weights.

    Subclasses set ``rank`` and implement ``_make_modules``; the defaults of ``_weight_specs``,
    ``_convolve``, ``_output_channels``, ``_output_spatial``, ``kernel`` and ``bias`` fit a layer
    whose torch module is ``self.conv`` with ``filters`` outputs, and are overridden where not.

    Example:
        >>> from kseq.layers import Conv1D
        >>> Conv1D(2, 3, padding="causal").compute_output_shape((None, 10, 4))
        (None, 10, 2)
    """

    rank: ClassVar[int]
    #: Keras option prefixes of the weights other than the bias, in Keras's order.
    _weight_prefixes: ClassVar[tuple[str, ...]] = ("kernel",)
    _allow_causal: ClassVar[bool] = False
    _conv_padding_rule: ClassVar[bool] = True  # False for transposed convolutions
    filters: int
    conv: nn.Module

    def _init_common(
        self,
        kernel_size: Any,
        strides: Any,
        padding: str,
        data_format: str | None,
        dilation_rate: Any,
        activation: Any,
        use_bias: bool,
    ) -> None:
        """Store the arguments every convolution takes, standardized as Keras does."""
        rank = self.rank
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal=self._allow_causal)
        self.data_format = config.standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.input_spec = InputSpec(min_ndim=rank + 2, max_ndim=rank + 2)

    def _set_weight_options(
        self, prefix: str, initializer: Any, regularizer: Any, constraint: Any
    ) -> None:
        """Resolve and store ``{prefix}_initializer``/``_regularizer``/``_constraint`` (e.g. for
        ``"kernel"``, ``"depthwise"``, ``"bias"``)."""
        setattr(self, f"{prefix}_initializer", initializers.get(initializer))
        setattr(self, f"{prefix}_regularizer", regularizers.get(regularizer))
        setattr(self, f"{prefix}_constraint", constraints.get(constraint))

    @staticmethod
    def _check_positive(value: int | None, name: str) -> None:
        if value is not None and value <= 0:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected a strictly positive value. "
                f"Received {name}={value}."
            )

    def _check_strides_and_dilation(self) -> None:
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    # ------------------------------------------------------------------ subclass hooks
    def _make_modules(self, in_channels: int) -> None:
        """Create the torch conv module(s) (``self.conv`` unless overridden)."""
        raise NotImplementedError

    def _weight_specs(self) -> list[WeightSpec]:
        """The weights in Keras's order; default: ``conv.weight`` as ``kernel``, then the bias."""
        return [
            self._spec("kernel", "conv.weight", keras_kernel_view),
            *self._bias_spec("conv.bias"),
        ]

    def _convolve(self, x: Tensor) -> Tensor:
        """Channels-first in, channels-first out (bias included)."""
        return self._padded_conv(self.conv, x)

    def _output_channels(self, in_channels: int | None) -> int | None:
        return self.filters

    def _output_spatial(self, spatial: Shape) -> Shape:
        """Output lengths; defaults to Keras's conv rule (``"valid"``/``"same"``/``"causal"``)."""
        return tuple(
            conv_output_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True)
        )  # fmt: skip

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Shape) -> None:
        in_channels = channels_of(input_shape, self.data_format)
        if in_channels is None:
            raise ValueError(
                f"The channel dimension of the inputs to {type(self).__name__} layer '{self.name}' "
                f"should be defined (data_format={self.data_format!r}). "
                f"Received input_shape={format_shape(input_shape)}"
            )
        axis = -1 if self.data_format == "channels_last" else 1
        self.input_spec = InputSpec(
            min_ndim=self.rank + 2, max_ndim=self.rank + 2, axes={axis: in_channels}
        )
        self.compute_output_shape(input_shape)  # validates the spatial sizes
        self._plan_padding()
        self._make_modules(in_channels)
        memory_format = channels_last_format(self.rank)
        if self.data_format == "channels_last" and memory_format is not None:
            # NHWC activations are channels_last NCHW tensors; keep the weights in the same memory
            # format so torch's conv kernels never convert either of them.
            for module in self.modules():
                if isinstance(module, nn.modules.conv._ConvNd):
                    module.weight.data = module.weight.data.to(memory_format=memory_format)
        for spec in self._weight_specs():
            self.track_weight(spec.path, spec.regularizer, spec.constraint, spec.view)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """(Re-)draw every weight with its Keras initializer, in Keras layout."""
        with torch.no_grad():
            for spec in self._weight_specs():
                target = self._keras_tensor(spec)
                target.copy_(spec.initializer(tuple(target.shape)))

    def _keras_tensor(self, spec: WeightSpec) -> Tensor:
        param = self.get_parameter(spec.path)
        return param if spec.view is None else spec.view(param)

    def _get_own_weights(self) -> list[np.ndarray]:
        return [self._keras_tensor(s).detach().cpu().numpy().copy() for s in self._weight_specs()]

    def _set_own_weights(self, arrays: list[np.ndarray]) -> None:
        for spec, array in zip(self._weight_specs(), arrays, strict=True):
            target = self._keras_tensor(spec)
            target.copy_(torch.as_tensor(array, dtype=target.dtype))

    def _spec(self, prefix: str, path: str, view: Callable[[Tensor], Tensor] | None) -> WeightSpec:
        default = "zeros" if prefix == "bias" else "glorot_uniform"
        return WeightSpec(
            path, view,
            getattr(self, f"{prefix}_initializer") or initializers.get(default),
            getattr(self, f"{prefix}_regularizer"),
            getattr(self, f"{prefix}_constraint"),
        )  # fmt: skip

    def _bias_spec(self, path: str) -> list[WeightSpec]:
        return [self._spec("bias", path, None)] if self.use_bias else []

    # Keras's variable name of each torch weight path of ``_weight_specs``.
    _keras_weight_names: ClassVar[dict[str, str]] = {
        "conv.weight": "kernel", "conv.bias": "bias", "depthwise.weight": "depthwise_kernel",
        "pointwise.weight": "pointwise_kernel", "pointwise.bias": "bias",
    }  # fmt: skip

    def _keras_weight_specs(self) -> list[KerasWeight]:
        return [
            KerasWeight(self._keras_weight_names[s.path], (s.path,), s.view)
            for s in self._weight_specs()
        ]

    @property
    def kernel(self) -> Variable:
        """The Keras-layout kernel over ``conv.weight``'s storage: ``(*kernel_size, in / groups,
        filters)``, or ``(*kernel_size, filters, in)`` for transposed convolutions."""
        return self._keras_weight("kernel")

    @property
    def bias(self) -> Variable | None:
        return self._keras_weight("bias") if self.use_bias else None

    # ------------------------------------------------------------------ padding
    def _plan_padding(self) -> None:
        """Decide, once, how Keras's padding maps onto torch: a symmetric ``padding`` for the
        module, a static ``F.pad``, or (``"same"`` with strides > 1) pads computed per input size."""
        rank = self.rank
        self._module_padding: tuple[int, ...] = (0,) * rank
        self._static_pads: tuple[int, ...] | None = None
        self._dynamic_same = False
        if self.padding == "valid" or not self._conv_padding_rule:
            return
        if self.padding == "same" and max(self.strides) > 1:
            self._dynamic_same = True
            return
        if self.padding == "causal":
            pads = [(effective_kernel(self.kernel_size[0], self.dilation_rate[0]) - 1, 0)]
        else:  # "same" with stride 1: the total is span - 1 whatever the input length
            pads = [
                same_padding(0, k, 1, d)
                for k, d in zip(self.kernel_size, self.dilation_rate, strict=True)
            ]
        if all(left == right for left, right in pads):
            self._module_padding = tuple(left for left, _ in pads)
        else:
            self._static_pads = flat_pads(pads)

    def _padded_conv(self, module: nn.Module, x: Tensor) -> Tensor:
        """Run a conv module on channels-first ``x`` with Keras's padding."""
        if self._dynamic_same:
            pads = [
                same_padding(n, k, s, d)
                for n, k, s, d in zip(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate, strict=True)
            ]  # fmt: skip
            if all(left == right for left, right in pads):
                return _CONV_FN[self.rank](
                    x, module.weight, module.bias, module.stride,
                    tuple(left for left, _ in pads), module.dilation, module.groups,
                )  # fmt: skip
            x = F.pad(x, flat_pads(pads))
        elif self._static_pads is not None:
            x = F.pad(x, self._static_pads)
        return module(x)

    # ------------------------------------------------------------------ call
    def _pre_activation(self, inputs: Tensor) -> Tensor:
        if self.data_format == "channels_last":
            return to_channels_last(self._convolve(to_channels_first(inputs)))
        return self._convolve(inputs)

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        x = self._pre_activation(inputs)
        return x if self.activation is activations.linear else self.activation(x)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        spatial = self._output_spatial(spatial_dims(input_shape, self.data_format))
        if any(d is not None and d <= 0 for d in spatial):
            raise ValueError(
                "Computed output size would be zero or negative. Received "
                f"`inputs shape={format_shape(input_shape)}`, `kernel_size={self.kernel_size}`, "
                f"`dilation_rate={self.dilation_rate}`, `strides={self.strides}`, "
                f"`padding={self.padding}`."
            )
        channels = self._output_channels(channels_of(input_shape, self.data_format))
        return with_spatial(input_shape[0], spatial, channels, self.data_format)

    # ------------------------------------------------------------------ config
    def _common_config(self) -> dict[str, Any]:
        """Keys every conv config has, in Keras's order after the class-specific leading keys."""
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }

    def _tail_config(self) -> dict[str, Any]:
        """``activation``, ``use_bias``, then every initializer, regularizer and constraint, in
        Keras's order (e.g. ``kernel_initializer, bias_initializer, kernel_regularizer, ...``)."""
        prefixes = (*self._weight_prefixes, "bias")
        out: dict[str, Any] = {
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }
        for p in prefixes:
            out[f"{p}_initializer"] = initializers.serialize(getattr(self, f"{p}_initializer"))
        for p in prefixes:
            out[f"{p}_regularizer"] = regularizers.serialize(getattr(self, f"{p}_regularizer"))
        out["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        for p in prefixes:
            out[f"{p}_constraint"] = constraints.serialize(getattr(self, f"{p}_constraint"))
        return out

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, kernel_size={self.kernel_size}, strides={self.strides}, "
            f"padding={self.padding!r}, data_format={self.data_format!r}"
        )
