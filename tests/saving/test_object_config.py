"""Keras object configs for every initializer, regularizer, constraint, loss, metric, optimizer and
learning-rate schedule: kseq -> JSON -> kseq gives the same object, Keras 3's configs load in kseq
and kseq's load in Keras; plus the special values of the format and the safe-mode rules."""

from __future__ import annotations

import inspect
import json
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import constraints, initializers, losses, metrics, optimizers, regularizers
from kseq.registry.serialization import in_safe_mode, safe_mode_scope
from kseq.saving import deserialize_keras_object, serialize_keras_object

NAMESPACES = {
    "initializers": initializers._ALL,
    "regularizers": regularizers._ALL,
    "constraints": constraints._ALL,
    "losses": losses._ALL,
    "metrics": metrics._ALL,
    "optimizers": optimizers._ALL,
    "schedules": optimizers.schedules._ALL,
}
# Classes that cannot be built without arguments.
ARGS: dict[str, dict[str, Any]] = {
    "IoU": {"num_classes": 3, "target_class_ids": [0, 2]},
    "MeanIoU": {"num_classes": 3},
    "OneHotIoU": {"num_classes": 3, "target_class_ids": [1]},
    "OneHotMeanIoU": {"num_classes": 3},
    "PrecisionAtRecall": {"recall": 0.5},
    "RecallAtPrecision": {"precision": 0.5},
    "SensitivityAtSpecificity": {"specificity": 0.5},
    "SpecificityAtSensitivity": {"sensitivity": 0.5},
    "CosineDecay": {"initial_learning_rate": 0.1, "decay_steps": 10, "warmup_steps": 2},
    "CosineDecayRestarts": {"initial_learning_rate": 0.1, "first_decay_steps": 10},
    "ExponentialDecay": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
    "InverseTimeDecay": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
    "PiecewiseConstantDecay": {"boundaries": [10, 20], "values": [0.1, 0.01, 0.001]},
    "PolynomialDecay": {"initial_learning_rate": 0.1, "decay_steps": 10},
    "LossFunctionWrapper": {"fn": losses.mean_squared_error},
    "MeanMetricWrapper": {"fn": losses.mean_absolute_error},
}
# Abstract bases: nothing to configure.
SKIPPED = {"Loss", "Metric", "Regularizer", "Constraint", "Initializer", "LearningRateSchedule"}


def _cases() -> list[tuple[str, str]]:
    return sorted(
        {
            (space, obj.__name__)
            for space, table in NAMESPACES.items()
            for obj in table.values()
            if inspect.isclass(obj) and obj.__name__ not in SKIPPED
        }
    )


def _make(space: str, name: str) -> Any:
    cls = next(c for c in NAMESPACES[space].values() if getattr(c, "__name__", None) == name)
    return cls(**ARGS.get(name, {}))


@pytest.mark.parametrize(("space", "name"), _cases())
def test_config_round_trip_through_json(space: str, name: str) -> None:
    obj = _make(space, name)
    config = json.loads(json.dumps(serialize_keras_object(obj)))
    back = deserialize_keras_object(config)
    assert type(back) is type(obj)
    assert back.get_config() == obj.get_config()


@pytest.mark.keras
@pytest.mark.parametrize(("space", "name"), _cases())
def test_keras_configs_load_in_kseq_and_back(space: str, name: str, keras: Any) -> None:
    module = keras.optimizers.schedules if space == "schedules" else getattr(keras, space)
    keras_cls = getattr(module, name, None)
    if keras_cls is None:
        pytest.skip(f"{name} is kseq-only")
    args = {**ARGS.get(name, {})}
    if "fn" in args:
        args["fn"] = getattr(keras.losses, args["fn"].__name__)
    keras_obj = keras_cls(**args)
    ours = deserialize_keras_object(
        json.loads(json.dumps(keras.saving.serialize_keras_object(keras_obj)))
    )
    assert type(ours).__name__ == name
    expected, got = keras_obj.get_config(), ours.get_config()
    for key, value in expected.items():  # kseq may add keys Keras drops (Huber's delta...)
        if key == "fn":
            continue
        assert (
            got.get(key) == pytest.approx(value)
            if isinstance(value, float)
            else got.get(key) == value
        ), key
    theirs = keras.saving.deserialize_keras_object(
        json.loads(json.dumps(serialize_keras_object(ours)))
    )
    assert type(theirs).__name__ == name


