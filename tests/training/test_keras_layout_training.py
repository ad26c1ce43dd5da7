"""Training with Keras-layout ``weights``: ``fit``, the guide's custom ``train_step`` and a torch-face
loop give the same weights, and ``fit`` never touches the Keras-layout variables.

``model.trainable_weights`` are Keras-layout :class:`kseq.Variable` views over the torch
parameters (``Dense``'s kernel is ``(in, out)`` over ``linear.weight (out, in)``, GRU's gates are
reordered). Keras's torch guide "Customizing what happens in fit()" trains through them::

    gradients = [v.value.grad for v in trainable_weights]
    with torch.no_grad():
        self.optimizer.apply(gradients, trainable_weights)

and ``fit`` trains ``parameters()`` directly. Both must update the same torch parameters with the
same numbers as the pre-Keras-layout code, which handed the optimizer the torch parameters
themselves (``_torch_trainable_weights()``, the "torch face" model below).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq.layers import weight_views
from kseq.layers.weight_views import LayoutVariable


def guide_train_step(self: Any, data: Any) -> dict[str, Any]:
    """The first ``train_step`` of Keras's torch guide, verbatim (comments aside)."""
    x, y = data
    self.zero_grad()
    y_pred = self(x, training=True)  # Forward pass
    loss = self.compute_loss(y=y, y_pred=y_pred)
    loss.backward()
    trainable_weights = [v for v in self.trainable_weights]
    gradients = [v.value.grad for v in trainable_weights]
    with torch.no_grad():
        self.optimizer.apply(gradients, trainable_weights)
    for metric in self.metrics:
        if metric.name == "loss":
            metric.update_state(loss)
        else:
            metric.update_state(y, y_pred)
    return {m.name: m.result() for m in self.metrics}


def torch_face_train_step(self: Any, data: Any) -> dict[str, Any]:
    """The same step on the torch parameters (what ``trainable_weights`` held before)."""
    x, y = data
    self.zero_grad()
    loss = self.compute_loss(y=y, y_pred=self(x, training=True))
    loss.backward()
    params = self._torch_trainable_weights()
    with torch.no_grad():
        self.optimizer.apply([p.grad for p in params], params)
    return {"loss": loss.detach()}


class GuideModel(kseq.Sequential):
    train_step = guide_train_step


class TorchFaceModel(kseq.Sequential):
    train_step = torch_face_train_step


def conv_lstm_layers() -> list[Any]:
    """Dense + LSTM + GRU + Conv1D (+ BatchNormalization's buffers): views, a gate-order copy."""
    layers = kseq.layers
    return [
        kseq.Input((8, 3)),
        layers.Conv1D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.LSTM(5, return_sequences=True),
        layers.GRU(4),
        layers.Dense(6, activation="relu"),
        layers.Dense(1),
    ]


def data(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 8, 3)).astype("float32")
    return x, (x[:, :, 0].mean(axis=1, keepdims=True) > 0).astype("float32")


OPTIMIZERS = {
    "adam": lambda: kseq.optimizers.Adam(learning_rate=0.01),
    "sgd": lambda: kseq.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "rmsprop": lambda: kseq.optimizers.RMSprop(learning_rate=0.005),
}


def trained(cls: type, optimizer: str, start: dict[str, torch.Tensor]) -> Any:
    model = cls(conv_lstm_layers())
    model.load_state_dict(start)
    model.compile(optimizer=OPTIMIZERS[optimizer](), loss="mse")
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    return model


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_fit_guide_step_and_torch_face_train_the_same_weights(optimizer: str) -> None:
    start = copy.deepcopy(kseq.Sequential(conv_lstm_layers()).state_dict())
    by_fit = trained(kseq.Sequential, optimizer, start)
    by_guide = trained(GuideModel, optimizer, start)
    by_torch = trained(TorchFaceModel, optimizer, start)
    expected = by_torch.state_dict()
    assert not torch.allclose(expected["5.linear.weight"], start["5.linear.weight"])
    for model in (by_fit, by_guide):
        for key, value in model.state_dict().items():
            torch.testing.assert_close(value, expected[key], rtol=1e-5, atol=1e-6, msg=key)
    # The Keras-layout step moves the optimizer along the same iterations and the same slots.
    assert int(by_guide.optimizer.iterations) == int(by_torch.optimizer.iterations) == 8
    for mine, theirs in zip(
        by_guide.optimizer.variables, by_torch.optimizer.variables, strict=True
    ):
        torch.testing.assert_close(torch.as_tensor(mine), torch.as_tensor(theirs))


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_optimizer_built_from_keras_layout_weights_holds_the_torch_parameters(
    optimizer: str,
) -> None:
    start = copy.deepcopy(kseq.Sequential(conv_lstm_layers()).state_dict())
    for cls in (kseq.Sequential, GuideModel):
        model = trained(cls, optimizer, start)
        params = [p for p in model.parameters() if p.requires_grad]
        assert [id(p) for p in model.optimizer._params] == [
            id(p) for p in model._torch_trainable_weights()
        ]
        assert {id(p) for p in model.optimizer._params} == {id(p) for p in params}
        assert not any(isinstance(p, LayoutVariable) for p in model.optimizer._params)
        torch_optimizer = getattr(model.optimizer, "torch_optimizer", None)
        if torch_optimizer is not None:  # Adam: torch's fused/foreach kernel on nn.Parameters
            grouped = [p for group in torch_optimizer.param_groups for p in group["params"]]
            assert [id(p) for p in grouped] == [id(p) for p in model.optimizer._params]
            assert all(type(p) is not LayoutVariable for p in grouped)


