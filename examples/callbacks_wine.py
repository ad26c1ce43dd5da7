"""A callbacks-heavy training run: EarlyStopping + ModelCheckpoint + ReduceLROnPlateau + CSVLogger.

Three-class classification of scikit-learn's wine dataset (178 samples, 13 features). The run keeps
the best model on disk (an atomic ``.keras`` checkpoint), halves the learning rate when validation
loss plateaus, logs every epoch to CSV, stops when validation loss stops improving and restores the
best weights. Then it reloads the checkpoint and checks that it predicts like the trained model.

Run it with ``python examples/callbacks_wine.py [output_dir]``; it exits non-zero if the test
accuracy is not above 0.9.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

import kseq as keras


def main(out_dir: Path) -> float:
    keras.utils.set_random_seed(7)
    x, y = load_wine(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=7, stratify=y
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    model = keras.Sequential(
        [
            keras.Input(shape=(13,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out_dir / "best.keras"
    log_path = out_dir / "training_log.csv"
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=8, restore_best_weights=True, verbose=1
        ),
        keras.callbacks.ModelCheckpoint(
            str(checkpoint_path), monitor="val_loss", save_best_only=True, verbose=1
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=3, min_lr=1e-4, verbose=1
        ),
        keras.callbacks.CSVLogger(str(log_path)),
    ]
    history = model.fit(
        x_train,
        y_train,
        epochs=200,
        batch_size=16,
        validation_split=0.2,
        callbacks=callbacks,
        verbose=2,
    )

    epochs_run = len(history.epoch)
    with log_path.open() as f:
        rows = list(csv.DictReader(f))
    print(
        f"Ran {epochs_run} epochs (stopped early: {epochs_run < 200}); CSV log has {len(rows)} rows with "
        f"columns {list(rows[0])}"
    )
    print(
        f"Learning rate went from {history.history['learning_rate'][0]:.4g} "
        f"to {history.history['learning_rate'][-1]:.4g}"
    )

    results = model.evaluate(x_test, y_test, return_dict=True, verbose=0)
    print(f"Test accuracy with the restored best weights: {results['accuracy']:.4f}")
    best = keras.models.load_model(str(checkpoint_path))
    same = np.allclose(best.predict(x_test, verbose=0), model.predict(x_test, verbose=0), atol=1e-6)
    print(f"Checkpoint {checkpoint_path.name} reloaded; predicts like the restored model: {same}")
    return results["accuracy"] if same else 0.0


if __name__ == "__main__":
    if len(sys.argv) > 1:
        accuracy = main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            accuracy = main(Path(tmp))
    sys.exit(0 if accuracy > 0.9 else 1)
