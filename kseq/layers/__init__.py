"""``kseq.layers``: Keras layers as ``torch.nn.Module``s.

Each family lives in its own module, which lists its public names in ``__all__``; this package
re-exports them and keeps the name table that configs are deserialized from.

Example:
    >>> from kseq.layers import Dense
    >>> Dense(4).units
    4
"""

from __future__ import annotations

import inspect
from typing import Any

from kseq.layers.activation import *  # noqa: F403
from kseq.layers.affine_augmentation import *  # noqa: F403
from kseq.layers.augmentation import *  # noqa: F403
from kseq.layers.batch_normalization import *  # noqa: F403
from kseq.layers.conv import *  # noqa: F403
from kseq.layers.conv_depthwise import *  # noqa: F403
from kseq.layers.conv_lstm import *  # noqa: F403
from kseq.layers.conv_transpose import *  # noqa: F403
from kseq.layers.core import *  # noqa: F403
from kseq.layers.embedding import *  # noqa: F403
from kseq.layers.input_layer import *  # noqa: F403
from kseq.layers.lambda_layer import *  # noqa: F403
from kseq.layers.layer import *  # noqa: F403
from kseq.layers.layer import Layer
from kseq.layers.normalization import *  # noqa: F403
from kseq.layers.pooling import *  # noqa: F403
from kseq.layers.preprocessing import *  # noqa: F403
from kseq.layers.recurrent import *  # noqa: F403
from kseq.layers.regularization import *  # noqa: F403
from kseq.layers.reshaping import *  # noqa: F403
from kseq.layers.spatial_reshaping import *  # noqa: F403
from kseq.layers.wrappers import *  # noqa: F403
from kseq.registry.serialization import deserialize_keras_object, serialize_keras_object

# Every public Layer class by name (aliases such as MaxPool2D included), for deserialization.
_ALL: dict[str, Any] = {
    name: obj for name, obj in dict(globals()).items()
    if inspect.isclass(obj) and issubclass(obj, Layer) and not name.startswith("_")
}  # fmt: skip


def serialize(layer: Layer) -> dict[str, Any]:
    """Keras's layer config dict (``module``, ``class_name``, ``config``, ``build_config``).

    Example:
        >>> serialize(Dense(2, name="d"))["config"]["units"]
        2
    """
    from kseq.models import Sequential  # a nested Sequential is `keras.Sequential` in Keras files

    if type(layer) is Sequential:
        config = serialize_keras_object(layer, "keras", {"Sequential": Sequential})
    else:
        config = serialize_keras_object(layer, "keras.layers", _ALL)
    assert config is not None
    build_config = layer.get_build_config()
    if build_config is not None:
        config["build_config"] = build_config
    return config


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Layer:
    """Instantiate a layer from :func:`serialize` output (kseq classes and registered ones only).

    Example:
        >>> deserialize(serialize(Dense(3, name="d3"))).units
        3
    """
    if config.get("class_name") in ("Sequential",):
        from kseq.models import Sequential

        return Sequential.from_config(config["config"], custom_objects=custom_objects)
    layer = deserialize_keras_object(config, "layer", _ALL, custom_objects)
    if config.get("build_config") and not layer.built:
        layer.build_from_config(config["build_config"])
    return layer
