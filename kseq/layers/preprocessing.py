"""Deterministic preprocessing layers usable inside a model: ``Rescaling``, ``Normalization``,
``Resizing`` and ``CenterCrop`` (Keras 3 names, arguments, defaults and configs).

They run in training and inference alike, on torch tensors (the random augmentation layers live in
:mod:`kseq.layers.augmentation`). Image layers take ``channels_last`` images ``(batch, height,
width, channels)`` by default, batched or not, or ``channels_first`` ones with ``data_format``.
Floating inputs keep their dtype (mixed precision is torch autocast's business); integer inputs
(e.g. ``uint8`` pixels) come out as floats, except from ``Resizing``, which keeps the input dtype as
Keras does.

Example:
    >>> import torch
    >>> Rescaling(1 / 255)(torch.tensor([0, 255], dtype=torch.uint8))
    tensor([0., 1.])
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from kseq import config
from kseq.core import image_ops
from kseq.layers.layer import InputSpec, Layer, Shape

__all__ = ["CenterCrop", "Normalization", "Rescaling", "Resizing"]


class Rescaling(Layer):
    """Multiply inputs by ``scale`` and add ``offset``: ``x * scale + offset``.

    ``Rescaling(1 / 255)`` maps ``[0, 255]`` pixels to ``[0, 1]``; ``Rescaling(1 / 127.5,
    offset=-1)`` maps them to ``[-1, 1]``. Applied in training and inference.

    Args:
        scale: A float, or per-channel values (broadcast against the last axis, or against the
            channel axis of ``(C, H, W)`` images when the global image format is channels_first).
        offset: A float, or per-channel values.

    Input shape: anything. Output shape: the input shape.

    Example:
        >>> Rescaling(1 / 127.5, offset=-1)(torch.tensor([0.0, 127.5, 255.0]))
        tensor([-1.,  0.,  1.])
    """

    supports_masking = True

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        dtype = self.dtype_policy.torch_compute_dtype
        # Scalars stay Python floats (no tensor to move); per-channel values are buffers.
        self._scale: float | Tensor = _scalar_or_buffer(self, "scale_tensor", scale, dtype)
        self._offset: float | Tensor = _scalar_or_buffer(self, "offset_tensor", offset, dtype)
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        x = image_ops.as_float(inputs, self.dtype_policy.torch_compute_dtype)
        scale = self._scale
        if (
            isinstance(scale, Tensor)
            and scale.dim()
            and config.image_data_format() == "channels_first"
        ):
            scale = scale.reshape(*scale.shape, *(1,) * (3 - scale.dim()))
        return x * scale + self._offset

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "scale": _serialize_value(self.scale),
            "offset": _serialize_value(self.offset),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Rescaling:
        config = dict(config)
        config["scale"] = _deserialize_value(config["scale"])
        config["offset"] = _deserialize_value(config["offset"])
        return cls(**config)


class Normalization(Layer):
    """Shift and scale inputs to zero mean and unit variance: ``(x - mean) / sqrt(variance)``.

    Give ``mean`` and ``variance``, or compute them from data with :meth:`adapt` before training.
    Adapted statistics are non-trainable weights ``[mean, variance, count]`` (Keras's layout, so
    ``set_weights(keras_layer.get_weights())`` works); given ones are constants, not weights. The
    denominator is ``max(sqrt(variance), epsilon())``.

    Args:
        axis: Axis or axes that keep a separate mean and variance per index (``-1``: per feature);
            ``None`` normalizes every element with one scalar mean and variance.
        mean: Mean value(s), broadcast over the kept axes (right-aligned). Pass with ``variance``.
        variance: Variance value(s), broadcast like ``mean``.
        invert: Apply the inverse: ``mean + x * sqrt(variance)`` (turn normalized values back).

    Input shape: anything with the kept axes defined. Output shape: the input shape.

    Example:
        >>> layer = Normalization(axis=None)
        >>> layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
        >>> layer(torch.tensor([1.0, 2.0, 3.0])).round(decimals=4)
        tensor([-1.4142, -0.7071,  0.0000])
    """

    _keras_names: ClassVar[dict[str, str]] = {"adapt_mean": "mean", "adapt_variance": "variance"}

    supports_masking = True

    def __init__(
        self,
        axis: int | tuple[int, ...] | list[int] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.axis: tuple[int, ...] = (
            () if axis is None else (int(axis),) if isinstance(axis, int) else tuple(axis)
        )
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same shape. "
                    f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    "The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}"
                )
        self._broadcast_shape: tuple[int, ...] | None = None

    def build(self, input_shape: Shape) -> None:
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                "All `axis` values must be in the range [-ndim, ndim). "
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                    f"inputs.shape={input_shape}, with unknown axis at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(
            input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)
        )
        stats_shape = tuple(int(input_shape[d]) for d in self._keep_axis)  # type: ignore[arg-type]
        if self.input_mean is None:
            dtype = self.dtype_policy.torch_variable_dtype
            self.register_buffer("adapt_mean", torch.zeros(stats_shape, dtype=dtype))
            self.register_buffer("adapt_variance", torch.ones(stats_shape, dtype=dtype))
            # Keras keeps an (unused) int32 `count` weight for old saved models; so do we.
            self.register_buffer("count", torch.zeros((), dtype=torch.int32))
        else:
            dtype = self.dtype_policy.torch_compute_dtype
            mean = self._broadcast(self.input_mean, ndim, dtype)
            variance = self._broadcast(self.input_variance, ndim, dtype)
            self.register_buffer("fixed_mean", mean, persistent=False)
            self.register_buffer("fixed_variance", variance, persistent=False)

    def _broadcast(self, value: Any, ndim: int, dtype: torch.dtype) -> Tensor:
        """Given statistics -> the broadcast shape, aligned right-to-left onto the kept axes."""
        value = torch.as_tensor(np.asarray(value), dtype=dtype)
        expanded = [1] * ndim
        for i in range(1, value.dim() + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        try:
            return value.reshape(expanded).expand(self._broadcast_shape).clone()  # type: ignore[arg-type]
        except RuntimeError as exc:
            raise ValueError(
                f"Normalization layer '{self.name}': `mean`/`variance` of shape {tuple(value.shape)} cannot "
                f"be broadcast to the kept axes {self._keep_axis} of inputs with statistics shape "
                f"{self._broadcast_shape}. Pass one value per index of axis={self.axis}, or a scalar."
            ) from exc

    @property
    def mean(self) -> Tensor | None:
        """The mean in the inputs' broadcast shape (``None`` before the layer is built)."""
        if not self.built:
            return None
        if self.input_mean is not None:
            return self.fixed_mean
        return self.adapt_mean.reshape(self._broadcast_shape)  # type: ignore[arg-type]

    @property
    def variance(self) -> Tensor | None:
        """The variance in the inputs' broadcast shape (``None`` before the layer is built)."""
        if not self.built:
            return None
        if self.input_mean is not None:
            return self.fixed_variance
        return self.adapt_variance.reshape(self._broadcast_shape)  # type: ignore[arg-type]

    def adapt(self, data: Any) -> None:
        """Compute the mean and (population) variance of ``data`` over the non-kept axes.

        Runs once, on the host (float64), before training: ``data`` is a NumPy array, a tensor, or
        an iterable of batches (a list of arrays, a generator, a ``DataLoader``); ``(x, y)`` batches
        use ``x``. Batches are merged with the exact pooled-variance formula.

        Example:
            >>> layer = Normalization()
            >>> layer.adapt([np.array([[0.0, 7.0]]), np.array([[2.0, 9.0]])])
            >>> layer.adapt_mean.tolist(), layer.adapt_variance.tolist()
            ([1.0, 8.0], [1.0, 1.0])
        """
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization layer '{self.name}' was given `mean` and `variance` at construction, "
                "so it cannot be adapted. Create it without them, then call `adapt(data)`."
            )
        batches = _host_batches(data)
        first = next(batches)
        input_shape = tuple(first.shape)
        if not self.built:
            self.build(input_shape)
        else:
            for d in self._keep_axis:
                if input_shape[d] != self._build_input_shape[d]:
                    raise ValueError(
                        f"The layer was built with input_shape={self._build_input_shape}, but adapt() is being "
                        f"called with data with an incompatible shape, data.shape={input_shape}"
                    )
        stats_shape = tuple(self.adapt_mean.shape)
        total_mean = torch.zeros(stats_shape, dtype=torch.float64)
        total_var = torch.zeros(stats_shape, dtype=torch.float64)
        total_count = 0
        for batch in itertools.chain([first], batches):
            if batch.dim() != len(self._build_input_shape) or (
                tuple(batch.shape[d] for d in self._keep_axis) != stats_shape
            ):
                raise ValueError(
                    f"adapt() yielded a batch with incompatible shape. Expected {self._build_input_shape}, "
                    f"got {tuple(batch.shape)}."
                )
            count = int(np.prod([batch.shape[d] for d in self._reduce_axis]))
            if count == 0:
                continue
            batch_mean = batch.mean(dim=self._reduce_axis) if self._reduce_axis else batch
            batch_var = (
                batch.var(dim=self._reduce_axis, correction=0)
                if self._reduce_axis
                else torch.zeros_like(batch)
            )
            total_count += count
            weight = count / total_count
            new_mean = total_mean * (1.0 - weight) + batch_mean * weight
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1.0 - weight) + (
                batch_var + (batch_mean - new_mean) ** 2
            ) * weight
            total_mean = new_mean
        with torch.no_grad():
            self.adapt_mean.copy_(total_mean)
            self.adapt_variance.copy_(total_var)

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        x = image_ops.as_float(inputs, self.dtype_policy.torch_compute_dtype)
        mean, variance = self.mean, self.variance
        std = torch.clamp_min(torch.sqrt(variance), config.epsilon())  # type: ignore[arg-type]
        if self.invert:
            return mean + x * std
        return (x - mean) / std

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        }


