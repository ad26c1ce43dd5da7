"""``plot_history``: the training curves of a ``fit`` — loss and every metric, training and
validation side by side — drawn with matplotlib (``pip install "kseq[plot]"``), saved to a file
or shown.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "curves.png")
    >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, path=path)
    >>> os.path.getsize(path) > 0, [ax.get_title() for ax in fig.axes]
    (True, ['loss'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["plot_history"]


def _curves(history: Any) -> dict[str, list[float]]:
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(
            "`plot_history` expects the `History` object that `fit()` returns (or its "
            f"`.history` dict). Received: history={history!r} of type {type(history)}"
        )
    return {str(key): [float(v) for v in values] for key, values in logs.items()}


def plot_history(
    history: Any,
    metrics: Sequence[str] | None = None,
    path: str | None = None,
    show: bool | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
) -> Any:
    """Plot the loss and each metric of a ``fit`` against the epoch, training and validation.

    One panel per quantity (``loss`` first, then the metrics in the order ``fit`` logged them);
    each panel draws the training curve and, when there is one, the ``val_`` curve.

    Args:
        history: The ``History`` returned by ``fit`` (or its ``history`` dict).
        metrics: The quantities to plot (names without ``val_``); default: all of them.
        path: Save the figure to this file (the format follows the extension: ``.png``,
            ``.pdf``, ``.svg``...).
        show: Show the figure with ``matplotlib.pyplot.show()`` (default: when no ``path``).
        figsize: Figure size in inches (default: 4.5 wide per panel, 3.5 high).
        dpi: Resolution of the saved file.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:
        >>> plot_history({"loss": [1.0]}, metrics=["accuracy"])
        Traceback (most recent call last):
        ...
        ValueError: Unknown metric 'accuracy' for `plot_history`. The history has: ['loss']
    """
    curves = _curves(history)
    names = [key for key in curves if not key.startswith("val_")]
    names += [key[4:] for key in curves if key.startswith("val_") and key[4:] not in names]
    if metrics is None:
        metrics = sorted(names, key=lambda name: name != "loss")
    for name in metrics:
        if name not in names:
            raise ValueError(
                f"Unknown metric {name!r} for `plot_history`. The history has: {names}"
            )
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            '`plot_history` requires matplotlib: install it with `pip install "kseq[plot]"` '
            "(or `pip install matplotlib`)."
        ) from exc
    if show is None:
        show = path is None
    if show:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize or (4.5 * max(len(metrics), 1), 3.5))
    else:
        fig = Figure(figsize=figsize or (4.5 * max(len(metrics), 1), 3.5))
    axes = fig.subplots(1, max(len(metrics), 1), squeeze=False)[0]
    for ax, name in zip(axes, metrics, strict=False):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if key in curves:
                values = curves[key]
                ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
    if show:
        plt.show()
    return fig
