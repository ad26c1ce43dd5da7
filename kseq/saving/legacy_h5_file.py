"""Reading a legacy HDF5 model file (``.h5``) without trusting it: :class:`LegacyH5File`.

Built on :class:`~kseq.saving.h5_format.H5Reader` (no soft/external links, no external or virtual
datasets, numeric dtypes only, no decompression bombs), it adds what the legacy layout needs:
string and JSON attributes (anything else, e.g. a pickled ``np.void``, is refused), Keras's
chunked name lists (``weight_names0``, ``weight_names1``...), relative dataset paths checked part
by part (no ``..``, no absolute or empty parts), and kseq's checksum. :func:`guard` turns h5py's
own failures on a damaged file into a ``ValueError`` naming the file.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from kseq.saving.h5_format import CHECKSUM_ATTR, H5Reader, require_h5py, variables_digest

__all__ = ["LegacyH5File", "guard"]

_MAX_JSON_CHARS = 64 << 20


class LegacyH5File(H5Reader):
    """A legacy ``.h5`` model file opened for reading, with strict attribute and path checks.

    Args:
        source: Path or readable binary file object.
        name: File name used in error messages.

    Raises:
        ValueError: The file is not a readable HDF5 file.

    Example:
        >>> import io
        >>> h5py = require_h5py(); buffer = io.BytesIO()
        >>> with h5py.File(buffer, "w") as out:
        ...     out.attrs["backend"] = "torch"
        ...     out.create_group("w").attrs["weight_names"] = [b"a/b"]
        ...     out["w/a/b"] = np.ones(2)
        >>> with LegacyH5File(io.BytesIO(buffer.getvalue()), "m.h5") as f:
        ...     f.text_attr(f._file, "backend"), f.arrays(f.node(f._file, "w", "group"))
        ('torch', [array([1., 1.])])
    """

    def __init__(self, source: str | IO[bytes], name: str) -> None:
        h5py = require_h5py()
        self._h5py, self.name, self._read = h5py, name, {}
        try:
            self._file = h5py.File(source, "r")
        except Exception as exc:  # h5py raises OSError, ValueError, KeyError... on damaged files
            raise ValueError(
                f"Could not read {name!r} as a Keras HDF5 model file: {exc}. The file is damaged, "
                "truncated, or not an `.h5` model file."
            ) from exc

    def _attr(self, node: Any, key: str) -> Any:
        try:
            return node.attrs.get(key)
        except Exception as exc:
            raise self._fail(
                f"cannot read attribute '{key}' ({type(exc).__name__}: {exc})."
            ) from exc

    def _text(self, value: Any, key: str) -> str:
        if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "OSU":
            value = value[()]
        if isinstance(value, bytes):
            value = value.decode("utf8", "strict")
        if not isinstance(value, str):
            raise self._fail(f"attribute '{key}' should be a string, found {type(value).__name__}.")
        return value

    def text_attr(self, node: Any, key: str) -> str | None:
        """The string attribute ``key`` of ``node`` (``None`` when absent)."""
        value = self._attr(node, key)
        return None if value is None else self._text(value, key)

    def json_attr(self, key: str) -> Any:
        """The root attribute ``key`` parsed as JSON (``None`` when absent)."""
        text = self.text_attr(self._file, key)
        if text is None:
            return None
        if len(text) > _MAX_JSON_CHARS:
            raise self._fail(f"attribute '{key}' is {len(text)} characters long.")
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise self._fail(f"attribute '{key}' is not valid JSON ({exc}).") from None

    def list_attr(self, node: Any, key: str) -> list[str]:
        """Keras's ``load_attributes_from_hdf5_group``: a list of names, possibly chunked."""
        values = self._attr(node, key)
        chunks = [values] if values is not None else []
        while values is None and (chunk := self._attr(node, f"{key}{len(chunks)}")) is not None:
            chunks.append(chunk)
        out: list[str] = []
        for chunk in chunks:
            array = np.asarray(chunk)
            if array.ndim != 1 or (array.size and array.dtype.kind not in "OSU"):
                raise self._fail(f"attribute '{key}' should be a list of names.")
            out.extend(self._text(v, key) for v in array.tolist())
        return out

    def node(self, parent: Any, path: str, kind: str) -> Any:
        """The group or dataset (``kind``) at relative ``path``; links are refused."""
        parts = path.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise self._fail(f"'{path}' is not a valid entry name.")
        node = parent
        for part in parts:
            node = self._child(node, part)
            if node is None:
                raise self._fail(f"entry '{path}' is missing.")
        wanted = self._h5py.Group if kind == "group" else self._h5py.Dataset
        if not isinstance(node, wanted):
            raise self._fail(f"'{path}' should be a {kind}, found {type(node).__name__}.")
        return node

    def check_digest(self) -> None:
        """Check the SHA-256 kseq writes over every stored array (files without one pass)."""
        expected = self.text_attr(self._file, CHECKSUM_ATTR)
        if expected is None:
            return
        items: list[tuple[str, np.ndarray]] = []
        weights = self.node(self._file, "model_weights", "group")
        groups = [self.node(weights, n, "group") for n in self.list_attr(weights, "layer_names")]
        if (optimizer := self._child(self._file, "optimizer_weights")) is not None:
            groups.append(optimizer)
        for group in groups:
            names = self.list_attr(group, "weight_names")
            items += [
                (f"{group.name}/{n}", a) for n, a in zip(names, self.arrays(group), strict=True)
            ]
        if variables_digest(items) != expected:
            raise self._fail(
                "its content does not match the checksum kseq wrote with it: the file is damaged."
            )

    def arrays(self, group: Any) -> list[np.ndarray]:
        """The datasets a group's ``weight_names`` lists, read after the safety checks."""
        return [
            self._load(self.node(group, n, "dataset"), n)
            for n in self.list_attr(group, "weight_names")
        ]


@contextlib.contextmanager
def guard(name: str) -> Iterator[None]:
    """Turn h5py's failures on a damaged file (``OSError``, ``RuntimeError``, ``KeyError``...)
    into a ``ValueError`` naming the file."""
    try:
        yield
    except (ValueError, ImportError):
        raise
    except (OSError, RuntimeError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(
            f"Refusing to load {name!r}: the file is damaged ({type(exc).__name__}: {exc})."
        ) from exc
