"""The ``.keras`` archive: a zip of ``metadata.json``, ``config.json`` and ``model.weights.h5``.

Same members, names and content as Keras 3 writes (members stored uncompressed), so archives move
both ways between Keras and kseq.

Opening an archive checks the container before anything is parsed: it must be a zip, member names
must be exactly Keras's (no ``../``, absolute or unexpected paths, no duplicates), each member's
declared size is bounded (JSON members to a few MiB; see :mod:`kseq.saving.zip_checks` for the
zip-bomb and CRC checks). The JSON must parse to an object; the weights go through
:class:`~kseq.saving.h5_format.H5Reader`.

Example:
    >>> import kseq
    >>> model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(2)])
    >>> archive = KerasArchive(archive_bytes(model), "m.keras")
    >>> archive.config["class_name"], sorted(archive.metadata)
    ('Sequential', ['date_saved', 'keras_version'])
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from typing import Any

from kseq.registry.object_config import serialize_keras_object
from kseq.saving.h5_format import H5Reader, h5_bytes
from kseq.saving.keras_weights import collect
from kseq.saving.zip_checks import escapes, open_zip, read_member

__all__ = ["KerasArchive", "archive_bytes"]

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
# The Keras release whose archive format kseq writes (Keras reads metadata.json for information only).
KERAS_FORMAT_VERSION = "3.15.1"
# Largest declared size per member; weights are bounded by the file itself (stored, not compressed).
_LIMITS = {METADATA: 1 << 20, CONFIG: 64 << 20}


def archive_bytes(model: Any, include_optimizer: bool = True) -> bytes:
    """The bytes of a ``.keras`` archive of ``model`` (config, compile state, weights, optimizer).

    Example:
        >>> import kseq
        >>> archive_bytes(kseq.Sequential([kseq.Input((1,)), kseq.layers.Dense(1)]))[:2]
        b'PK'
    """
    config = serialize_keras_object(model)
    if not include_optimizer:
        config.pop("compile_config", None)
    metadata = {
        "keras_version": KERAS_FORMAT_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, json.dumps(metadata))
        archive.writestr(CONFIG, json.dumps(config))
        archive.writestr(WEIGHTS, h5_bytes(collect(model, include_optimizer=include_optimizer)))
    return buffer.getvalue()


def parse_json(data: bytes, name: str) -> dict[str, Any]:
    """Parse a JSON object, turning every failure into a ``ValueError`` naming ``name``.

    Example:
        >>> parse_json(b'{"a": 1}', "config.json")
        {'a': 1}
    """
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must hold a JSON object, found {type(value).__name__}.")
    return value


class KerasArchive:
    """A validated ``.keras`` archive: ``config``, ``metadata`` and a weights reader.

    Args:
        data: The archive's bytes.
        name: File name used in error messages.

    Raises:
        ValueError: The bytes are not a well-formed ``.keras`` archive (with the reason).

    Example:
        >>> import kseq
        >>> archive = KerasArchive(archive_bytes(kseq.Sequential([kseq.Input((2,)),
        ...     kseq.layers.Dense(1)])), "m.keras")
        >>> with archive.weights() as reader:
        ...     reader.shapes("layers/dense")
        [(2, 1), (1,)]
    """

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        with open_zip(data, self._fail) as archive:
            self._members = self._read_members(archive, len(data))
        self.config = self._json(CONFIG)
        self.metadata = self._json(METADATA) if METADATA in self._members else {}

    def _fail(self, message: str) -> ValueError:
        return ValueError(f"Refusing to load {self.name!r} as a `.keras` archive: {message}")

    def _read_members(self, archive: zipfile.ZipFile, file_size: int) -> dict[str, bytes]:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        for member in names:
            if escapes(member):
                raise self._fail(f"member {member!r} points outside the archive.")
        unexpected = sorted(set(names) - {CONFIG, METADATA, WEIGHTS})
        if unexpected:
            hint = (
                " kseq archives never hold assets or `.npz` weights."
                if any(n.startswith("assets/") or n.endswith(".npz") for n in unexpected)
                else ""
            )
            raise self._fail(f"unexpected members {unexpected}.{hint}")
        if len(set(names)) != len(names):
            raise self._fail(f"duplicate members in {names}.")
        for required in (CONFIG, WEIGHTS):
            if required not in names:
                raise self._fail(f"the member {required!r} is missing.")
        return {
            info.filename: read_member(
                archive, info, _LIMITS.get(info.filename, max(file_size, 1 << 20)), self._fail
            )
            for info in infos
        }

    def _json(self, member: str) -> dict[str, Any]:
        try:
            return parse_json(self._members[member], member)
        except ValueError as exc:
            raise self._fail(str(exc)) from None

    def weights(self) -> H5Reader:
        """A reader over ``model.weights.h5`` (close it, or use it as a context manager)."""
        return H5Reader(io.BytesIO(self._members[WEIGHTS]), f"{self.name}/{WEIGHTS}")
