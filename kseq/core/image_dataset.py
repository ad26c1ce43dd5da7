"""``image_dataset_from_directory``: a folder of images (one sub-folder per class) as a torch
``DataLoader`` of ``(images, labels)`` batches, with Keras 3's arguments, defaults, messages and
errors, and without TensorFlow (Pillow reads the files: ``pip install "kseq[images]"``).

Images come out as Keras yields them: float32, ``(batch, height, width, channels)`` in
``channels_last`` (values 0..255, resized with :func:`kseq.core.image_ops.resize`, which computes
what ``keras.ops.image.resize`` does). The loader's ``dataset`` is a map-style
``ImageFileDataset`` that plain PyTorch code can wrap in its own ``DataLoader`` (``num_workers``...).

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for name in ("cat/a.png", "dog/b.png"):
    ...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
    ...     Image.fromarray(np.zeros((8, 8, 3), "uint8")).save(os.path.join(root, name))
    >>> loader = image_dataset_from_directory(root, image_size=(4, 4), seed=1)
    Found 2 files belonging to 2 classes.
    >>> images, labels = next(iter(loader))
    >>> loader.class_names, tuple(images.shape), images.dtype, labels.dtype
    (['cat', 'dog'], (2, 4, 4, 3), torch.float32, torch.int32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from kseq import config
from kseq.core import directory_index as index
from kseq.core import image_ops
from kseq.core.data_loader import make_loader

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is the optional "images" extra
    Image = None

__all__ = ["ImageFileDataset", "image_dataset_from_directory", "load_image"]

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
KERAS_INTERPOLATIONS = (
    "bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic",
)  # fmt: skip
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def _require_pil() -> Any:
    if Image is None:
        raise ImportError(
            "Could not import PIL.Image. `image_dataset_from_directory` requires Pillow: "
            'install it with `pip install "kseq[images]"` (or `pip install pillow`).'
        )
    return Image


def load_image(
    path: str,
    image_size: Sequence[int],
    num_channels: int,
    interpolation: str = "bilinear",
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str = "channels_last",
) -> Tensor:
    """Read one image file as a float32 tensor resized to ``image_size`` (Keras's loader).

    Args:
        path: The file.
        image_size: ``(height, width)``.
        num_channels: 1 (grayscale), 3 (RGB) or 4 (RGBA).
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        crop_to_aspect_ratio: Crop the largest centred window of the target aspect ratio first.
        pad_to_aspect_ratio: Pad to the target aspect ratio first.
        data_format: ``"channels_last"`` (``(H, W, C)``) or ``"channels_first"``.

    Example:
        >>> import os, tempfile
        >>> from PIL import Image
        >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> Image.new("L", (6, 4), color=200).save(path)
        >>> image = load_image(path, (2, 3), 1)
        >>> tuple(image.shape), float(image.max())
        ((2, 3, 1), 200.0)
    """
    pil = _require_pil()
    with pil.open(path) as img:
        if num_channels == 1:
            # Keep 8-, 16- and 32-bit grayscale as they are; anything else becomes 8-bit.
            if img.mode not in ("L", "I;16", "I"):
                img = img.convert("L")
        elif num_channels == 4:
            if img.mode != "RGBA":
                img = img.convert("RGBA")
        elif num_channels == 3:
            if img.mode != "RGB":
                img = img.convert("RGB")
        else:
            raise ValueError(
                f"num_channels must be 1, 3 or 4. Received: num_channels={num_channels}"
            )
        array = np.array(img, dtype="float32")
    image = torch.from_numpy(array)
    if image.dim() == 2:
        image = image.unsqueeze(-1)
    return image_ops.resize(
        image,
        tuple(image_size),
        interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio,
        pad_to_aspect_ratio=pad_to_aspect_ratio,
        data_format="channels_last",
    ).permute(*((2, 0, 1) if data_format == "channels_first" else (0, 1, 2)))


class ImageFileDataset(Dataset):
    """A map-style torch ``Dataset`` of image files: item ``i`` is ``(image, label)`` (or only the
    image when there are no labels), read and resized when asked for.

    Args:
        file_paths: The image files.
        labels: Encoded labels (one row per file), or ``None``.
        image_size: ``(height, width)``.
        num_channels: 1, 3 or 4.
        interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio, data_format: As
            :func:`load_image`.
        class_names: The class names (``None`` without labels).

    Example:
        >>> ImageFileDataset([], None, (8, 8), 3).class_names is None
        True
    """

    def __init__(
        self,
        file_paths: Sequence[str],
        labels: Tensor | None,
        image_size: Sequence[int],
        num_channels: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        data_format: str = "channels_last",
        class_names: list[str] | None = None,
    ) -> None:
        self.file_paths = list(file_paths)
        self.labels = labels
        self.image_size = tuple(image_size)
        self.num_channels = num_channels
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format
        self.class_names = class_names

    def __len__(self) -> int:
        return len(self.file_paths)

    def __getitem__(self, index: int) -> Any:
        image = load_image(
            self.file_paths[index],
            self.image_size,
            self.num_channels,
            self.interpolation,
            self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio,
            self.data_format,
        )
        return image if self.labels is None else (image, self.labels[index])


def image_dataset_from_directory(
    directory: str,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: int | Sequence[int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    format: str = "tf",
    verbose: bool = True,
) -> DataLoader | list[DataLoader]:
    """Generates a dataset from image files in a directory (``keras.utils.image_dataset_from_directory``).

    With ``main_directory/class_a/*.jpg`` and ``main_directory/class_b/*.jpg``, the batches hold
    images from both folders with labels 0 (``class_a``) and 1 (``class_b``). Supported formats:
    ``.jpeg``, ``.jpg``, ``.png``, ``.bmp``, ``.gif`` (first frame).

    Args:
        directory: Where the data is (one sub-folder per class when ``labels="inferred"``).
        labels: ``"inferred"`` (from the folder names), ``None`` (no labels) or a list/tuple of
            integer labels in the alphanumeric order of the file paths.
        label_mode: ``"int"`` (int32 ``(batch,)``), ``"categorical"`` (float32 one-hot),
            ``"binary"`` (float32 ``(batch, 1)``, exactly 2 classes) or ``None`` (images only).
        class_names: With ``labels="inferred"``, the explicit order of the classes (names of
            sub-folders); otherwise alphanumeric order.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"`` (1, 3 or 4 channels).
        batch_size: Batch size (``None``: individual samples).
        image_size: ``(height, width)`` every image is resized to.
        shuffle: Shuffle (the file order once from ``seed``, as Keras, then every epoch);
            ``False`` keeps the alphanumeric order.
        seed: Random seed for shuffling.
        validation_split: Fraction of the files (the last ones after the seeded shuffle) to
            reserve for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns both loaders).
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"`` (Keras's other names need
            TensorFlow's resize and raise).
        follow_links: Visit sub-folders that are symbolic links.
        crop_to_aspect_ratio: Resize without distortion by cropping to the target aspect ratio.
        pad_to_aspect_ratio: Resize without distortion by padding to the target aspect ratio.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        format: ``"tf"`` or ``"grain"``, accepted for Keras code; both give a torch ``DataLoader``.
        verbose: Print the number of files and classes found.

    Returns:
        A ``torch.utils.data.DataLoader`` yielding ``(images, labels)`` (or ``images``), with
        ``class_names`` and ``file_paths`` attributes; ``[train, validation]`` for
        ``subset="both"``. ``fit`` takes it directly.

    Example:
        >>> image_dataset_from_directory("photos", subset="training")
        Traceback (most recent call last):
        ...
        ValueError: If `subset` is set, `validation_split` must be set, and inversely.
    """
    index.check_labels_arg(labels, class_names, "image")
    index.check_label_mode(label_mode)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if color_mode not in CHANNELS:
        raise ValueError(
            '`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
            f"Received: color_mode={color_mode}"
        )
    num_channels = CHANNELS[color_mode]
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            "Invalid `image_size` value. Expected a tuple of 2 integers. "
            f"Received: image_size={image_size}"
        )
    interpolation = interpolation.lower()
    if interpolation not in KERAS_INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {KERAS_INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    index.check_format(format)
    index.check_validation_split_arg(validation_split, subset, shuffle, seed)
    # Errors Keras raises when it loads the first image, raised here, before any file is read.
    image_ops.resize(
        torch.zeros(1, 1, 1),
        (1, 1),
        interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio,
        pad_to_aspect_ratio=pad_to_aspect_ratio,
        data_format="channels_last",
    )
    _require_pil()
    if seed is None:
        seed = np.random.randint(1e6)
    image_paths, found_labels, names = index.index_directory(
        directory,
        labels,
        formats=ALLOWLIST_FORMATS,
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
        follow_links=follow_links,
        verbose=verbose,
    )
    if label_mode == "binary" and len(names or ()) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={names}"
        )
    data_format = config.standardize_data_format(data_format)

    subsets = ["training", "validation"] if subset == "both" else [subset]
    splits = [
        index.training_or_validation_split(image_paths, found_labels, validation_split, name)
        for name in subsets
    ]
    for name, (paths, _) in zip(subsets, splits, strict=True):
        if not paths:
            what = f"{name} images" if subset == "both" else "images"
            raise ValueError(
                f"No {what} found in directory {directory}. Allowed formats: {ALLOWLIST_FORMATS}"
            )
    loaders = []
    for position, (paths, subset_labels) in enumerate(splits):
        dataset = ImageFileDataset(
            paths,
            index.encode_labels(subset_labels, label_mode, len(names) if names else 0),
            image_size,
            num_channels,
            interpolation,
            crop_to_aspect_ratio,
            pad_to_aspect_ratio,
            data_format,
            names,
        )
        # With subset="both", Keras shuffles the training set only.
        loaders.append(
            make_loader(
                dataset,
                batch_size,
                shuffle and position == 0,
                seed,
                class_names=names,
                file_paths=paths,
            )
        )
    return loaders if subset == "both" else loaders[0]
