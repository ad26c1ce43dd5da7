"""EarlyStopping in real fits: plateau stop and messages against Keras, device-side restore of
the best weights, mode inference and its errors, the missing-metric warning."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import kseq
from kseq.callbacks import EarlyStopping, LambdaCallback


def _data(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = rng.normal(size=(96, 1)).astype("float32")  # unrelated to x: val_loss plateaus
    return x[:64], y[:64], x[64:], y[64:]


def _model(lib, lr: float = 0.05):
    model = lib.Sequential([lib.Input(shape=(4,)), lib.layers.Dense(1)])
    model.compile(optimizer=lib.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def _fit(model, callbacks, epochs: int = 40):
    x, y, vx, vy = _data()
    return model.fit(
        x, y, batch_size=16, epochs=epochs, shuffle=False, validation_data=(vx, vy),
        callbacks=callbacks, verbose=0,
    )  # fmt: skip


@pytest.mark.keras
def test_plateau_stops_at_the_same_epoch_as_keras(keras, capsys) -> None:
    ref = _model(keras)
    ours = _model(kseq)
    ours.set_weights(ref.get_weights())
    kwargs = {"min_delta": 1e-3, "patience": 2, "verbose": 1, "restore_best_weights": True}
    ref_history = _fit(ref, [keras.callbacks.EarlyStopping(**kwargs)])
    ref_out = capsys.readouterr().out
    history = _fit(ours, [EarlyStopping(**kwargs)])
    out = capsys.readouterr().out
    assert len(history.epoch) == len(ref_history.epoch) < 40
    assert out == ref_out
    assert "early stopping" in out and "Restoring model weights" in out
    for w, ref_w in zip(ours.get_weights(), ref.get_weights(), strict=True):
        np.testing.assert_allclose(w, ref_w, atol=1e-5)


def test_restore_best_weights_copies_on_device(monkeypatch, capsys) -> None:
    model = _model(kseq)
    snapshots: list[dict[str, torch.Tensor]] = []
    keep = LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.append(
            {k: v.clone() for k, v in model.state_dict().items()}
        )
    )

    def no_numpy_round_trip(*args, **kwargs):
        raise AssertionError("EarlyStopping must not go through get_weights()/set_weights()")

    monkeypatch.setattr(model, "get_weights", no_numpy_round_trip)
    monkeypatch.setattr(model, "set_weights", no_numpy_round_trip)
    stop = EarlyStopping(min_delta=1e-3, patience=3, restore_best_weights=True, verbose=1)
    history = _fit(model, [stop, keep])
    val = history.history["val_loss"]
    best = stop.best_epoch
    assert stop.stopped_epoch == len(val) - 1 == best + 3  # patience 3
    assert val[best] == min(val)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, snapshots[best][key], rtol=0, atol=0)
    kernel = next(iter(model.state_dict()))
    assert not torch.equal(snapshots[-1][kernel], snapshots[best][kernel])
    assert capsys.readouterr().out.endswith(
        f"Restoring model weights from the end of the best epoch: {best + 1}.\n"
    )


def test_without_restore_the_last_weights_stay() -> None:
    model = _model(kseq)
    stop = EarlyStopping(min_delta=1e-3, patience=2)
    history = _fit(model, [stop])
    assert stop.best_weights is None
    assert stop.stopped_epoch == len(history.epoch) - 1 > 0


def test_reusable_across_fits() -> None:
    stop = EarlyStopping(monitor="loss", min_delta=1e-3, patience=1)
    model = _model(kseq)
    first = _fit(model, [stop])
    second = _fit(model, [stop], epochs=3)
    assert len(first.epoch) < 40
    assert stop.wait <= 1 and len(second.epoch) >= 2  # a fresh start, not the previous stop


def test_missing_metric_warns_with_keras_text() -> None:
    stop = EarlyStopping(monitor="val_loss")
    stop.set_model(SimpleNamespace(metrics=[], stop_training=False))
    with pytest.warns(
        UserWarning,
        match=r"^Early stopping conditioned on metric `val_loss` which is not available\. "
        r"Available metrics are: accuracy,loss$",
    ):
        stop.on_epoch_end(0, {"accuracy": 0.5, "loss": 1.0})


def test_auto_mode_unknown_metric_raises() -> None:
    stop = EarlyStopping(monitor="val_f1")
    stop.set_model(SimpleNamespace(metrics=[], stop_training=False))
    with pytest.raises(
        ValueError, match=r"EarlyStopping callback received monitor=val_f1, but Keras isn't able"
    ):
        stop.on_epoch_end(0, {"val_f1": 0.5})


def test_auto_mode_follows_the_metric_direction() -> None:
    up = SimpleNamespace(name="auc", _direction="up")
    stop = EarlyStopping(monitor="val_auc", patience=0)
    model = SimpleNamespace(metrics=[SimpleNamespace(name="loss"), up], stop_training=False)
    stop.set_model(model)
    stop.on_train_begin()
    stop.on_epoch_end(0, {"val_auc": 0.5})
    stop.on_epoch_end(1, {"val_auc": 0.6})  # higher is better: no stop
    assert not model.stop_training
    stop.on_epoch_end(2, {"val_auc": 0.55})
    assert model.stop_training and stop.stopped_epoch == 2


def test_unknown_mode_warns_and_falls_back_to_auto() -> None:
    with pytest.warns(
        UserWarning, match="EarlyStopping mode 'bigger' is unknown, fallback to auto mode."
    ):
        stop = EarlyStopping(mode="bigger")
    assert stop.mode == "auto"
