"""Pooling layers: ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D``, ``GlobalMaxPooling1D/2D/3D``,
``GlobalAveragePooling1D/2D/3D``, and Keras's aliases (``MaxPool2D``, ``AvgPool2D``,
``GlobalAvgPool2D``, ...).

Windowed pooling runs torch's ``F.max_poolNd``/``F.avg_poolNd`` on the zero-copy channels-first
view of channels_last inputs (channels_last memory format, no copies). Keras's "same" padding puts
the odd extra cell at the end: symmetric padding goes to torch (``count_include_pad=False``), the
asymmetric cases are padded explicitly, with ``-inf`` for max and zeros plus a valid-cell count for
average, so averages are always over the valid cells only (TF/JAX semantics).

Example:
    >>> import torch
    >>> MaxPooling2D()(torch.ones(1, 28, 28, 8)).shape
    torch.Size([1, 14, 14, 8])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq import config
from kseq.core.conv_utils import (
    channels_of,
    flat_pads,
    pooling_output_shape,
    same_padding,
    standardize_padding,
    standardize_tuple,
    to_channels_first,
    to_channels_last,
    with_spatial,
)
from kseq.layers.layer import InputSpec, Layer, Shape

__all__ = [
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
]  # fmt: skip

_MAX_POOL: dict[int, Callable[..., Tensor]] = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL: dict[int, Callable[..., Tensor]] = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class BasePooling(Layer):
    """Windowed max / average pooling over ``rank`` spatial axes (Keras's ``BasePooling``).

    Args:
        pool_size: Int or tuple of ``rank`` ints, the window size.
        strides: Int, tuple of ``rank`` ints, or ``None`` (= ``pool_size``).
        padding: ``"valid"`` or ``"same"`` (output length ``ceil(n / stride)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> MaxPooling1D(3, strides=2, padding="same").compute_output_shape((None, 10, 4))
        (None, 5, 4)
    """

    rank: ClassVar[int]
    pool_mode: ClassVar[str]

    def __init__(
        self,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = standardize_tuple(strides, self.rank, "strides", allow_zero=True)
        self.padding = standardize_padding(padding)
        self.data_format = config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self._mark_built()

    def _pads(self, spatial: torch.Size) -> list[tuple[int, int]]:
        if self.padding == "valid":
            return [(0, 0)] * self.rank
        return [
            same_padding(n, k, s) for n, k, s in zip(spatial, self.pool_size, self.strides, strict=True)
        ]  # fmt: skip

    def _pool(self, x: Tensor) -> Tensor:
        """Pool a channels-first tensor."""
        raise NotImplementedError

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        if self.data_format == "channels_last":
            return to_channels_last(self._pool(to_channels_first(inputs)))
        return self._pool(inputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return pooling_output_shape(
            input_shape, self.pool_size, self.strides, self.padding, self.data_format
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class BaseMaxPooling(BasePooling):
    """Max over each window; "same" padding cells never win (padded with ``-inf``).

    Example:
        >>> import torch
        >>> MaxPooling1D(2, strides=1, padding="same")(torch.tensor([[[1.0], [3.0], [2.0]]])).flatten()
        tensor([3., 3., 2.])
    """

    pool_mode = "max"

    def _pool(self, x: Tensor) -> Tensor:
        pads = self._pads(x.shape[2:])
        padding: tuple[int, ...] = tuple(left for left, _ in pads)
        if any(left != right for left, right in pads):
            x = F.pad(x, flat_pads(pads), value=float("-inf"))
            padding = (0,) * self.rank
        return _MAX_POOL[self.rank](x, self.pool_size, self.strides, padding)


class BaseAveragePooling(BasePooling):
    """Mean over each window's *valid* cells ("same" padding cells are not counted).

    Keras 3.15's torch backend differs in one case: when "same" needs asymmetric padding (an even
    ``pool_size``, or ``strides > 1`` with some lengths) it pads by replicating the edge and counts
    those copies, e.g. ``AveragePooling1D(4, strides=1, padding="same")`` on ``[1, ..., 6]`` gives
    ``1.75`` first where TF/JAX (and kseq) give ``2.0``. That is a Keras torch-backend bug (fixed
    upstream, keras-team/keras#23233); kseq follows the TF/JAX semantics Keras documents.

    Example:
        >>> import torch
        >>> x = torch.arange(1.0, 7.0).reshape(1, 6, 1)
        >>> AveragePooling1D(4, strides=1, padding="same")(x).flatten()
        tensor([2.0000, 2.5000, 3.5000, 4.5000, 5.0000, 5.5000])
    """

    pool_mode = "average"

    def _pool(self, x: Tensor) -> Tensor:
        pads = self._pads(x.shape[2:])
        avg_pool = _AVG_POOL[self.rank]
        if all(left == right for left, right in pads):
            padding = tuple(left for left, _ in pads)
            return avg_pool(x, self.pool_size, self.strides, padding, count_include_pad=False)
        # Asymmetric "same": mean over the zero-padded window, rescaled by the fraction of valid
        # cells in it (the same pooling of a padded ones map; a tiny tensor, no host sync).
        flat = flat_pads(pads)
        window_mean = avg_pool(F.pad(x, flat), self.pool_size, self.strides)
        ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
        valid_fraction = avg_pool(F.pad(ones, flat), self.pool_size, self.strides)
        return window_mean / valid_fraction


class BaseGlobalPooling(Layer):
    """Reduce every spatial axis (Keras's ``BaseGlobalPooling``).

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: Keep the spatial axes with length 1 (as ``np.mean(..., keepdims=True)``).

    Example:
        >>> GlobalAveragePooling2D(keepdims=True).compute_output_shape((None, 7, 7, 32))
        (None, 1, 1, 32)
    """

    rank: ClassVar[int]

    def __init__(
        self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = config.standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)
        first = 1 if self.data_format == "channels_last" else 2
        self._axes = tuple(range(first, first + self.rank))
        self._mark_built()

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        channels = channels_of(input_shape, self.data_format)
        if not self.keepdims:
            return (input_shape[0], channels)
        return with_spatial(input_shape[0], (1,) * self.rank, channels, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class BaseGlobalMaxPooling(BaseGlobalPooling):
    """Maximum over the spatial axes.

    Example:
        >>> import torch
        >>> GlobalMaxPooling1D()(torch.tensor([[[1.0, 5.0], [4.0, 2.0]]]))
        tensor([[4., 5.]])
    """

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return torch.amax(inputs, dim=self._axes, keepdim=self.keepdims)


class BaseGlobalAveragePooling(BaseGlobalPooling):
    """Mean over the spatial axes.

    Example:
        >>> import torch
        >>> GlobalAveragePooling2D()(torch.ones(2, 3, 3, 4)).shape
        torch.Size([2, 4])
    """

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return torch.mean(inputs, dim=self._axes, keepdim=self.keepdims)


class MaxPooling1D(BaseMaxPooling):
    """Max pooling over ``(batch, steps, features)``. Arguments: see ``BasePooling``
    (``pool_size=2`` by default).

    Example:
        >>> import torch
        >>> MaxPooling1D()(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten()
        tensor([3., 2.])
    """

    rank = 1

    def __init__(
        self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
        data_format: str | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(BaseMaxPooling):
    """Max pooling over images ``(batch, rows, cols, channels)``. Arguments: see ``BasePooling``
    (``pool_size=(2, 2)`` by default).

    Example:
        >>> import torch
        >>> MaxPooling2D((3, 3), strides=2, padding="same")(torch.ones(1, 7, 7, 2)).shape
        torch.Size([1, 4, 4, 2])
    """

    rank = 2

    def __init__(
        self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
        data_format: str | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(BaseMaxPooling):
    """Max pooling over volumes. Arguments: see ``BasePooling`` (``pool_size=(2, 2, 2)``).

    Example:
        >>> import torch
        >>> MaxPooling3D()(torch.ones(1, 4, 4, 4, 3)).shape
        torch.Size([1, 2, 2, 2, 3])
    """

    rank = 3

    def __init__(
        self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
        data_format: str | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BaseAveragePooling):
    """Average pooling over ``(batch, steps, features)``; ``pool_size`` is required, as in Keras.
    Arguments: see ``BasePooling``.

    Example:
        >>> import torch
        >>> AveragePooling1D(2)(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten()
        tensor([2., 1.])
    """

    rank = 1


class AveragePooling2D(BaseAveragePooling):
    """Average pooling over images; ``pool_size`` is required. Arguments: see ``BasePooling``.

    Example:
        >>> import torch
        >>> AveragePooling2D(2)(torch.ones(1, 6, 6, 3)).shape
        torch.Size([1, 3, 3, 3])
    """

    rank = 2


class AveragePooling3D(BaseAveragePooling):
    """Average pooling over volumes; ``pool_size`` is required. Arguments: see ``BasePooling``.

    Example:
        >>> import torch
        >>> AveragePooling3D(2, padding="same")(torch.ones(1, 3, 3, 3, 1)).shape
        torch.Size([1, 2, 2, 2, 1])
    """

    rank = 3


class GlobalMaxPooling1D(BaseGlobalMaxPooling):
    """Maximum over the steps of ``(batch, steps, features)``.

    Like Keras 3, it does not support masking: a mask from ``Embedding(mask_zero=True)`` is not
    applied (masked steps take part in the maximum) and is not propagated.

    Example:
        >>> import torch
        >>> GlobalMaxPooling1D(keepdims=True)(torch.ones(2, 5, 3)).shape
        torch.Size([2, 1, 3])
    """

    rank = 1


class GlobalMaxPooling2D(BaseGlobalMaxPooling):
    """Maximum over rows and columns of images.

    Example:
        >>> import torch
        >>> GlobalMaxPooling2D()(torch.ones(2, 4, 4, 3)).shape
        torch.Size([2, 3])
    """

    rank = 2


class GlobalMaxPooling3D(BaseGlobalMaxPooling):
    """Maximum over the three spatial axes of volumes.

    Example:
        >>> import torch
        >>> GlobalMaxPooling3D(data_format="channels_first")(torch.ones(2, 3, 4, 4, 4)).shape
        torch.Size([2, 3])
    """

    rank = 3


class GlobalAveragePooling1D(BaseGlobalAveragePooling):
    """Mean over the steps of ``(batch, steps, features)``, excluding masked steps.

    With a ``mask`` (``(batch, steps)``, e.g. from ``Embedding(mask_zero=True)``) the mean is over
    the unmasked steps only; the mask stops here (the output carries none).

    Example:
        >>> import torch
        >>> x = torch.tensor([[[1.0], [3.0], [8.0]]])
        >>> GlobalAveragePooling1D()(x, mask=torch.tensor([[True, True, False]]))
        tensor([[2.]])
    """

    rank = 1
    supports_masking = True
    creates_mask = False  # it consumes a mask (and drops it); it never starts one

    def call(
        self, inputs: Tensor, training: bool | None = None, mask: Tensor | None = None
    ) -> Tensor:
        if mask is None:
            return super().call(inputs)
        axis = self._axes[0]
        keep = mask.to(torch.bool).unsqueeze(2 if self.data_format == "channels_last" else 1)
        total = torch.where(keep, inputs, 0).sum(dim=axis, keepdim=self.keepdims)
        count = keep.to(inputs.dtype).sum(dim=axis, keepdim=self.keepdims)
        return total / count

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor | None:
        return None


class GlobalAveragePooling2D(BaseGlobalAveragePooling):
    """Mean over rows and columns of images.

    Example:
        >>> import torch
        >>> GlobalAveragePooling2D(keepdims=True)(torch.ones(2, 4, 4, 3)).shape
        torch.Size([2, 1, 1, 3])
    """

    rank = 2


class GlobalAveragePooling3D(BaseGlobalAveragePooling):
    """Mean over the three spatial axes of volumes.

    Example:
        >>> import torch
        >>> GlobalAveragePooling3D()(torch.ones(2, 3, 3, 3, 5)).shape
        torch.Size([2, 5])
    """

    rank = 3


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D,
)  # fmt: skip
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
)  # fmt: skip
