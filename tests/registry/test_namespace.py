"""The one ``Namespace`` type: every catalogue registers its names into it, configs are routed
through the table of namespaces, and classes found by name (Sequential, Model) register themselves."""

from __future__ import annotations

import pytest
import torch

import kseq
from kseq import activations, initializers, layers, losses, metrics, optimizers, regularizers
from kseq.registry.namespace import MODELS, NAMESPACES, Namespace, namespaces


@pytest.mark.parametrize(
    ("keyword", "module"),
    [
        ("layers", "keras.layers"),
        ("initializers", "keras.initializers"),
        ("regularizers", "keras.regularizers"),
        ("constraints", "keras.constraints"),
        ("losses", "keras.losses"),
        ("metrics", "keras.metrics"),
        ("schedules", "keras.optimizers.schedules"),
        ("optimizers", "keras.optimizers"),
        ("activations", "keras.activations"),
        ("models", "keras"),
        ("dtype_policies", "keras"),
        ("keras", "keras"),
    ],
)
def test_every_catalogue_is_registered_under_its_keras_keyword(keyword: str, module: str) -> None:
    assert NAMESPACES[keyword].module == module
    assert keyword in namespaces()


def test_module_paths_match_keywords_in_keras_order() -> None:
    # "keras.optimizers.schedules" is a schedule, not an optimizer.
    order = list(namespaces())
    assert order.index("schedules") < order.index("optimizers")
    assert order.index("layers") < order.index("activations")


def test_catalogue_functions_are_the_namespace_methods() -> None:
    assert initializers.get.__self__ is NAMESPACES["initializers"]
    assert losses.get_function.__self__ is NAMESPACES["losses"]
    assert initializers._ALL is NAMESPACES["initializers"].table


def test_models_register_themselves_into_the_keras_namespace() -> None:
    assert MODELS.table["Sequential"] is kseq.Sequential
    assert MODELS.table["Model"] is kseq.Model
    assert MODELS.table["DTypePolicy"] is kseq.mixed_precision.DTypePolicy
    assert NAMESPACES["keras"] is MODELS
    assert NAMESPACES["dtype_policies"].table is MODELS.table


def test_a_nested_sequential_round_trips_through_the_layer_namespace() -> None:
    inner = kseq.Sequential([layers.Dense(2, name="inner_dense")], name="inner")
    config = layers.serialize(inner)
    assert (config["module"], config["class_name"]) == ("keras", "Sequential")
    rebuilt = layers.deserialize(config)
    assert type(rebuilt) is kseq.Sequential
    assert [layer.name for layer in rebuilt.layers] == ["inner_dense"]


def test_a_new_namespace_has_the_shared_rules() -> None:
    # A class name no doctest registers globally (registered objects are looked up first).
    class Amplifier:
        def __init__(self, factor: float = 2.0) -> None:
            self.factor = factor

        def __call__(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.factor

        def get_config(self) -> dict[str, float]:
            return {"factor": self.factor}

        @classmethod
        def from_config(cls, config: dict[str, float]) -> Amplifier:
            return cls(**config)

    demo = Namespace("scaler", "test_scalers", "demo.scalers", base=Amplifier)
    try:
        demo.register(Amplifier, aliases={"double": Amplifier}, snake_case=True)
        assert demo.names() == ["Amplifier", "amplifier", "double"]
        assert demo.get(None) is None
        assert isinstance(demo.get("double"), Amplifier)
        assert isinstance(demo.get(Amplifier), Amplifier)
        assert demo.get(abs) is abs
        config = demo.serialize(Amplifier(3.0))
        assert config == {
            "module": "demo.scalers",
            "class_name": "Amplifier",
            "config": {"factor": 3.0},
            "registered_name": None,
        }
        assert demo.get(config).factor == 3.0
        with pytest.raises(
            ValueError, match=r"Unknown scaler: 'amplifeir'\. Did you mean 'amplifier'\?"
        ):
            demo.get("amplifeir")
        with pytest.raises(ValueError, match="Could not interpret scaler identifier: 3"):
            demo.get(3)
    finally:
        NAMESPACES.pop("test_scalers")


def test_catalogue_specific_rules_are_kept() -> None:
    assert activations.get(None) is activations.linear
    assert activations.serialize(activations.silu) == "silu"
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    assert type(optimizers.get("ADAM")).__name__ == "Adam"
    with pytest.raises(TypeError, match="torch optimizer class SGD"):
        optimizers.get(torch.optim.SGD)
    assert metrics.deserialize("log_cosh") is metrics.log_cosh  # no class of that name
    assert losses.serialize(losses.mean_squared_error) == "mean_squared_error"
    assert "accuracy" in metrics.names() and "adam" in optimizers.names()