class Resizing(Layer):
    """Resize images to ``(height, width)`` with ``F.interpolate`` (Keras's torch-backend numerics).

    Args:
        height: Output height.
        width: Output width.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"`` (Keras's
            ``"lanczos3"``/``"lanczos5"`` are not available on torch, as in Keras's torch backend).
        crop_to_aspect_ratio: Crop the largest centred window with the target aspect ratio first,
            so the image is not distorted.
        pad_to_aspect_ratio: Pad the short side evenly (with ``fill_value``) to the target aspect
            ratio first, so the image is not distorted.
        fill_mode: Padding mode for ``pad_to_aspect_ratio``; only ``"constant"``.
        fill_value: Padding value for ``pad_to_aspect_ratio``.
        antialias: Low-pass filter when downsampling (bilinear/bicubic).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last). Output shape:
    ``(batch, height, width, C)``; the input dtype is kept (integers are rounded).

    Example:
        >>> Resizing(2, 3)(torch.ones(1, 8, 8, 3)).shape
        torch.Size([1, 2, 3, 3])
    """

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        image_ops._check_resize_args(
            interpolation, fill_mode, crop_to_aspect_ratio, pad_to_aspect_ratio
        )
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self.data_format = config.standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return image_ops.resize(
            inputs,
            (self.height, self.width),
            interpolation=self.interpolation,
            antialias=self.antialias,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return image_ops.resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
            "data_format": self.data_format,
        }