def test_special_values() -> None:
    value = {
        "a": np.arange(3, dtype="int32"),
        "t": torch.ones(2),
        "b": b"xy",
        "s": slice(1, None, 2),
    }
    back = deserialize_keras_object(json.loads(json.dumps(serialize_keras_object(value))))
    np.testing.assert_array_equal(back["a"], np.arange(3))
    assert back["a"].dtype == np.int32 and torch.equal(back["t"], torch.ones(2))
    assert back["b"] == b"xy" and back["s"] == slice(1, None, 2)
    assert deserialize_keras_object({"class_name": "__ellipsis__", "config": {}}) is Ellipsis
    with pytest.raises(ValueError, match="Refusing a __numpy__ value of dtype object"):
        deserialize_keras_object(
            {"class_name": "__numpy__", "config": {"value": [1], "dtype": "O"}}
        )


def test_functions_are_saved_by_name() -> None:
    config = serialize_keras_object(losses.mean_squared_error)
    assert config == {
        "module": "keras.losses",
        "class_name": "function",
        "config": "mean_squared_error",
        "registered_name": "mean_squared_error",
    }
    assert deserialize_keras_object(config) is losses.mean_squared_error
    assert (
        deserialize_keras_object(serialize_keras_object(kseq.activations.relu))
        is kseq.activations.relu
    )
    with pytest.raises(ValueError, match="Cannot serialize the Python lambda"):
        serialize_keras_object(lambda x: x)


def test_keras_torch_backend_optimizer_module_resolves() -> None:
    config = {
        "module": "keras.src.backend.torch.optimizers.torch_adam",
        "class_name": "Adam",
        "config": {"learning_rate": 0.5},
        "registered_name": "Adam",
    }
    assert isinstance(deserialize_keras_object(config), optimizers.Adam)


def test_unknown_and_code_bearing_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="Could not locate class 'Popen'"):
        deserialize_keras_object({"module": "subprocess", "class_name": "Popen", "config": {}})
    with pytest.raises(ValueError, match="Could not locate function 'system'"):
        deserialize_keras_object({"module": "os", "class_name": "function", "config": "system"})
    lam = {"class_name": "__lambda__", "config": {"value": ["AAAA", None, None]}}
    with pytest.raises(ValueError, match="Requested the deserialization of a Python lambda"):
        deserialize_keras_object({"deep": [{"x": lam}]})
    with pytest.raises(ValueError, match="never rebuilds functions from bytecode"):
        deserialize_keras_object(lam, safe_mode=False)


def test_safe_mode_scopes() -> None:
    assert in_safe_mode()
    with safe_mode_scope(False):
        assert not in_safe_mode()
        with safe_mode_scope(True):
            assert in_safe_mode()
    kseq.config.enable_unsafe_deserialization()
    try:
        with safe_mode_scope(True):
            assert not in_safe_mode()  # the global switch wins, as in Keras
    finally:
        kseq.config.disable_unsafe_deserialization()
    assert in_safe_mode()


def test_custom_objects_and_registered_names() -> None:
    class Twice(kseq.regularizers.Regularizer):
        def __init__(self, factor: float = 2.0) -> None:
            self.factor = factor

        def __call__(self, x: torch.Tensor) -> torch.Tensor:
            return self.factor * x.sum()

        def get_config(self) -> dict[str, Any]:
            return {"factor": self.factor}

    config = json.loads(json.dumps(serialize_keras_object(Twice(3.0))))
    assert config["registered_name"] == "Twice" and config["module"] == __name__
    with pytest.raises(ValueError, match="Could not locate class 'Twice'"):
        deserialize_keras_object(config)
    assert deserialize_keras_object(config, custom_objects={"Twice": Twice}).factor == 3.0
