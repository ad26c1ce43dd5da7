"""Random image augmentation: the shared base of the ``Random*`` layers, and ``RandomFlip``,
``RandomCrop``, ``RandomContrast`` and ``RandomBrightness`` (``RandomRotation``, ``RandomZoom`` and
``RandomTranslation`` live in :mod:`kseq.layers.affine_augmentation`).

They augment only in training (``training=None`` means ``self.training``: on in ``fit`` and on a
freshly built layer, as Keras's ``training=True`` default; off in ``evaluate``/``predict`` and after
``model.eval()``, where the input comes back unchanged, integers cast to float). Each batch draws
one set of parameters per image, vectorised: no Python loop over images and no host sync.

Randomness: with ``seed``, each layer owns a ``torch.Generator`` on the input's device (results
are reproducible and independent of other code); without it, draws come from torch's global
generator (``kseq.utils.set_random_seed`` makes them reproducible). The draws cannot equal Keras's
(another RNG); distributions and transforms are Keras's.

Example:
    >>> import torch
    >>> layer = RandomFlip("horizontal", seed=0).eval()
    >>> bool((layer(torch.ones(2, 4, 4, 3)) == 1).all())
    True
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import Tensor

from kseq import config
from kseq.core import image_ops
from kseq.layers.layer import InputSpec, Layer, Shape

__all__ = ["RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip"]

HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL = "horizontal", "vertical", "horizontal_and_vertical"


class _ImageAugmentation(Layer):
    """Shared by the ``Random*`` layers: training switch, rank handling, seeded uniform draws."""

    # Keras's augmentation layers default to `training=True` when called directly (unlike
    # Dropout/BatchNormalization), also inside a model called directly; evaluate/predict (and
    # `model.eval()`) switch them off.
    default_training = True

    def __init__(
        self, seed: int | None = None, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = config.standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4)
        self._mark_built()

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        x = image_ops.as_float(inputs, self.dtype_policy.torch_compute_dtype)
        image_ops.check_image_rank(x.shape)
        if not (self.training if training is None else training):
            return self._inference(x)
        if x.dim() == 3:
            return self._augment(x.unsqueeze(0)).squeeze(0)
        return self._augment(x)

    def _augment(self, images: Tensor) -> Tensor:
        """The training-time transform of a batch ``(N, H, W, C)`` (or ``(N, C, H, W)``)."""
        raise NotImplementedError

    def _inference(self, images: Tensor) -> Tensor:
        return images

    def _uniform(self, n: int, low: float, high: float, like: Tensor) -> Tensor:
        """``n`` float32 draws from ``U[low, high)`` on ``like``'s device (float32 as in Keras, also
        for half-precision images: an angle in bfloat16 would be off by up to ~0.5 degree)."""
        u = torch.rand(n, generator=self._seeded_generator(like.device), device=like.device)
        return u * (high - low) + low

    def _spatial_size(self, images: Tensor) -> tuple[int, int]:
        h_axis, w_axis = image_ops.image_axes(self.data_format)
        return images.shape[h_axis], images.shape[w_axis]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "seed": self.seed}


class RandomFlip(_ImageAugmentation):
    """Randomly flip images left-right and/or top-bottom during training (each image with p=0.5).

    Args:
        mode: ``"horizontal"`` (left-right), ``"vertical"`` (top-bottom) or
            ``"horizontal_and_vertical"``. As in Keras, the last one draws ONE coin per image and
            flips both axes together (a 180-degree rotation) or neither.
        seed: Seed of the layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input/output shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last).

    Example:
        >>> image = torch.arange(4.0).reshape(1, 2, 2, 1)
        >>> RandomFlip("horizontal").eval()(image)[0, ..., 0]
        tensor([[0., 1.],
                [2., 3.]])
    """

    def __init__(
        self,
        mode: str = HORIZONTAL_AND_VERTICAL,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(
                f"RandomFlip layer {self.name} received an unknown mode argument {mode!r}. Expected one of "
                f"{(HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL)}."
            )
        self.mode = mode

    def _augment(self, images: Tensor) -> Tensor:
        h_axis, w_axis = image_ops.image_axes(self.data_format)
        axes = {
            HORIZONTAL: (w_axis,),
            VERTICAL: (h_axis,),
            HORIZONTAL_AND_VERTICAL: (h_axis, w_axis),
        }[self.mode]
        flip = self._uniform(images.shape[0], 0.0, 1.0, images) <= 0.5
        return torch.where(flip[:, None, None, None], images.flip(axes), images)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


class RandomContrast(_ImageAugmentation):
    """Randomly scale each image's contrast during training: ``(x - mean) * f + mean``, clipped.

    ``mean`` is per image and channel (over height and width); ``f`` is drawn per image from
    ``[1 - lower, 1 + upper]``.

    Args:
        factor: A float in ``[0, 1]`` or a pair ``(lower, upper)``. As installed Keras 3 computes it
            (its docstring says otherwise), a single float ``f`` gives ``(lower, upper) = (0, f)``,
            so contrast only increases; pass ``(f, f)`` for ``[1 - f, 1 + f]``.
        value_range: ``(low, high)`` range of the pixel values; outputs are clipped to it.
        seed: Seed of the layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input/output shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last).

    Example:
        >>> image = torch.tensor([[[0.0], [100.0]]])
        >>> RandomContrast((-0.5, 0.5))(image)[..., 0]   # f in [1 + 0.5, 1 + 0.5]
        tensor([[  0., 125.]])
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, **kwargs)
        self.factor = _symmetric_factor(factor, (0, 1))
        self.value_range = value_range

    def _augment(self, images: Tensor) -> Tensor:
        h_axis, w_axis = image_ops.image_axes(self.data_format)
        f = self._uniform(images.shape[0], 1.0 - self.factor[0], 1.0 + self.factor[1], images)
        mean = images.mean(dim=(h_axis, w_axis), keepdim=True)
        out = (images - mean) * f.to(images.dtype)[:, None, None, None] + mean
        return out.clamp(self.value_range[0], self.value_range[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomBrightness(_ImageAugmentation):
    """Randomly brighten or darken each image during training: ``x + delta``, clipped.

    ``delta`` is drawn per image from ``U[lower, upper] * (high - low)`` of ``value_range``.

    Args:
        factor: A float in ``[-1, 1]`` (``f`` means ``(-|f|, |f|)``) or a pair ``(lower, upper)``.
        value_range: ``(low, high)`` range of the pixel values; outputs are clipped to it.
        seed: Seed of the layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input/output shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last).

    Example:
        >>> RandomBrightness((0.1, 0.1), value_range=(0, 1))(torch.full((1, 2, 2, 1), 0.5))[0, 0, 0]
        tensor([0.6000])
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] | list[float] = (0, 255),
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, **kwargs)
        self.factor = _symmetric_factor(factor, (-1, 1))
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(
                f"The `value_range` argument should be a list of two numbers. Received: value_range={value_range}"
            )
        self.value_range = sorted(value_range)

    def _augment(self, images: Tensor) -> Tensor:
        low, high = self.value_range
        delta = self._uniform(images.shape[0], self.factor[0], self.factor[1], images) * (
            high - low
        )
        return (images + delta.to(images.dtype)[:, None, None, None]).clamp(low, high)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomCrop(_ImageAugmentation):
    """Crop a random ``(height, width)`` window during training; a centred one in inference.

    As in Keras, all images of a batch share one random window; an input not larger than the target
    on both sides is instead cropped to the target aspect ratio and resized (bilinear).

    Note:
        Installed Keras 3 returns the input *uncropped* in inference (keras-team/keras#21868, an open
        bug: the output shape then differs from ``compute_output_shape`` and a following layer fails
        in ``predict``). kseq does what Keras documents: a centred aspect-ratio crop (+ resize).

    Args:
        height: Output height.
        width: Output width.
        seed: Seed of the layer's own random generator. As in Keras, ``get_config`` reports a random
            integer when it is ``None``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last). Output shape:
    ``(batch, height, width, C)``.

    Example:
        >>> RandomCrop(2, 2, seed=3)(torch.ones(4, 6, 6, 1)).shape
        torch.Size([4, 2, 2, 1])
    """

    def __init__(
        self,
        height: int,
        width: int,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if seed is None:
            self.seed = random.randint(1, int(1e9))  # Keras's make_default_seed (config only)
        self.height = height
        self.width = width

    def _augment(self, images: Tensor) -> Tensor:
        in_height, in_width = self._spatial_size(images)
        if not (in_height > self.height and in_width > self.width):
            return self._inference(images)
        h_axis, w_axis = (a % 4 for a in image_ops.image_axes(self.data_format))
        # Offsets stay on the device (index_select, not slicing with a Python int: no host sync).
        generator, device = self._seeded_generator(images.device), images.device
        top, left = (
            torch.randint(0, slack + 1, (1,), generator=generator, device=device)
            for slack in (in_height - self.height, in_width - self.width)
        )
        rows = top + torch.arange(self.height, device=device)
        cols = left + torch.arange(self.width, device=device)
        return images.index_select(h_axis, rows).index_select(w_axis, cols)

    def _inference(self, images: Tensor) -> Tensor:
        return image_ops.resize(
            images,
            (self.height, self.width),
            crop_to_aspect_ratio=True,
            data_format=self.data_format,
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return image_ops.resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "height": self.height, "width": self.width}


# --------------------------------------------------------------------------- factor parsing
def _symmetric_factor(factor: Any, bounds: tuple[float, float]) -> tuple[float, float]:
    """Keras's ``BaseImagePreprocessingLayer._set_factor``: ``f`` -> ``(max(-|f|, low), |f|)``."""
    low, high = bounds
    message = (
        f"The `factor` argument should be a number (or a list of two numbers) in the range [{low}, {high}]. "
        f"Received: factor={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(message)
        lower, upper = sorted(factor)
        return lower, upper
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < low or factor > high:
            raise ValueError(message)
        factor = abs(factor)
        return max(-factor, low), factor
    raise ValueError(message)
