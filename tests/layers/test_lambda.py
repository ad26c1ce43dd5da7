"""``Lambda``: calling conventions, output-shape inference, masks in a Sequential, and Keras-format
serialization (named functions by name; Python lambdas as bytecode, loadable only in unsafe mode,
in both directions between kseq and Keras)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from _layer_parity import jsonable

import kseq
from kseq import activations
from kseq.layers import Dense, Embedding, Input, Lambda
from kseq.saving import custom_object_scope, register_keras_serializable

UNSAFE = "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda"


def double(x: torch.Tensor) -> torch.Tensor:
    return x * 2


@register_keras_serializable(package="test_lambda")
def scale_and_shift(x: torch.Tensor, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    return x * scale + shift


def _lambda_config(fn, **kwargs) -> dict:
    layer = Lambda(fn, **kwargs)
    with pytest.warns(UserWarning, match="serialized with a Python lambda"):
        return json.loads(json.dumps(layer.get_config()))


# ------------------------------------------------------------------ calling
def test_function_arguments_training_and_mask_are_passed() -> None:
    seen = {}

    def fn(x, mask=None, training=None, power=1):
        seen.update(mask=mask, training=training)
        return x**power

    layer = Lambda(fn, arguments={"power": 3})
    mask = torch.tensor([True, False])
    assert layer(torch.tensor([2.0, 3.0]), mask=mask, training=True).tolist() == [8.0, 27.0]
    assert seen["mask"] is mask and seen["training"] is True
    layer.train()
    layer(torch.ones(2))  # training=None follows the module's mode
    assert seen["training"] is True and seen["mask"] is None
    layer.eval()
    layer(torch.ones(2))
    assert seen["training"] is False


def test_non_callable_is_rejected() -> None:
    with pytest.raises(TypeError, match="must be a callable on tensors"):
        Lambda(3)  # type: ignore[arg-type]


# ------------------------------------------------------------------ output shapes
@pytest.mark.parametrize(
    "fn, input_shape, expected",
    [
        (lambda x: x * 2, (None, 3), (None, 3)),
        (lambda x: x.sum(dim=1), (None, 5, 4), (None, 4)),
        (lambda x: torch.cat([x, x], dim=-1), (None, None, 4), (None, None, 8)),
        (lambda x: x.reshape(x.shape[0], -1), (None, 2, 3), (None, 6)),
        (lambda x: x[:, :2], (8, 5), (8, 2)),
        (
            lambda x: x + torch.ones(3),
            (None, 3),
            (None, 3),
        ),  # CPU tensor: the meta run fails, CPU works
    ],
)
def test_output_shape_is_inferred_by_running_the_function(fn, input_shape, expected) -> None:
    layer = Lambda(fn)
    assert layer.compute_output_shape(input_shape) == expected
    concrete = tuple(7 if d is None else d for d in input_shape)
    real = layer(torch.zeros(concrete)).shape
    assert all(e in (None, r) for e, r in zip(expected, real, strict=True))


def test_explicit_output_shapes() -> None:
    assert Lambda(double, output_shape=(4, 2)).compute_output_shape((None, 8)) == (None, 4, 2)
    by_fn = Lambda(double, output_shape=lambda s: (s[0], s[1] * 2))
    assert by_fn.compute_output_shape((None, 3)) == (None, 6)


def test_uninferable_output_shape_says_what_to_do() -> None:
    layer = Lambda(lambda x: x.nonexistent())
    with pytest.raises(NotImplementedError, match="Please specify the `output_shape` argument"):
        layer.compute_output_shape((None, 3))


def test_lambda_in_a_sequential_builds_and_keeps_the_fast_path() -> None:
    model = kseq.Sequential(
        [
            Input((6,)),
            Lambda(lambda x: x / 255.0),
            Dense(4),
            Lambda(torch.relu),
            Dense(3, activation="softmax"),
        ]
    )
    assert model.output_shape == (None, 3)
    assert model.layers[0].output_shape == (None, 6)
    assert (
        model._final_activation_split() is activations.softmax
    )  # no mask path for mask-less Lambdas
    x = np.random.default_rng(0).uniform(0, 255, size=(32, 6)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, size=32)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_lambda_mask_reaches_the_next_layer_and_masks_are_dropped_otherwise() -> None:
    seen = []

    def record(x, mask=None):
        seen.append(mask)
        return x

    model = kseq.Sequential(
        [
            Input((4,)),
            Embedding(10, 2, mask_zero=True),
            Lambda(lambda x: x * 2),  # no `mask=`: drops the incoming mask, as in Keras
            Lambda(record),
            Lambda(lambda x: x, mask=lambda inputs, mask: inputs[..., 0] > 0),
            Lambda(record),
        ]
    )
    seen.clear()  # building ran the functions on dummy inputs to infer shapes
    model(torch.tensor([[1, 2, 0, 0]]))
    assert len(seen) == 2 and seen[0] is None
    assert seen[1] is not None and seen[1].shape == (1, 4)


# ------------------------------------------------------------------ serialization
def test_named_and_registered_functions_are_stored_by_name() -> None:
    config = Lambda(activations.relu).get_config()
    assert config["function"] == {
        "module": "builtins",
        "class_name": "function",
        "config": "relu",
        "registered_name": "function",
    }
    assert Lambda.from_config(config).function is activations.relu
    layer = Lambda(scale_and_shift, arguments={"scale": 2.0, "shift": np.float32(1.0)})
    config = json.loads(json.dumps(layer.get_config()))
    assert config["function"]["config"] == "test_lambda>scale_and_shift"
    clone = Lambda.from_config(config)
    assert clone.function is scale_and_shift and clone(torch.ones(2)).tolist() == [3.0, 3.0]


def test_unregistered_functions_need_custom_objects() -> None:
    config = Lambda(double, output_shape=(3,)).get_config()
    with pytest.raises(TypeError, match="Could not locate function 'double'"):
        Lambda.from_config(config)
    with custom_object_scope({"double": double}):
        clone = Lambda.from_config(config)
    assert clone.function is double and clone.compute_output_shape((None, 3)) == (None, 3)
    assert Lambda.from_config(config, custom_objects={"double": double}).function is double


def test_python_lambdas_load_only_in_unsafe_mode() -> None:
    offset = 3.0
    config = _lambda_config(lambda x, k=2.0: x * k + offset, output_shape=lambda s: s)
    assert config["function"]["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match=UNSAFE):
        Lambda.from_config(config)
    clone = Lambda.from_config(config, safe_mode=False)
    assert clone(torch.ones(2)).tolist() == [5.0, 5.0]  # defaults and closure survived JSON
    assert clone.compute_output_shape((None, 2)) == (None, 2)
    kseq.config.enable_unsafe_deserialization()
    try:
        assert Lambda.from_config(config)(torch.zeros(1)).tolist() == [3.0]
    finally:
        kseq.config.disable_unsafe_deserialization()


def test_loaded_lambdas_see_torch_and_math() -> None:
    config = _lambda_config(lambda x: torch.clamp(x, max=math.pi) + F.relu(x) * 0)  # noqa: F821
    clone = Lambda.from_config(config, safe_mode=False)
    assert clone(torch.tensor([5.0])).tolist() == [pytest.approx(math.pi)]


def test_corrupt_bytecode_is_a_clear_error() -> None:
    config = _lambda_config(lambda x: x)
    config["function"]["config"]["code"] = "bm90IGJ5dGVjb2Rl\n"
    with pytest.raises(
        ValueError, match="bytecode is corrupt or was written by another Python version"
    ):
        Lambda.from_config(config, safe_mode=False)


def test_arguments_with_arrays_and_tensors_round_trip() -> None:
    layer = Lambda(scale_and_shift, arguments={"scale": torch.tensor([1.0, 2.0]), "shift": 0.5})
    config = json.loads(json.dumps(layer.get_config()))
    assert config["arguments"]["scale"]["class_name"] == "__tensor__"
    clone = Lambda.from_config(config)
    assert clone(torch.ones(2)).tolist() == [1.5, 2.5]
    table = np.arange(3, dtype="int32")
    config = json.loads(json.dumps(Lambda(double, arguments={"table": table}).get_config()))
    restored = Lambda.from_config(config, custom_objects={"double": double}).arguments["table"]
    assert restored.dtype == np.int32 and restored.tolist() == [0, 1, 2]


def test_model_with_a_lambda_saves_and_loads(tmp_path) -> None:
    model = kseq.Sequential([Input((3,)), Lambda(lambda x: x + 1.0), Dense(2)])
    path = str(tmp_path / "m.keras")
    with pytest.warns(UserWarning, match="Python lambda"):
        model.save(path)
    with pytest.raises(ValueError, match="Requested the deserialization of a"):
        kseq.models.load_model(path)
    loaded = kseq.models.load_model(path, safe_mode=False)
    x = torch.randn(4, 3)
    torch.testing.assert_close(loaded(x), model(x))


@pytest.mark.keras
def test_config_and_bytecode_interoperate_with_keras(keras) -> None:
    # A named function: the same config as Keras's.
    ours = Lambda(activations.relu, output_shape=(3,), name="lam").get_config()
    theirs = keras.layers.Lambda(keras.activations.relu, output_shape=(3,), name="lam").get_config()
    assert jsonable(ours) == jsonable(theirs)
    # A Python lambda saved by Keras loads in kseq (same Python), and the other way round.
    keras_config = keras.layers.Lambda(lambda x: x * 3 - 1, name="lam").get_config()
    with pytest.raises(ValueError, match=UNSAFE):
        Lambda.from_config(jsonable(keras_config))
    assert Lambda.from_config(jsonable(keras_config), safe_mode=False)(torch.ones(1)).tolist() == [
        2.0
    ]
    ours = _lambda_config(lambda x: x * 3 - 1, name="lam")
    keras_layer = keras.layers.Lambda.from_config(ours, safe_mode=False)
    assert keras.ops.convert_to_numpy(keras_layer(np.ones(1, "float32"))).tolist() == [2.0]
    assert jsonable(ours).keys() == jsonable(keras_config).keys()
