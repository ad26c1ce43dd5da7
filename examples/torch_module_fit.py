"""Your own ``nn.Module`` and ``DataLoader``, trained with Keras's ``compile``/``fit``/callbacks.

A plain PyTorch network (written without kseq) is wrapped with ``keras.Model(net)``: the same
parameters, ``state_dict`` keys and ``forward``; it gains ``compile``/``fit``/``evaluate``/``predict``
and callbacks. The data is a plain ``TensorDataset`` in ``DataLoader``s. After training, the network
is used by plain torch code again.

Run it with ``python examples/torch_module_fit.py``; it exits non-zero if the test accuracy is not
above 0.85.
"""

from __future__ import annotations

import sys

import torch
from sklearn.datasets import make_moons
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import kseq as keras


class MoonNet(nn.Module):
    """A small residual MLP, written as any PyTorch user would."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.inp = nn.Linear(2, hidden)
        self.block = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.GELU())
        self.out = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inp(x))
        return self.out(h + self.block(h))


def main() -> float:
    keras.utils.set_random_seed(3)
    x, y = make_moons(n_samples=1200, noise=0.2, random_state=3)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    train = DataLoader(TensorDataset(x[:800], y[:800]), batch_size=32, shuffle=True)
    val = DataLoader(TensorDataset(x[800:1000], y[800:1000]), batch_size=100)
    test = DataLoader(TensorDataset(x[1000:], y[1000:]), batch_size=100)

    net = MoonNet()
    keys = list(net.state_dict())
    model = keras.Model(net)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.summary()
    history = model.fit(
        train,
        validation_data=val,
        epochs=40,
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=5, restore_best_weights=True
            ),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2),
        ],
        verbose=2,
    )
    print(f"Trained {len(history.epoch)} epochs")
    accuracy = model.evaluate(test, return_dict=True, verbose=0)["accuracy"]
    print(f"Test accuracy: {accuracy:.4f}")

    # The network is still the user's: same keys, plain torch inference works.
    assert list(net.state_dict()) == keys
    net.eval()
    with torch.no_grad():
        device = next(net.parameters()).device
        torch_accuracy = (
            (net(x[1000:].to(device)).argmax(1).cpu() == y[1000:]).float().mean().item()
        )
    print(f"Plain-torch accuracy of the same network: {torch_accuracy:.4f}")
    return min(accuracy, torch_accuracy)


if __name__ == "__main__":
    sys.exit(0 if main() > 0.85 else 1)
