"""``kseq.utils.plot_history``: the curves of a real ``fit`` written to a PNG that is then opened
and looked at (one panel per quantity, training and validation lines drawn)."""

from __future__ import annotations

import numpy as np
import pytest

import kseq
from kseq.utils import plot_history

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


def fitted_history():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")[:, None]
    model = kseq.Sequential([kseq.Input((3,)), kseq.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, validation_split=0.25, epochs=4, verbose=0)


def test_fit_curves_written_to_a_png(tmp_path):
    history = fitted_history()
    path = tmp_path / "curves.png"
    fig = plot_history(history, path=str(path), dpi=50)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, name in zip(fig.axes, ("loss", "accuracy"), strict=True):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert sorted(lines) == ["train", "validation"]
        np.testing.assert_allclose(lines["train"].get_ydata(), history.history[name])
        np.testing.assert_allclose(lines["validation"].get_ydata(), history.history[f"val_{name}"])
        assert list(lines["train"].get_xdata()) == [1, 2, 3, 4]
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (450, 175)  # two 4.5-inch panels at 50 dpi
        pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # something was drawn, not blank


def test_a_dict_and_a_chosen_metric(tmp_path):
    path = tmp_path / "loss.png"
    fig = plot_history({"loss": [3.0, 2.0, 1.0]}, metrics=["loss"], path=str(path))
    assert path.stat().st_size > 0 and [ax.get_title() for ax in fig.axes] == ["loss"]
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["train"]


def test_errors():
    with pytest.raises(TypeError, match="expects the `History` object that `fit\\(\\)` returns"):
        plot_history([0.5, 0.4])
    with pytest.raises(
        ValueError, match=r"Unknown metric 'auc' for `plot_history`. The history has: \['loss'\]"
    ):
        plot_history({"loss": [1.0]}, metrics=["auc"], path="unused.png")