class CenterCrop(Layer):
    """Crop the central ``(height, width)`` window of images.

    An image smaller than the target (on either side) is instead cropped to the target aspect ratio
    and resized (bilinear), as Keras does. When the size difference is odd, the extra row/column is
    dropped at the bottom/right.

    Args:
        height: Output height.
        width: Output width.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last). Output shape:
    ``(batch, height, width, C)``.

    Example:
        >>> CenterCrop(2, 2)(torch.arange(16.0).reshape(4, 4, 1))[..., 0]
        tensor([[ 5.,  6.],
                [ 9., 10.]])
    """

    def __init__(
        self, height: int, width: int, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self.data_format = config.standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        return image_ops.center_crop(
            image_ops.as_float(inputs, self.dtype_policy.torch_compute_dtype),
            self.height,
            self.width,
            self.data_format,
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return image_ops.resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "data_format": self.data_format,
        }


# --------------------------------------------------------------------------- helpers
def _scalar_or_buffer(layer: Layer, name: str, value: Any, dtype: torch.dtype) -> float | Tensor:
    if np.ndim(value) == 0:
        return float(value)
    layer.register_buffer(name, torch.as_tensor(np.asarray(value), dtype=dtype), persistent=False)
    return getattr(layer, name)


def _serialize_value(value: Any) -> Any:
    """Keras's config form of a scale/offset: numbers as is, arrays as ``__numpy__`` dicts."""
    if isinstance(value, np.ndarray):
        return {
            "class_name": "__numpy__",
            "config": {"value": value.tolist(), "dtype": str(value.dtype)},
        }
    if isinstance(value, Tensor):
        return _serialize_value(value.detach().cpu().numpy())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _deserialize_value(value: Any) -> Any:
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return np.array(value["config"]["value"], dtype=value["config"]["dtype"])
    return value


def _host_batches(data: Any) -> Iterator[Tensor]:
    """``adapt`` data -> float64 CPU tensors, one per batch (a single array is one batch)."""
    if isinstance(data, (np.ndarray, Tensor)):
        return iter([_host_tensor(data)])
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes, dict)):
        batches = (_host_tensor(b[0] if isinstance(b, (tuple, list)) else b) for b in data)
        first = next(batches, None)
        if first is None:
            raise ValueError(
                "adapt() received an empty iterable (no batches). Expected at least one batch. Pass a "
                "non-empty iterable of arrays or tensors, e.g. layer.adapt([x]) or layer.adapt(list_of_batches)."
            )
        return itertools.chain([first], batches)
    raise TypeError(
        f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, torch tensors, and iterables "
        "of batches (e.g. list, generator, DataLoader)."
    )


def _host_tensor(batch: Any) -> Tensor:
    if isinstance(batch, Tensor):
        return batch.detach().to("cpu", torch.float64)
    if not hasattr(batch, "shape"):
        raise TypeError(
            "adapt() expects an iterable that yields arrays or tensors with a `.shape` attribute (e.g. "
            f"numpy arrays or torch tensors). Got an element of type {type(batch).__name__}. Ensure each "
            "yielded element is array-like with a `.shape` attribute."
        )
    return torch.as_tensor(np.asarray(batch, dtype=np.float64))
