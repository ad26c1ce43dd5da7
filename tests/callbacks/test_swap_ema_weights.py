"""SwapEMAWeights: validation, evaluate and predict run with the optimizer's EMA weights, and the
training weights are back afterwards; swap_on_epoch leaves the EMA weights in at epoch end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq
from kseq.callbacks import LambdaCallback, SwapEMAWeights


def _model(use_ema: bool = True):
    model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(1)])
    model.compile(optimizer=kseq.optimizers.SGD(learning_rate=0.1, use_ema=use_ema), loss="mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_validation_uses_ema_weights_and_training_resumes_with_raw_ones() -> None:
    model = _model()
    x, y = _data()
    snapshots = []

    def at_epoch_end(epoch, logs):
        # After validation: the model holds the training weights again; evaluate them with the EMA.
        opt = model.optimizer
        snapshots.append((_state(model), [e.clone() for e in opt._ema], logs["val_loss"]))

    model.fit(x, y, batch_size=8, epochs=2, validation_data=(x, y), verbose=0,
              callbacks=[SwapEMAWeights(), LambdaCallback(on_epoch_end=at_epoch_end)])  # fmt: skip
    raw, ema, val_loss = snapshots[0]
    probe = _model(use_ema=False)
    with torch.no_grad():
        for p, e in zip(probe.parameters(), ema, strict=True):
            p.copy_(e)
    assert probe.evaluate(x, y, verbose=0) == pytest.approx(val_loss, rel=1e-5)
    with torch.no_grad():
        for p, r in zip(probe.parameters(), raw.values(), strict=True):
            p.copy_(r)
    assert probe.evaluate(x, y, verbose=0) != pytest.approx(val_loss, rel=1e-3)


def test_predict_and_evaluate_swap_back() -> None:
    model = _model()
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # ends with the EMA in the model...
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # ...so make the raw weights differ from it
    before = _state(model)
    ema = [e.clone() for e in model.optimizer._ema]
    swap = SwapEMAWeights()
    with_ema = model.predict(x, callbacks=[swap], verbose=0)
    model.evaluate(x, y, callbacks=[swap], verbose=0)
    for key, value in model.state_dict().items():  # (Keras 3.15 leaves EMA weights after predict)
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    for e, kept in zip(model.optimizer._ema, ema, strict=True):
        torch.testing.assert_close(e, kept, rtol=0, atol=0)
    assert not np.allclose(with_ema, model.predict(x, verbose=0))


def test_swap_on_epoch_keeps_ema_weights_at_epoch_end() -> None:
    model = _model()
    x, y = _data()
    ema_before, params_after = [], []

    def clones(tensors):
        return [t.detach().clone() for t in tensors]

    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[
        LambdaCallback(on_epoch_end=lambda epoch, logs: ema_before.append(clones(model.optimizer._ema))),
        SwapEMAWeights(swap_on_epoch=True),
        LambdaCallback(on_epoch_end=lambda epoch, logs: params_after.append(clones(model.parameters()))),
    ])  # fmt: skip
    # Callbacks after SwapEMAWeights see the EMA weights in the model at every epoch end...
    for ema, params in zip(ema_before, params_after, strict=True):
        for e, p in zip(ema, params, strict=True):
            torch.testing.assert_close(p, e, rtol=0, atol=0)
    # ...and the last epoch's EMA weights stay in the model after fit.
    for p, e in zip(model.parameters(), ema_before[-1], strict=True):
        torch.testing.assert_close(p.detach(), e, rtol=0, atol=0)
    assert not torch.equal(ema_before[0][0], ema_before[-1][0])


def test_without_ema_it_explains() -> None:
    model = _model(use_ema=False)
    x, y = _data()
    with pytest.raises(
        ValueError,
        match=r"SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. Received: use_ema=False",
    ):
        model.fit(x, y, validation_data=(x, y), callbacks=[SwapEMAWeights()], verbose=0)