def test_keras_layout_weights_and_their_grads_are_views_of_the_torch_face() -> None:
    model = kseq.Sequential(conv_lstm_layers())
    x, y = data(8)
    loss = torch.nn.functional.mse_loss(model(x, training=True), torch.as_tensor(y))
    loss.backward()
    dense = model.layers[-1]
    kernel = dense.trainable_weights[0]
    assert isinstance(kernel, LayoutVariable) and tuple(kernel.shape) == (6, 1)
    # ``v.value.grad`` is the Keras-layout view of the parameter's own gradient: no copy.
    assert kernel.value.grad.data_ptr() == dense.linear.weight.grad.data_ptr()
    torch.testing.assert_close(kernel.value.grad, dense.linear.weight.grad.T)
    gru_kernel = model.layers[3].kernel  # gate order (z, r, h) from torch's (r, z, n): a copy
    assert tuple(gru_kernel.value.grad.shape) == (5, 12)


class Counted:
    """Counts every use of the Keras-layout variables (creation, reads, torch ops on them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        originals = {
            "_bind": LayoutVariable.__dict__["_bind"].__func__,
            "__torch_function__": LayoutVariable.__dict__["__torch_function__"].__func__,
        }
        for name, original in originals.items():
            monkeypatch.setattr(LayoutVariable, name, classmethod(self._counting(original)))
        monkeypatch.setattr(LayoutVariable, "_live", self._counting(LayoutVariable._live))
        keras_variables = weight_views.keras_variables
        monkeypatch.setattr("kseq.layers.weights.keras_variables", self._counting(keras_variables))

    def _counting(self, function: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return function(*args, **kwargs)

        return counted


def test_fit_evaluate_predict_never_touch_the_keras_layout_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layers = kseq.layers
    model = kseq.Sequential([
        kseq.Input((8, 3)), layers.Conv1D(4, 3, kernel_regularizer="l2"),
        layers.BatchNormalization(), layers.LSTM(5, dropout=0.1), layers.Dropout(0.2),
        layers.Dense(6, activation="relu", kernel_constraint=kseq.constraints.MaxNorm(2.0)),
        layers.Dense(1, activation="sigmoid"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x, y = data()
    counter = Counted(monkeypatch)
    assert model.weights and counter.calls > 0  # the counter sees a read of `weights`
    counter.calls = 0
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert counter.calls == 0
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_guide_step_trains_a_conv_lstm_model_to_a_set_loss() -> None:
    model = GuideModel(conv_lstm_layers())
    model.compile(optimizer=kseq.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    x, y = data(256)
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < 0.08 < 0.2 < history.history["loss"][0]
    accuracy = ((model.predict(x, verbose=0) > 0.5) == y).mean()
    assert accuracy > 0.8  # chance is about 0.5


def lib_layers(lib: Any) -> list[Any]:
    layers = lib.layers
    return [
        lib.Input((8, 3)), layers.Conv1D(4, 3, padding="same", activation="relu"),
        layers.LSTM(5, return_sequences=True), layers.GRU(4), layers.Dense(1),
    ]  # fmt: skip


@pytest.mark.keras
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_guide_step_through_keras_layout_weights_matches_keras(keras: Any, optimizer: str) -> None:
    keras_model = type("GuideModel", (keras.Sequential,), {"train_step": guide_train_step})(
        lib_layers(keras)
    )
    kseq_model = GuideModel(lib_layers(kseq))
    kseq_model.set_weights(keras_model.get_weights())
    x, y = data()
    for model, lib in ((keras_model, keras), (kseq_model, kseq)):
        make = {"adam": lib.optimizers.Adam, "sgd": lib.optimizers.SGD}[optimizer]
        model.compile(optimizer=make(learning_rate=0.01), loss="mse", metrics=["mae"])
        model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    for mine, theirs in zip(kseq_model.weights, keras_model.weights, strict=True):
        assert (mine.name, tuple(mine.shape)) == (theirs.name, tuple(theirs.shape))
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-5)


def test_apply_gradients_with_keras_layout_copies_of_the_grads() -> None:
    """A hand-written loop (Keras's "training loop from scratch", torch version) whose gradients
    are new Keras-layout tensors, not views of ``.grad``: mapped back into torch layout."""
    start = copy.deepcopy(kseq.Sequential(conv_lstm_layers()).state_dict())
    x, y = data(32)
    results = []
    for keras_face in (True, False):
        model = kseq.Sequential(conv_lstm_layers())
        model.load_state_dict(start)
        optimizer = kseq.optimizers.SGD(learning_rate=0.1, momentum=0.5)
        for step in range(3):
            batch = slice(step * 8, step * 8 + 8)
            loss = torch.nn.functional.mse_loss(
                model(x[batch], training=True), torch.as_tensor(y[batch])
            )
            model.zero_grad()
            loss.backward()
            if keras_face:
                variables = model.trainable_weights
                grads = [v.value.grad.clone() * 1.0 for v in variables]  # fresh tensors
            else:
                variables = model._torch_trainable_weights()
                grads = [p.grad for p in variables]
            with torch.no_grad():
                optimizer.apply_gradients(zip(grads, variables, strict=True))
        results.append(model.state_dict())
    for key, value in results[0].items():
        torch.testing.assert_close(value, results[1][key], rtol=1e-6, atol=1e-7, msg=key)
    assert not torch.equal(results[0]["0.conv.weight"], start["0.conv.weight"])
