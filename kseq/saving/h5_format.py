"""Keras's ``.weights.h5`` layout (also the ``model.weights.h5`` member of a ``.keras`` archive).

Layout (what Keras 3 writes): one HDF5 group per object path, each with a ``vars`` subgroup whose
``name`` attribute is the object's name and whose datasets ``0``, ``1``, ... are its variables;
the root's own ``vars`` group carries the model's name. See :mod:`kseq.saving.keras_weights`.

h5py is an optional extra (``pip install "kseq[h5]"``); without it these functions raise an
``ImportError`` naming the extra and the h5py-free alternative (``.weights.pt``).

Reading is defensive: only the groups the model asks for are opened, soft/external links,
external and virtual datasets are refused, a dataset's dtype must be numeric and its shape is
checked before it is read, and a dataset that declares far more bytes than it stores (a
"decompression bomb") is refused. kseq also writes a SHA-256 of all variables in the root
attribute ``kseq_sha256`` (Keras ignores it) and checks it when present, so a damaged kseq file
fails loudly instead of loading wrong numbers.

Example:
    >>> import io, kseq
    >>> from kseq.saving.keras_weights import collect
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2)])
    >>> data = h5_bytes(collect(model))
    >>> reader = H5Reader(io.BytesIO(data), "demo.weights.h5")
    >>> reader.shapes("layers/dense"), reader.verify()
    ([(3, 2), (2,)], None)
    >>> reader.close()
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
from collections.abc import Callable, Iterable
from typing import IO, Any, TypeVar

import numpy as np

from kseq.saving.keras_weights import NUMERIC_KINDS, VarGroup

__all__ = ["H5Reader", "h5_bytes", "require_h5py"]

F = TypeVar("F", bound=Callable[..., Any])

CHECKSUM_ATTR = "kseq_sha256"
# A dataset declaring more than this many bytes must store at least 1/_MAX_EXPANSION of them.
_BOMB_FLOOR_BYTES = 64 << 20
_MAX_EXPANSION = 1000


def require_h5py() -> Any:
    """Import h5py, or raise an ``ImportError`` that says how to get it.

    Example:
        >>> require_h5py().__name__
        'h5py'
    """
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - exercised in an environment without h5py
        raise ImportError(
            "Reading and writing Keras `.keras` and `.weights.h5` files needs h5py, which kseq "
            'installs as an optional extra: pip install "kseq[h5]". Without it, save weights in '
            "kseq's torch-native format instead: model.save_weights('model.weights.pt')."
        ) from exc
    return h5py


def variables_digest(items: Iterable[tuple[str, np.ndarray]]) -> str:
    """SHA-256 over ``(key, dtype, shape, bytes)`` of every array, in key order.

    Example:
        >>> len(variables_digest([("a/vars/0", np.zeros(2))]))
        64
    """
    digest = hashlib.sha256()
    for key, array in sorted(items, key=lambda kv: kv[0]):
        array = array if array.flags.c_contiguous else np.array(array, order="C")
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def h5_bytes(groups: list[VarGroup]) -> bytes:
    """The bytes of a Keras ``.weights.h5`` file holding ``groups``.

    Example:
        >>> import kseq
        >>> from kseq.saving.keras_weights import collect
        >>> h5_bytes(collect(kseq.Sequential([kseq.Input((1,)), kseq.layers.Dense(1)])))[:4]
        b'\\x89HDF'
    """
    h5py = require_h5py()
    buffer = io.BytesIO()
    items: list[tuple[str, np.ndarray]] = []
    with h5py.File(buffer, "w") as f:
        for group in groups:
            target = f.require_group(group.path) if group.path else f
            variables = target.create_group("vars")
            variables.attrs["name"] = group.name
            for i, array in enumerate(group.arrays):
                variables.create_dataset(str(i), data=array)
                items.append((f"{group.path}/vars/{i}", array))
        f.attrs[CHECKSUM_ATTR] = variables_digest(items)
    return buffer.getvalue()


def _guarded(method: F) -> F:
    """Turn any failure of h5py on a damaged file (``OSError``, ``RuntimeError``, ``KeyError``...)
    into a ``ValueError`` that names the file."""

    @functools.wraps(method)
    def wrapper(self: H5Reader, *args: Any) -> Any:
        try:
            return method(self, *args)
        except ValueError:
            raise
        except Exception as exc:
            raise self._fail(f"the file is damaged ({type(exc).__name__}: {exc}).") from exc

    return wrapper  # type: ignore[return-value]


class H5Reader:
    """Read variables from a Keras ``.weights.h5`` file (a path or a binary file object).

    Implements :class:`kseq.saving.keras_weights.VariableReader`.

    Args:
        source: Path or readable binary file object.
        name: File name used in error messages.

    Raises:
        ValueError: The file is not a readable HDF5 file.

    Example:
        >>> import io, kseq
        >>> from kseq.saving.keras_weights import collect
        >>> data = h5_bytes(collect(kseq.Sequential([kseq.Input((2,)), kseq.layers.Dense(1)])))
        >>> with H5Reader(io.BytesIO(data), "m.weights.h5") as reader:
        ...     sorted(reader.paths())
        ['layers/dense']
    """

    def __init__(self, source: str | IO[bytes], name: str) -> None:
        h5py = require_h5py()
        self._h5py = h5py
        self.name = name
        try:
            self._file = h5py.File(source, "r")
        except Exception as exc:  # h5py raises OSError, ValueError, KeyError... on damaged files
            raise ValueError(
                f"Could not read {name!r} as a Keras weights file (HDF5): {exc}. The file is damaged, "
                "truncated, or not a `.weights.h5` file."
            ) from exc
        self._read: dict[str, np.ndarray] = {}

    def __enter__(self) -> H5Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HDF5 file."""
        self._file.close()

    def _fail(self, message: str) -> ValueError:
        return ValueError(f"Refusing to load {self.name!r}: {message}")

    def _child(self, parent: Any, key: str) -> Any:
        h5py = self._h5py
        try:
            link = parent.get(key, getlink=True)
        except Exception as exc:
            raise self._fail(f"cannot read entry '{key}' ({exc}).") from exc
        if link is None:
            return None
        if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
            raise self._fail(f"entry '{key}' is a {type(link).__name__}; links are not allowed.")
        try:
            return parent[key]
        except Exception as exc:
            raise self._fail(f"cannot open entry '{key}' ({exc}).") from exc

    def _vars(self, path: str) -> Any:
        node = self._file
        for part in [*path.split("/"), "vars"] if path else ["vars"]:
            node = self._child(node, part)
            if node is None:
                return None
            if not isinstance(node, self._h5py.Group):
                raise self._fail(f"'{path}' should be a group, found {type(node).__name__}.")
        return node

    def _datasets(self, path: str) -> list[Any] | None:
        group = self._vars(path)
        if group is None:
            return None
        try:
            keys = list(group.keys())
        except Exception as exc:
            raise self._fail(f"cannot list '{path}/vars' ({exc}).") from exc
        if sorted(keys) != sorted(str(i) for i in range(len(keys))):
            raise self._fail(f"'{path}/vars' holds {keys}; expected variables named 0..n-1.")
        out = []
        for i in range(len(keys)):
            dataset = self._child(group, str(i))
            if not isinstance(dataset, self._h5py.Dataset):
                raise self._fail(f"'{path}/vars/{i}' is not a dataset.")
            out.append(dataset)
        return out

    @_guarded
    def shapes(self, path: str) -> list[tuple[int, ...]] | None:
        """Shapes of the variables under ``path`` (``None`` if the file has no such group)."""
        datasets = self._datasets(path)
        return None if datasets is None else [tuple(d.shape) for d in datasets]

    @_guarded
    def read(self, path: str, index: int) -> np.ndarray:
        """One variable as a NumPy array, after the safety checks."""
        key = f"{path}/vars/{index}"
        if key not in self._read:
            datasets = self._datasets(path)
            if datasets is None or index >= len(datasets):
                raise self._fail(f"'{key}' is missing.")
            self._read[key] = self._load(datasets[index], key)
        return self._read[key]

    def _load(self, dataset: Any, key: str) -> np.ndarray:
        try:
            if dataset.external or dataset.is_virtual:
                raise self._fail(f"'{key}' stores its data outside the file.")
            dtype = dataset.dtype
            if dtype.kind not in NUMERIC_KINDS:
                raise self._fail(f"'{key}' has dtype {dtype}; only numeric arrays can be loaded.")
            declared = math.prod(dataset.shape) * dtype.itemsize
            stored = dataset.id.get_storage_size()
            if declared > _BOMB_FLOOR_BYTES and declared > _MAX_EXPANSION * stored:
                raise self._fail(
                    f"'{key}' declares {declared} bytes but stores only {stored}: a potential "
                    "decompression bomb."
                )
            return np.asarray(dataset[()])
        except ValueError:
            raise
        except Exception as exc:  # damaged data chunks surface as OSError/RuntimeError in h5py
            raise self._fail(f"cannot read '{key}' ({exc}).") from exc

    @_guarded
    def paths(self) -> set[str]:
        """Every group path that holds variables (links and non-groups are reported as errors)."""
        found: set[str] = set()
        stack: list[tuple[str, Any]] = [("", self._file)]
        while stack:
            path, group = stack.pop()
            try:
                keys = list(group.keys())
            except Exception as exc:
                raise self._fail(f"cannot list '{path or '/'}' ({exc}).") from exc
            for key in keys:
                child = self._child(group, key)
                if not isinstance(child, self._h5py.Group):
                    continue
                if key == "vars":
                    if len(child):
                        found.add(path)
                else:
                    stack.append((f"{path}/{key}" if path else key, child))
        return found

    @_guarded
    def verify(self) -> None:
        """Check kseq's checksum (when the file has one) over every variable in the file."""
        try:
            expected = self._file.attrs.get(CHECKSUM_ATTR)
        except Exception as exc:
            raise self._fail(f"cannot read its attributes ({exc}).") from exc
        if expected is None:
            return  # written by Keras: no checksum to check
        if isinstance(expected, bytes):
            expected = expected.decode("ascii", "replace")
        items = []
        for path in self.paths():
            shapes = self.shapes(path) or []
            items.extend((f"{path}/vars/{i}", self.read(path, i)) for i in range(len(shapes)))
        if variables_digest(items) != str(expected):
            raise self._fail(
                "its content does not match the checksum kseq wrote with it: the file is damaged."
            )
