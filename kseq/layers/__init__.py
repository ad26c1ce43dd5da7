"""``kseq.layers``: Keras layers as ``torch.nn.Module``s.

Each family lives in its own module, which lists its public names in ``__all__``; this package
re-exports them and keeps the name table that configs are deserialized from. ``serialize`` gives
Keras's layer config dict (``module``, ``class_name``, ``config``, ``build_config``) and
``deserialize`` instantiates a layer from it (kseq classes and registered ones only).

Example:
    >>> from kseq.layers import Dense
    >>> Dense(4).units
    4
    >>> serialize(Dense(2, name="d"))["config"]["units"]
    2
    >>> deserialize(serialize(Dense(3, name="d3"))).units
    3
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from kseq.core.not_ported import missing as _missing
from kseq.layers.activation import *  # noqa: F403
from kseq.layers.affine_augmentation import *  # noqa: F403
from kseq.layers.attention import *  # noqa: F403
from kseq.layers.augmentation import *  # noqa: F403
from kseq.layers.batch_normalization import *  # noqa: F403
from kseq.layers.concatenate import *  # noqa: F403
from kseq.layers.conv import *  # noqa: F403
from kseq.layers.conv_depthwise import *  # noqa: F403
from kseq.layers.conv_lstm import *  # noqa: F403
from kseq.layers.conv_transpose import *  # noqa: F403
from kseq.layers.core import *  # noqa: F403
from kseq.layers.dot import *  # noqa: F403
from kseq.layers.einsum_dense import *  # noqa: F403
from kseq.layers.embedding import *  # noqa: F403
from kseq.layers.input_layer import *  # noqa: F403
from kseq.layers.lambda_layer import *  # noqa: F403
from kseq.layers.layer import *  # noqa: F403
from kseq.layers.layer import Layer
from kseq.layers.merging import *  # noqa: F403
from kseq.layers.multi_head_attention import *  # noqa: F403
from kseq.layers.normalization import *  # noqa: F403
from kseq.layers.pooling import *  # noqa: F403
from kseq.layers.preprocessing import *  # noqa: F403
from kseq.layers.recurrent import *  # noqa: F403
from kseq.layers.regularization import *  # noqa: F403
from kseq.layers.reshaping import *  # noqa: F403
from kseq.layers.spatial_reshaping import *  # noqa: F403
from kseq.layers.symbolic_ops import TensorOp as _TensorOp  # also registers the ops handler
from kseq.layers.torch_module_wrapper import *  # noqa: F403
from kseq.layers.wrappers import *  # noqa: F403
from kseq.registry.namespace import MODELS as _MODELS
from kseq.registry.namespace import Namespace as _Namespace

# Importable from here as before (kseq's public API snapshot lists them).
from kseq.registry.serialization import deserialize_keras_object as deserialize_keras_object
from kseq.registry.serialization import serialize_keras_object as serialize_keras_object

# Every public Layer class by name (aliases such as MaxPool2D included), for deserialization.
_ALL: dict[str, Any] = {
    name: obj for name, obj in dict(globals()).items()
    if inspect.isclass(obj) and issubclass(obj, Layer) and not name.startswith("_")
}  # fmt: skip
_ALL["TensorOp"] = _TensorOp  # ops between layers in functional graphs (saved by name)


class _Layers(_Namespace):
    """A layer config carries its ``build_config``; a nested ``Sequential`` (registered in the
    ``keras`` namespace by ``kseq.models``) is saved as ``keras.Sequential``, as in Keras files."""

    def serialize(self, layer: Layer) -> dict[str, Any]:
        """Keras's layer config dict (``module``, ``class_name``, ``config``, ``build_config``)."""
        if type(layer) is _MODELS.table.get("Sequential"):
            config = _MODELS.serialize(layer)
        else:
            config = super().serialize(layer)
        assert config is not None
        build_config = layer.get_build_config()
        if build_config is not None:
            config["build_config"] = build_config
        return config

    def deserialize(
        self, config: dict[str, Any], custom_objects: Mapping[str, Any] | None = None
    ) -> Layer:
        """Instantiate a layer from :meth:`serialize` output (kseq and registered classes only)."""
        if config.get("class_name") in ("Sequential",):
            sequential = _MODELS.table["Sequential"]
            return sequential.from_config(config["config"], custom_objects=custom_objects)
        layer = super().deserialize(config, custom_objects)
        if config.get("build_config") and not layer.built:
            layer.build_from_config(config["build_config"])
        return layer


_LAYERS = _Layers("layer", "layers", "keras.layers", table=_ALL)
serialize = _LAYERS.serialize
deserialize = _LAYERS.deserialize


def __getattr__(name: str) -> object:
    # A Keras name kseq does not have says why, and what to write instead (core/not_ported.py).
    raise _missing("kseq.layers", name)
