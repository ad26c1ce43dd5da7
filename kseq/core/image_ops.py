"""Functional image ops behind the preprocessing layers: ``resize`` and ``affine_transform``.

They reproduce what ``keras.ops.image.resize`` / ``keras.ops.image.affine_transform`` compute on
Keras's torch backend, as batched torch ops:

* ``resize`` is ``F.interpolate`` (``align_corners=False``, ``"nearest"`` meaning torch's
  ``"nearest-exact"``), after Keras's crop-to / pad-to-aspect-ratio box arithmetic;
* ``affine_transform`` maps every output pixel to an input coordinate (Keras's 8-number transform
  rows) and samples them with one ``F.grid_sample`` call for the whole batch. Keras's torch backend
  runs scipy-style ``map_coordinates`` per image; each Keras fill mode is a ``grid_sample`` padding
  mode here (``constant`` = ``zeros`` around ``image - fill_value``, ``nearest`` = ``border``,
  ``reflect`` = ``reflection``, ``mirror`` = ``reflection`` with ``align_corners=True``, ``wrap`` =
  coordinates modulo the size over a one-pixel circular pad), which gives the same values.

Images are ``(batch, height, width, channels)`` (``channels_last``) or ``(batch, channels,
height, width)``, batched or not (rank 4 or 3).

Example:
    >>> import torch
    >>> image = torch.arange(16.0).reshape(1, 4, 4, 1)
    >>> resize(image, (2, 2))[0, ..., 0]
    tensor([[ 2.5000,  4.5000],
            [10.5000, 12.5000]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq import config

__all__ = ["affine_transform", "center_crop", "resize"]

RESIZE_INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
AFFINE_INTERPOLATIONS = ("nearest", "bilinear")
# Keras fill mode -> (grid_sample padding_mode, align_corners)
AFFINE_FILL_MODES = {
    "constant": ("zeros", False),
    "nearest": ("border", False),
    "reflect": ("reflection", False),
    "mirror": ("reflection", True),
    "wrap": ("border", False),
}


def as_float(x: Any, dtype: torch.dtype) -> Tensor:
    """``x`` as a floating tensor: floating tensors pass through, anything else becomes ``dtype``.

    Example:
        >>> as_float(torch.tensor([1, 2], dtype=torch.uint8), torch.float32)
        tensor([1., 2.])
    """
    x = x if isinstance(x, Tensor) else torch.as_tensor(x)
    return x if x.is_floating_point() else x.to(dtype)


def image_axes(data_format: str) -> tuple[int, int]:
    """The (height, width) axes, counted from the end, of an image in ``data_format``.

    Example:
        >>> image_axes("channels_last"), image_axes("channels_first")
        ((-3, -2), (-2, -1))
    """
    return (-3, -2) if data_format == "channels_last" else (-2, -1)


def check_image_rank(shape: Sequence[Any]) -> None:
    """Raise Keras's error unless ``shape`` is an image (rank 3) or a batch of images (rank 4).

    Example:
        >>> check_image_rank((None, 8, 8, 3))  # a batch of images: no error
        >>> check_image_rank((8, 3))
        Traceback (most recent call last):
        ...
        ValueError: Expected image tensor to have rank 3 (single image) or 4 (batch of images). Received: data.shape=(8, 3)
    """
    if len(shape) not in (3, 4):
        raise ValueError(
            "Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
            f"Received: data.shape={tuple(shape)}"
        )


def resized_shape(
    input_shape: Sequence[Any], height: int, width: int, data_format: str
) -> tuple[Any, ...]:
    """``input_shape`` with its height and width replaced (the output shape of a crop/resize).

    Example:
        >>> resized_shape((None, 32, 32, 3), 8, 6, "channels_last")
        (None, 8, 6, 3)
    """
    check_image_rank(input_shape)
    shape = list(input_shape)
    h_axis, w_axis = image_axes(data_format)
    shape[h_axis], shape[w_axis] = height, width
    return tuple(shape)


def aspect_crop_box(
    height: int, width: int, target_height: int, target_width: int
) -> tuple[int, int, int, int]:
    """Keras's largest centred box of the target aspect ratio: ``(top, left, box_height, box_width)``.

    Example:
        >>> aspect_crop_box(10, 20, 5, 5)
        (0, 5, 10, 10)
    """
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    return (
        int(float(height - crop_height) / 2),
        int(float(width - crop_width) / 2),
        crop_height,
        crop_width,
    )


def center_crop(images: Tensor, height: int, width: int, data_format: str) -> Tensor:
    """Keras's ``CenterCrop``: the central window, or an aspect-ratio crop + resize when too small.

    Example:
        >>> center_crop(torch.ones(1, 2, 2, 1), 4, 4, "channels_last").shape
        torch.Size([1, 4, 4, 1])
    """
    check_image_rank(images.shape)
    h_axis, w_axis = image_axes(data_format)
    h_diff, w_diff = images.shape[h_axis] - height, images.shape[w_axis] - width
    if h_diff < 0 or w_diff < 0:
        return resize(images, (height, width), crop_to_aspect_ratio=True, data_format=data_format)
    images = images.narrow(h_axis % images.dim(), h_diff // 2, height)
    return images.narrow(w_axis % images.dim(), w_diff // 2, width)


def _to_nchw(images: Tensor, data_format: str) -> tuple[Tensor, bool]:
    if images.dim() not in (3, 4):
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: images.shape={tuple(images.shape)}"
        )
    unbatched = images.dim() == 3
    if unbatched:
        images = images.unsqueeze(0)
    if data_format == "channels_last":
        images = images.permute(0, 3, 1, 2)  # zero-copy NCHW view (channels_last memory format)
    return images, unbatched


def _from_nchw(images: Tensor, data_format: str, unbatched: bool) -> Tensor:
    if data_format == "channels_last":
        images = images.permute(0, 2, 3, 1)
    return images.squeeze(0) if unbatched else images


def _restore_dtype(images: Tensor, dtype: torch.dtype) -> Tensor:
    if images.dtype == dtype:
        return images
    if not dtype.is_floating_point:
        images = torch.round(images)
        info = torch.iinfo(dtype)
        images = images.clamp(info.min, info.max)
    return images.to(dtype)


def resize(
    images: Tensor,
    size: Sequence[int],
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> Tensor:
    """Resize images to ``size = (height, width)``, as ``keras.ops.image.resize`` (torch backend).

    Args:
        images: ``(batch, H, W, C)`` / ``(H, W, C)`` (or channels-first) images of any dtype; integer
            images are resized in float32 and rounded back to their dtype.
        size: Target ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        antialias: Low-pass filter when downsampling (bilinear / bicubic only).
        crop_to_aspect_ratio: First crop the largest centred window with the target aspect ratio.
        pad_to_aspect_ratio: First pad the short side evenly with ``fill_value`` to that ratio.
        fill_mode: Only ``"constant"``.
        fill_value: Padding value for ``pad_to_aspect_ratio``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the global setting).

    Returns:
        The resized images, with the input's dtype.

    Example:
        >>> resize(torch.ones(2, 4, 6, 3), (2, 3)).shape
        torch.Size([2, 2, 3, 3])
    """
    data_format = config.standardize_data_format(data_format)
    _check_resize_args(interpolation, fill_mode, crop_to_aspect_ratio, pad_to_aspect_ratio)
    if len(size) != 2:
        raise ValueError(
            f"Argument `size` must be a tuple of two elements (height, width). Received: size={size}"
        )
    target_height, target_width = (int(s) for s in size)
    x, unbatched = _to_nchw(images, data_format)
    dtype = x.dtype
    if dtype not in (torch.float32, torch.float64):
        x = x.to(torch.float32)
    height, width = x.shape[-2], x.shape[-1]
    if crop_to_aspect_ratio:
        top, left, box_height, box_width = aspect_crop_box(
            height, width, target_height, target_width
        )
        x = x[:, :, top : top + box_height, left : left + box_width]
    elif pad_to_aspect_ratio:
        pad_height = max(height, int(float(width * target_height) / target_width))
        pad_width = max(width, int(float(height * target_width) / target_height))
        top, left = int(float(pad_height - height) / 2), int(float(pad_width - width) / 2)
        if top or left:
            x = F.pad(x, (left, left, top, top), value=float(fill_value))
    if tuple(x.shape[-2:]) != (
        target_height,
        target_width,
    ):  # at the same size every mode is exact identity
        mode = RESIZE_INTERPOLATIONS[interpolation]
        smooth = mode in ("bilinear", "bicubic")
        x = F.interpolate(
            x,
            size=(target_height, target_width),
            mode=mode,
            align_corners=False if smooth else None,
            antialias=bool(antialias) and smooth,
        )
        if mode == "bicubic" and dtype == torch.uint8:
            x = x.clamp(0, 255)
    return _from_nchw(_restore_dtype(x, dtype), data_format, unbatched)


def _check_resize_args(interpolation: str, fill_mode: str, crop: bool, pad: bool) -> None:
    if interpolation in ("lanczos3", "lanczos5"):
        raise ValueError(
            "Resizing with Lanczos interpolation is not supported by the PyTorch backend. "
            f"Received: interpolation={interpolation}."
        )
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {set(RESIZE_INTERPOLATIONS)}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode != "constant":
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Only `'constant'` is supported. Received: fill_mode={fill_mode}"
        )
    if pad and crop:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`."
        )


def affine_transform(
    images: Tensor,
    transform: Any,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> Tensor:
    """Apply per-image projective transforms, as ``keras.ops.image.affine_transform``.

    Each transform row ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps an output pixel ``(x, y)`` to the
    input point ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with ``k = c0 x + c1 y + 1``
    (pixel centres at integer coordinates). All images are sampled by one ``grid_sample`` call.

    Args:
        images: ``(batch, H, W, C)`` / ``(H, W, C)`` images (or channels-first).
        transform: ``(batch, 8)`` or ``(8,)`` transforms (tensor or array).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: How points outside the input are filled: ``"constant"`` (``fill_value``),
            ``"nearest"`` (edge pixel), ``"reflect"`` (``d c b a | a b c d | d c b a``), ``"mirror"``
            (``d c b | a b c d | c b a``) or ``"wrap"`` (``a b c d | a b c d``).
        fill_value: The value used by ``fill_mode="constant"``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the global setting).

    Returns:
        The transformed images (same shape; integer images are rounded back to their dtype).

    Note:
        Keras's torch backend applies ``c0``/``c1`` to the channel index instead of dividing by
        ``k``; the kseq layers only use affine transforms (``c0 = c1 = 0``), where both agree.

    Example:
        >>> image = torch.arange(4.0).reshape(1, 2, 2, 1)
        >>> shift_left = torch.tensor([[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]])
        >>> affine_transform(image, shift_left, fill_mode="constant")[0, ..., 0]
        tensor([[1., 0.],
                [3., 0.]])
    """
    data_format = config.standardize_data_format(data_format)
    if interpolation not in AFFINE_INTERPOLATIONS:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected of one {set(AFFINE_INTERPOLATIONS)}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode not in AFFINE_FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected of one {set(AFFINE_FILL_MODES)}. "
            f"Received: fill_mode={fill_mode}"
        )
    x, unbatched = _to_nchw(images, data_format)
    dtype = x.dtype
    if not dtype.is_floating_point:
        x = x.to(torch.float32)
    transform = torch.as_tensor(transform, device=x.device).to(x.dtype)
    if transform.dim() not in (1, 2) or transform.shape[-1] != 8:
        raise ValueError(
            "Invalid transform shape: expected (8,) (single transform) or (batch, 8) (batch of "
            f"transforms). Received input with shape: transform.shape={tuple(transform.shape)}"
        )
    grid = _sampling_grid(transform.reshape(-1, 8), x.shape[-2], x.shape[-1], fill_mode)
    padding_mode, align_corners = AFFINE_FILL_MODES[fill_mode]
    shift = float(fill_value) if fill_mode == "constant" else 0.0
    if fill_mode == "wrap":  # one circular pixel right/below, so that index `size` reads index 0
        x = F.pad(x, (0, 1, 0, 1), mode="circular")
    out = F.grid_sample(
        x - shift if shift else x,
        grid,
        mode=interpolation,
        padding_mode=padding_mode,
        align_corners=align_corners,
    )
    if shift:
        out = out + shift
    return _from_nchw(_restore_dtype(out, dtype), data_format, unbatched)


def _sampling_grid(transform: Tensor, height: int, width: int, fill_mode: str) -> Tensor:
    """The ``(batch, H, W, 2)`` grid_sample grid of the input points each output pixel reads."""
    a0, a1, a2, b0, b1, b2, c0, c1 = transform[:, :, None, None].unbind(1)  # each (batch, 1, 1)
    ys = torch.arange(height, device=transform.device, dtype=transform.dtype)[:, None]
    xs = torch.arange(width, device=transform.device, dtype=transform.dtype)[None, :]
    k = c0 * xs + c1 * ys + 1.0
    src_x = (a0 * xs + a1 * ys + a2) / k
    src_y = (b0 * xs + b1 * ys + b2) / k
    _, align_corners = AFFINE_FILL_MODES[fill_mode]
    if fill_mode == "wrap":
        src_x, src_y = torch.remainder(src_x, width), torch.remainder(src_y, height)
        width, height = width + 1, height + 1
    return torch.stack(
        (_normalize(src_x, width, align_corners), _normalize(src_y, height, align_corners)), dim=-1
    )


def _normalize(coordinate: Tensor, size: int, align_corners: bool) -> Tensor:
    """Pixel coordinate -> grid_sample's [-1, 1] coordinate."""
    if align_corners:
        return coordinate * (2.0 / max(size - 1, 1)) - 1.0
    return (coordinate * 2.0 + 1.0) / size - 1.0
