"""kseq's torch-native files: ``.weights.pt`` and training checkpoints, without h5py.

A ``.weights.pt`` file is ``torch.save`` of a plain ``{"<path>/vars/<i>": tensor}`` dict, with the
same Keras paths and Keras-layout arrays as a ``.weights.h5`` file (so the two convert 1:1), and
anyone can read it with ``torch.load(path, weights_only=True)``.

Reading never unpickles anything but tensors and plain containers: every torch file goes through
:func:`safe_torch_load`, which first checks the zip container with Python's ``zipfile`` (member
names, no ``..`` or absolute paths, no duplicates, expected members only, sizes, CRC-32 of every
member, so a bit flip or truncation is caught before torch parses anything) and then calls
``torch.load(weights_only=True)``, whose restricted unpickler refuses any other object.

Example:
    >>> import io, kseq
    >>> from kseq.saving.keras_weights import collect
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2)])
    >>> reader = TorchReader(torch_bytes(collect(model)), "m.weights.pt")
    >>> reader.shapes("layers/dense")
    [(3, 2), (2,)]
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import torch

from kseq.saving.keras_weights import VarGroup
from kseq.saving.zip_checks import escapes, open_zip, read_member

__all__ = ["TorchReader", "read_file_bytes", "safe_torch_load", "torch_bytes"]

# What torch.save puts under its top-level folder (forward-compatible for its dot-files).
_MEMBER = re.compile(r"(data\.pkl|version|byteorder|\.[A-Za-z_]+|\.data/[A-Za-z_]+|data/\d+)")
_KEY = re.compile(r"(?:(.+)/)?vars/(\d+)")
MAX_FILE_BYTES = 1 << 40  # refuse absurd sizes before reading anything


def read_file_bytes(path: str, what: str) -> bytes:
    """The whole content of ``path``, with a clear error when it is missing or unreadable.

    Example:
        >>> read_file_bytes("/nonexistent.pt", "weights file")
        Traceback (most recent call last):
        ...
        FileNotFoundError: No such weights file: '/nonexistent.pt'.
    """
    try:
        with open(path, "rb") as f:
            f.seek(0, io.SEEK_END)
            size = f.tell()
            if size > MAX_FILE_BYTES:
                raise ValueError(f"Refusing to load {path!r}: {size} bytes is too large.")
            f.seek(0)
            return f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"No such {what}: {path!r}.") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"Expected a {what}, but {path!r} is a directory.") from None


def _check_zip(data: bytes, name: str) -> None:
    """Validate torch's zip container: structure, member names, sizes and CRCs."""

    def fail(reason: str) -> ValueError:
        return ValueError(
            f"Refusing to load {name!r}: {reason} kseq reads torch files written by torch.save."
        )

    with open_zip(data, fail) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        if not infos or len(set(names)) != len(names):
            raise fail("empty archive or duplicate members.")
        top = names[0].split("/", 1)[0]
        for member in names:
            head, _, rest = member.partition("/")
            if head != top or escapes(member) or not _MEMBER.fullmatch(rest):
                raise fail(f"unexpected archive member {member!r}.")
        if sum(i.file_size for i in infos) > max(64 * len(data), 1 << 20):
            raise fail("its members declare far more bytes than the file holds (a zip bomb).")
        for info in infos:
            read_member(archive, info, MAX_FILE_BYTES, fail)  # checks the CRC-32


def safe_torch_load(data: bytes, name: str) -> Any:
    """``torch.load(weights_only=True)`` of ``data`` after :func:`_check_zip`; errors name the file.

    Example:
        >>> buffer = io.BytesIO(); torch.save({"x": torch.ones(2)}, buffer)
        >>> safe_torch_load(buffer.getvalue(), "demo.pt")["x"]
        tensor([1., 1.])
    """
    _check_zip(data, name)
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError for forbidden globals, RuntimeError for bad data
        raise ValueError(
            f"Refusing to load {name!r}: torch.load(weights_only=True) rejected it ({exc}). kseq "
            "only reads tensors and plain containers from torch files, never other objects."
        ) from exc


def torch_bytes(groups: list[VarGroup], extra: dict[str, Any] | None = None) -> bytes:
    """``torch.save`` bytes of ``{"<path>/vars/<i>": tensor}`` for ``groups`` (plus ``extra``).

    Example:
        >>> import kseq
        >>> from kseq.saving.keras_weights import collect
        >>> data = torch_bytes(collect(kseq.Sequential([kseq.Input((1,)), kseq.layers.Dense(1)])))
        >>> sorted(safe_torch_load(data, "m.weights.pt"))
        ['layers/dense/vars/0', 'layers/dense/vars/1']
    """
    tensors: dict[str, Any] = {
        f"{g.path}/vars/{i}" if g.path else f"vars/{i}": torch.from_numpy(
            a if a.flags.c_contiguous else np.array(a, order="C")
        )
        for g in groups
        for i, a in enumerate(g.arrays)
    }
    tensors.update(extra or {})
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return buffer.getvalue()


def tensors_by_group(content: Any, name: str) -> dict[str, dict[int, torch.Tensor]]:
    """Check that ``content`` is ``{"<path>/vars/<i>": tensor}`` and group it by path.

    Example:
        >>> tensors_by_group({"layers/d/vars/0": torch.zeros(1)}, "x.pt")
        {'layers/d': {0: tensor([0.])}}
    """
    if not isinstance(content, dict):
        raise ValueError(
            f"Refusing to load {name!r}: expected a dict of tensors, found {type(content).__name__}."
        )
    groups: dict[str, dict[int, torch.Tensor]] = {}
    for key, value in content.items():
        match = _KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None or not isinstance(value, torch.Tensor):
            raise ValueError(
                f"Refusing to load {name!r}: entry {key!r} is not a '<path>/vars/<i>' tensor."
            )
        groups.setdefault(match.group(1) or "", {})[int(match.group(2))] = value
    for path, variables in groups.items():
        if sorted(variables) != list(range(len(variables))):
            raise ValueError(
                f"Refusing to load {name!r}: '{path}/vars' holds indices {sorted(variables)}, "
                "expected 0..n-1."
            )
    return groups


class TorchReader:
    """Read a ``.weights.pt`` file (implements :class:`kseq.saving.keras_weights.VariableReader`).

    Args:
        data: The file's bytes.
        name: File name used in error messages.

    Example:
        >>> import kseq
        >>> from kseq.saving.keras_weights import collect
        >>> data = torch_bytes(collect(kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(3)])))
        >>> TorchReader(data, "m.weights.pt").read("layers/dense", 1).shape
        (3,)
    """

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        self._groups = tensors_by_group(safe_torch_load(data, name), name)

    def shapes(self, path: str) -> list[tuple[int, ...]] | None:
        group = self._groups.get(path)
        return None if group is None else [tuple(group[i].shape) for i in range(len(group))]

    def read(self, path: str, index: int) -> np.ndarray:
        tensor = self._groups[path][index]
        if tensor.is_complex() or tensor.dtype not in _NUMPY_DTYPES:
            raise ValueError(
                f"Refusing to load {self.name!r}: '{path}/vars/{index}' has dtype {tensor.dtype}."
            )
        return tensor.numpy()

    def paths(self) -> set[str]:
        return {p for p, g in self._groups.items() if g}

    def verify(self) -> None:
        """Nothing to do: the zip CRCs were checked when the file was opened."""


_NUMPY_DTYPES = {
    torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32,
    torch.int64, torch.uint8, torch.bool,
}  # fmt: skip
