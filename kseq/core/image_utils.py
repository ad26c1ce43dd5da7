"""Keras's image file helpers without TensorFlow: ``load_img``, ``img_to_array``, ``array_to_img``,
``save_img`` and ``smart_resize`` (``keras.utils`` / ``keras.preprocessing.image``).

Images are PIL images (Pillow is the optional ``images`` extra: ``pip install "kseq[images]"``),
arrays are NumPy, as in Keras; ``smart_resize`` takes NumPy arrays or tensors and returns the same
kind.

Example:
    >>> import numpy as np
    >>> img = array_to_img(np.zeros((4, 6, 3)))
    >>> img.size, img_to_array(img).shape
    ((6, 4), (4, 6, 3))
"""

from __future__ import annotations

import io
import pathlib
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from kseq import config
from kseq.core import image_ops

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]

_RESAMPLING = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil(function: str) -> Any:
    # Imported on first use: Pillow is an optional extra, and `import kseq` stays light.
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            f"Could not import PIL.Image. The use of `{function}` requires PIL: install it with "
            '`pip install "kseq[images]"` (or `pip install pillow`).'
        ) from None
    return Image


def array_to_img(
    x: Any, data_format: str | None = None, scale: bool = True, dtype: str | None = None
) -> Any:
    """A rank-3 array as a PIL image (RGB, RGBA, or L/I for one channel).

    Args:
        x: ``(height, width, channels)`` (or channels-first) array.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the global setting).
        scale: Rescale values to 0..255 (min to 0, max to 255) first.
        dtype: The dtype the array is read as (default: ``floatx()``).

    Example:
        >>> import numpy as np
        >>> array_to_img(np.ones((2, 2, 1))).mode
        'L'
    """
    data_format = config.standardize_data_format(data_format)
    pil = _pil("array_to_img")
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(
            f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}"
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return pil.fromarray(x.astype("uint8"), "RGBA" if channels == 4 else "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return pil.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img: Any, data_format: str | None = None, dtype: str | None = None) -> np.ndarray:
    """A PIL image (or anything array-like) as a rank-3 NumPy array.

    Args:
        img: The image.
        data_format: ``"channels_last"`` (``(H, W, C)``) or ``"channels_first"``.
        dtype: Default ``floatx()`` (float32).

    Example:
        >>> import numpy as np
        >>> img_to_array(np.zeros((3, 5)), data_format="channels_first").shape
        (1, 3, 5)
    """
    data_format = config.standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        shape = (1, *x.shape) if data_format == "channels_first" else (*x.shape, 1)
        return x.reshape(shape)
    raise ValueError(f"Unsupported image shape: {x.shape}")


def save_img(
    path: Any,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Write an image array to a file (format from the suffix unless ``file_format`` is given).

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> save_img(path, np.zeros((2, 3, 3))); load_img(path).size
        (3, 2)
    """
    data_format = config.standardize_data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2
        )
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: Sequence[int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Any:
    """Read an image file (a path or ``io.BytesIO``) as a PIL image, as Keras's ``load_img``.

    Args:
        path: The file.
        color_mode: ``"rgb"``, ``"rgba"`` or ``"grayscale"``.
        target_size: ``(height, width)`` to resize to, or ``None``.
        interpolation: PIL resampling: ``"nearest"``, ``"bilinear"``, ``"bicubic"``,
            ``"hamming"``, ``"box"`` or ``"lanczos"``.
        keep_aspect_ratio: Crop the centred window of the target aspect ratio before resizing.

    Example:
        >>> import io
        >>> from PIL import Image
        >>> buffer = io.BytesIO(); Image.new("RGB", (8, 4)).save(buffer, format="PNG")
        >>> load_img(buffer, color_mode="grayscale", target_size=(2, 2)).size
        (2, 2)
    """
    pil = _pil("load_img")
    if isinstance(path, io.BytesIO):
        img = pil.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            img = pil.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    modes = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",), "rgb": ("RGB",)}
    if color_mode not in modes:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if img.mode not in modes[color_mode]:
        img = img.convert(modes[color_mode][0])
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])
    if img.size == size:
        return img
    if interpolation not in _RESAMPLING:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported methods are "
            f"{', '.join(_RESAMPLING)}"
        )
    resample = getattr(pil.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_height = min(height, width * size[1] // size[0])
    crop_width = min(width, height * size[0] // size[1])
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return img.resize(size, resample, box=(left, top, left + crop_width, top + crop_height))


def smart_resize(
    x: Any, size: Sequence[int], interpolation: str = "bilinear", data_format: str = "channels_last"
) -> Any:
    """Resize to ``size`` without distorting the aspect ratio: crop the largest centred window of
    the target ratio, then resize (Keras's ``smart_resize``).

    Args:
        x: ``(H, W, C)`` or ``(batch, H, W, C)`` image(s) (or channels-first), NumPy or tensor.
        size: ``(height, width)``.
        interpolation: As :func:`kseq.core.image_ops.resize`.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> import numpy as np
        >>> smart_resize(np.ones((10, 20, 3)), (5, 5)).shape
        (5, 5, 3)
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    img = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if not 3 <= img.dim() <= 4:
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or `(batch_size, "
            "height, width, channels)`, but got input with incorrect rank, of shape "
            f"{tuple(img.shape)}."
        )
    h_axis = img.dim() - (3 if data_format == "channels_last" else 2)
    height, width = img.shape[h_axis], img.shape[h_axis + 1]
    target_height, target_width = size
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    top, left = int(float(height - crop_height) / 2), int(float(width - crop_width) / 2)
    img = img.narrow(h_axis, top, crop_height).narrow(h_axis + 1, left, crop_width)
    out = image_ops.resize(img, tuple(size), interpolation=interpolation, data_format=data_format)
    return out if isinstance(x, torch.Tensor) else out.numpy()
