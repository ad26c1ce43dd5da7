"""Several inputs and outputs: list/dict data, per-output losses, loss_weights and metrics,
Keras's log keys and evaluate order, predict's list, and the structure errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import kseq

RNG = np.random.default_rng(0)
X1 = RNG.random((40, 5)).astype("float32")
X2 = RNG.random((40, 5)).astype("float32")
Y1 = RNG.random((40, 1)).astype("float32")
Y2 = RNG.integers(0, 3, (40,))


def two_in_two_out(lib: Any, dict_out: bool = False) -> Any:
    """Two inputs through one shared Dense, merged with `add`, then a regression and a
    3-class head (a subclassed model, in kseq or in Keras)."""

    class TwoHeads(lib.Model):
        def __init__(self) -> None:
            super().__init__()
            self.shared = lib.layers.Dense(8, activation="relu")
            self.reg = lib.layers.Dense(1)
            self.cls = lib.layers.Dense(3, activation="softmax")

        def call(self, inputs: Any) -> Any:
            x1, x2 = (inputs["a"], inputs["b"]) if isinstance(inputs, dict) else inputs
            h = lib.layers.add([self.shared(x1), self.shared(x2)])
            if dict_out:
                return {"reg": self.reg(h), "cls": self.cls(h)}
            return [self.reg(h), self.cls(h)]

    return TwoHeads()


def compile_two(model: Any) -> None:
    model.compile(
        optimizer="sgd",
        loss=["mse", "sparse_categorical_crossentropy"],
        loss_weights=[1.0, 0.5],
        metrics=[["mae"], ["accuracy"]],
    )


@pytest.mark.keras
def test_one_epoch_matches_keras(keras: Any) -> None:
    ours, theirs = two_in_two_out(kseq), two_in_two_out(keras)
    ours([torch.tensor(X1[:1]), torch.tensor(X2[:1])]), theirs([X1[:1], X2[:1]])
    for name in ("shared", "reg", "cls"):
        getattr(ours, name).set_weights(getattr(theirs, name).get_weights())
    compile_two(ours), compile_two(theirs)
    assert ours.metrics_names == theirs.metrics_names == ["loss", "compile_metrics"]
    kw = {"epochs": 1, "batch_size": 8, "shuffle": False, "verbose": 0, "validation_split": 0.25}
    h_ours = ours.fit([X1, X2], [Y1, Y2], **kw).history
    h_theirs = theirs.fit([X1, X2], [Y1, Y2], **kw).history
    assert sorted(h_ours) == sorted(h_theirs)
    for key in h_theirs:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-4, atol=1e-5, err_msg=key)
    assert ours.metrics_names == theirs.metrics_names
    assert [m.name for m in ours.metrics[1].metrics] == [m.name for m in theirs.metrics[1].metrics]
    np.testing.assert_allclose(
        ours.evaluate([X1, X2], [Y1, Y2], verbose=0),
        theirs.evaluate([X1, X2], [Y1, Y2], verbose=0),
        rtol=1e-4,
        atol=1e-5,
    )
    p_ours, p_theirs = ours.predict([X1, X2], verbose=0), theirs.predict([X1, X2], verbose=0)
    assert isinstance(p_ours, list) and [p.shape for p in p_ours] == [(40, 1), (40, 3)]
    for a, b in zip(p_ours, p_theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_dict_inputs_and_outputs_train_with_named_losses() -> None:
    model = two_in_two_out(kseq, dict_out=True)
    model.compile(
        optimizer=kseq.optimizers.Adam(0.02),
        loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"reg": 0.5, "cls": 1.0},
        metrics={"cls": ["accuracy"]},
    )
    total = (X1 + X2).sum(1)
    labels = np.digitize(total, np.quantile(total, [1 / 3, 2 / 3]))  # three balanced classes
    history = model.fit(
        {"a": X1, "b": X2}, {"reg": Y1, "cls": labels}, epochs=60, batch_size=8, verbose=0
    )
    assert sorted(history.history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"]
    assert history.history["cls_accuracy"][-1] > 0.6  # three balanced classes: chance is 1/3
    logs = model.evaluate(
        {"a": X1, "b": X2}, {"reg": Y1, "cls": labels}, verbose=0, return_dict=True
    )
    assert sorted(logs) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"]
    out = model.predict({"a": X1, "b": X2}, verbose=0)
    assert sorted(out) == ["cls", "reg"] and out["cls"].shape == (40, 3)


def test_per_output_sample_weight_zero_removes_that_sample() -> None:
    model = two_in_two_out(kseq)
    compile_two(model)
    full = model.evaluate([X1, X2], [Y1, Y2], verbose=0, return_dict=True)
    weights = np.ones(40, "float32")
    weights[20:] = 0.0
    half = model.evaluate(
        [X1, X2], [Y1, Y2], sample_weight=[weights, np.ones(40, "float32")], verbose=0,
        return_dict=True,
    )  # fmt: skip
    first = model.evaluate([X1[:20], X2[:20]], [Y1[:20], Y2[:20]], verbose=0, return_dict=True)
    assert half["mse_loss"] == pytest.approx(first["mse_loss"] / 2, rel=1e-4)  # sum / all 40
    assert half["sparse_categorical_crossentropy_loss"] == pytest.approx(
        full["sparse_categorical_crossentropy_loss"], rel=1e-5
    )


@pytest.mark.parametrize(
    ("kwargs", "fit_y", "message"),
    [
        ({"loss": ["mse", "mse", "mse"]}, [Y1, Y2], "expected 2 entries, but received 3"),
        ({"loss": ["mse", "mse"], "loss_weights": [1.0]}, [Y1, Y2], "expected 2 entries"),
        (
            {"loss": ["mse", "sparse_categorical_crossentropy"], "metrics": ["mae", "mae", "mae"]},
            [Y1, Y2],
            "`metrics` must have",
        ),
        ({"loss": "mse"}, [Y1], "must be a list of 2 arrays"),
        ({"loss": "mse"}, {"reg": Y1, "oops": Y2}, "Expected `y` keys"),
    ],
)
def test_structure_errors_before_training(kwargs: dict, fit_y: Any, message: str) -> None:
    model = two_in_two_out(kseq, dict_out=isinstance(fit_y, dict))
    model.compile(optimizer="sgd", **kwargs)
    model([torch.tensor(X1[:1]), torch.tensor(X2[:1])])
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=message):
        model.fit([X1, X2], fit_y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_loss_dict_with_a_wrong_key() -> None:
    model = two_in_two_out(kseq, dict_out=True)
    model.compile(optimizer="sgd", loss={"reg": "mse", "clss": "mse"})
    with pytest.raises(ValueError, match=r"Expected keys \['cls', 'reg'\] in `loss` dict"):
        model.fit([X1, X2], {"reg": Y1, "cls": Y2}, epochs=1, verbose=0)


def test_class_weight_needs_a_single_output() -> None:
    model = two_in_two_out(kseq)
    compile_two(model)
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.fit([X1, X2], [Y1, Y2], class_weight={0: 1.0, 1: 2.0}, verbose=0)
