"""Random geometric augmentation by affine resampling: ``RandomRotation``, ``RandomZoom`` and
``RandomTranslation``.

Each training batch draws one transform per image (Keras's distributions), builds Keras's
8-number transform rows ``(N, 8)`` and resamples the whole batch with one ``grid_sample`` call
(:func:`kseq.core.image_ops.affine_transform`), with Keras's fill modes and interpolations.
Training switch, seeding and shapes are :class:`kseq.layers.augmentation._ImageAugmentation`'s.

Example:
    >>> import torch
    >>> image = torch.arange(4.0).reshape(2, 2, 1)
    >>> RandomRotation((0.5, 0.5))(image)[..., 0].round()   # half a turn
    tensor([[3., 2.],
            [1., 0.]])
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from kseq.core import image_ops
from kseq.layers.augmentation import _ImageAugmentation, _symmetric_factor

__all__ = ["RandomRotation", "RandomTranslation", "RandomZoom"]


class _AffineAugmentation(_ImageAugmentation):
    """Rotation / zoom / translation: a Keras transform row per image, then one affine resample."""

    _FILL_MODES = ("reflect", "wrap", "constant", "nearest")
    _INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(
        self,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in self._FILL_MODES:
            raise NotImplementedError(
                f"Unknown `fill_mode` {fill_mode}. Expected of one {self._FILL_MODES}."
            )
        if interpolation not in self._INTERPOLATIONS:
            raise NotImplementedError(
                f"Unknown `interpolation` {interpolation}. Expected of one {self._INTERPOLATIONS}."
            )
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _transforms(self, n: int, height: int, width: int, like: Tensor) -> Tensor:
        """``(n, 8)`` Keras transform rows (output pixel -> input point), drawn at random."""
        raise NotImplementedError

    def _augment(self, images: Tensor) -> Tensor:
        height, width = self._spatial_size(images)
        transforms = self._transforms(images.shape[0], height, width, images)
        return image_ops.affine_transform(
            images,
            transforms,
            interpolation=self.interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
        }


def _transform_rows(
    a0: Tensor, a1: Tensor, a2: Tensor, b0: Tensor, b1: Tensor, b2: Tensor
) -> Tensor:
    zeros = torch.zeros_like(a0)
    return torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], dim=1)


class RandomRotation(_AffineAugmentation):
    """Randomly rotate images about their centre during training.

    Args:
        factor: Fraction of a full turn: ``0.2`` draws angles in ``[-72, 72]`` degrees; a pair
            ``(lower, upper)`` draws in ``[lower * 360, upper * 360]``. Positive is
            counter-clockwise: ``factor=(0.25, 0.25)`` is ``np.rot90``.
        fill_mode: Outside points: ``"reflect"`` (default, ``d c b a | a b c d | d c b a``),
            ``"wrap"``, ``"constant"`` (``fill_value``) or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: Seed of the layer's own random generator.
        fill_value: Value for ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input/output shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last).

    Example:
        >>> image = torch.arange(4.0).reshape(2, 2, 1)
        >>> RandomRotation((0.25, 0.25))(image)[..., 0].round()
        tensor([[1., 3.],
                [0., 2.]])
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _symmetric_factor(factor, (-1, 1))

    def _transforms(self, n: int, height: int, width: int, like: Tensor) -> Tensor:
        angle = self._uniform(n, self.factor[0] * 360.0, self.factor[1] * 360.0, like) * (
            math.pi / 180.0
        )
        cos, sin = torch.cos(angle), torch.sin(angle)
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        return _transform_rows(
            cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_AffineAugmentation):
    """Randomly zoom images in or out (about their centre) during training.

    Args:
        height_factor: Fraction in ``(-1, 1]``, or a pair: the vertical zoom is ``1 + U[lower,
            upper]`` of the image height shown. Positive values zoom out, negative values zoom in.
        width_factor: The same for the width; ``None`` (default) zooms both axes by the same draw
            (preserving the aspect ratio).
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: Seed of the layer's own random generator.
        fill_value: Value for ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input/output shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last).

    Example:
        >>> RandomZoom(0.2, seed=1)(torch.ones(2, 8, 8, 3)).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(
        self,
        height_factor: float | tuple[float, float],
        width_factor: float | tuple[float, float] | None = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        message = (
            "The `height_factor` and `width_factor` arguments should be a number (or a list of two numbers) "
            "in the range (-1.0, 1.0]. "
        )
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height_range = _bounded_factor(
            height_factor, "height_factor", message, lower_open=True
        )
        self._width_range = (
            None
            if width_factor is None
            else _bounded_factor(width_factor, "width_factor", message, lower_open=True)
        )

    def _transforms(self, n: int, height: int, width: int, like: Tensor) -> Tensor:
        zoom_y = 1.0 + self._uniform(n, *self._height_range, like)
        zoom_x = (
            zoom_y
            if self._width_range is None
            else 1.0 + self._uniform(n, *self._width_range, like)
        )
        zeros = torch.zeros_like(zoom_x)
        return _transform_rows(
            zoom_x,
            zeros,
            (width - 1) / 2.0 * (1.0 - zoom_x),
            zeros,
            zoom_y,
            (height - 1) / 2.0 * (1.0 - zoom_y),
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


class RandomTranslation(_AffineAugmentation):
    """Randomly shift images during training, filling the uncovered area per ``fill_mode``.

    Args:
        height_factor: Fraction of the height in ``[-1, 1]``, or a pair ``(lower, upper)``: the
            image moves down by ``U[lower, upper] * height`` pixels (negative: up).
        width_factor: The same for the width (positive: right).
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: Seed of the layer's own random generator.
        fill_value: Value for ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input/output shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last).

    Example:
        >>> image = torch.arange(1.0, 5.0).reshape(1, 1, 4, 1)
        >>> RandomTranslation(0, (0.25, 0.25), fill_mode="constant")(image)[0, 0, :, 0]
        tensor([0., 1., 2., 3.])
    """

    def __init__(
        self,
        height_factor: float | tuple[float, float],
        width_factor: float | tuple[float, float],
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        message = "The `factor` argument should be a number (or a list of two numbers) in the range [-1.0, 1.0]. "
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height_range = _bounded_factor(height_factor, "height_factor", message)
        self._width_range = _bounded_factor(width_factor, "width_factor", message)

    def _transforms(self, n: int, height: int, width: int, like: Tensor) -> Tensor:
        dy = self._uniform(n, *self._height_range, like) * height
        dx = self._uniform(n, *self._width_range, like) * width
        ones, zeros = torch.ones_like(dx), torch.zeros_like(dx)
        return _transform_rows(ones, zeros, -dx, zeros, ones, -dy)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


def _bounded_factor(
    factor: Any, name: str, message: str, lower_open: bool = False
) -> tuple[float, float]:
    """Zoom/translation factors: each number in ``[-1, 1]`` (``(-1, 1]`` for zoom); ``f`` -> ``(-|f|, |f|)``."""

    def check(value: float) -> None:
        if value > 1.0 or value < -1.0 or (lower_open and value == -1.0):
            raise ValueError(message + f"Received: input_number={value}")

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(message + f"Received: {name}={factor}")
        check(factor[0])
        check(factor[1])
        lower, upper = sorted(factor)
        return lower, upper
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        check(factor)
        return -abs(factor), abs(factor)
    raise ValueError(message + f"Received: {name}={factor}")
