"""ReduceLROnPlateau in real fits: the learning rate is cut when val_loss plateaus, at the same
epochs and with the same printed messages as Keras; ``learning_rate`` lands in the History."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

import kseq
from kseq.callbacks import ReduceLROnPlateau


def _fit(lib, model, callbacks, epochs: int = 12):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 3)).astype("float32")
    y = rng.normal(size=(80, 1)).astype("float32")  # noise: val_loss stops improving quickly
    return model.fit(
        x[:64], y[:64], batch_size=16, epochs=epochs, shuffle=False,
        validation_data=(x[64:], y[64:]), callbacks=callbacks, verbose=0,
    )  # fmt: skip


def _model(lib):
    model = lib.Sequential([lib.Input(shape=(3,)), lib.layers.Dense(1)])
    model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


@pytest.mark.keras
def test_plateau_reduces_like_keras(keras, capsys) -> None:
    ref, ours = _model(keras), _model(kseq)
    ours.set_weights(ref.get_weights())
    kwargs = {"factor": 0.5, "patience": 1, "min_delta": 1e-3, "cooldown": 1, "verbose": 1}
    ref_history = _fit(keras, ref, [keras.callbacks.ReduceLROnPlateau(**kwargs)])
    ref_out = capsys.readouterr().out
    history = _fit(kseq, ours, [ReduceLROnPlateau(**kwargs)])
    out = capsys.readouterr().out
    assert out == ref_out
    assert out.count("ReduceLROnPlateau reducing learning rate to") >= 2
    assert history.history["learning_rate"] == ref_history.history["learning_rate"]
    np.testing.assert_allclose(
        history.history["val_loss"], ref_history.history["val_loss"], atol=1e-5
    )


def test_learning_rate_is_logged_and_reduced_in_fit() -> None:
    model = _model(kseq)
    history = _fit(kseq, model, [ReduceLROnPlateau(factor=0.5, patience=1, min_delta=1e-3)])
    lrs = history.history["learning_rate"]
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] < lrs[0]
    assert all(b <= a for a, b in itertools.pairwise(lrs))
    # The logged value is read before the epoch's own cut, as in Keras.
    assert model.optimizer.learning_rate in (pytest.approx(lrs[-1]), pytest.approx(lrs[-1] * 0.5))


def test_torch_optimizer_groups_are_reduced() -> None:
    import torch

    model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(1)])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.compile(optimizer=opt, loss="mse")
    _fit(kseq, model, [ReduceLROnPlateau(factor=0.5, patience=0, min_delta=10.0)], epochs=3)
    # Epoch 0 sets the first "best"; the next two cannot improve by 10: two cuts.
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**2)


def test_factor_of_one_or_more_is_rejected() -> None:
    with pytest.raises(
        ValueError, match=r"ReduceLROnPlateau does not support a factor >= 1.0. Received factor=1.5"
    ):
        ReduceLROnPlateau(factor=1.5)


def test_missing_metric_warns_with_keras_text() -> None:
    cb = ReduceLROnPlateau(monitor="val_loss")
    cb.set_model(SimpleNamespace(metrics=[], optimizer=kseq.optimizers.SGD(learning_rate=0.5)))
    cb.on_train_begin()
    with pytest.warns(
        UserWarning,
        match=r"^Learning rate reduction is conditioned on metric `val_loss` which is not "
        r"available\. Available metrics are: loss,learning_rate\.$",
    ):
        cb.on_epoch_end(0, {"loss": 1.0})
