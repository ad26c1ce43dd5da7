"""``add_loss`` collection: the losses of the current top-level model call.

Keras's rule: losses added with ``add_loss`` (activity penalties included) belong to the latest
top-level call of a model; the next top-level call starts from none, so repeated direct calls never
accumulate them. A :class:`LossCollector` is that record. A model call (``Sequential``/``Model``
forward, or a Keras-style layer called on its own) opens it on entry and closes it on exit; nested
calls join the open collection, and the outermost opening forgets the previous call's losses. The
training step reads :attr:`LossCollector.layers` after its forward: only the layers that added
losses, so the step never walks the model.

Model calls do not overlap within a process (a forward runs to its end before the next one
starts), so one collector, :data:`MODEL_CALL_LOSSES`, serves them all. It is a plain Python object,
so ``torch.compile`` traces its updates (a ``ContextVar`` would break the graph).

Example:
    >>> import torch
    >>> from kseq.layers import Layer
    >>> class Penalty(Layer):
    ...     def call(self, inputs):
    ...         self.add_loss(inputs.sum())
    ...         return inputs
    >>> layer = Penalty()
    >>> _ = layer(torch.ones(2)); _ = layer(torch.ones(2))
    >>> len(layer.losses), len(MODEL_CALL_LOSSES.layers)  # the latest call's losses only
    (1, 1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch import Tensor

if TYPE_CHECKING:
    from kseq.layers.layer import Layer

__all__ = ["MODEL_CALL_LOSSES", "LossCollector", "activity_regularization_hook"]


class LossCollector:
    """The layers holding ``add_loss`` losses of the current (or last) top-level model call.

    Example:
        >>> collector = LossCollector()
        >>> collector.open(); collector.depth
        1
        >>> collector.close(); collector.depth, collector.layers
        (0, [])
    """

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.depth = 0

    def open(self) -> None:
        """Enter a model call; the outermost call forgets the previous call's losses."""
        if self.depth == 0 and self.layers:
            for layer in self.layers:
                layer._losses = []
            self.layers.clear()
        self.depth += 1

    def close(self) -> None:
        """Leave a model call (called in a ``finally``)."""
        self.depth -= 1

    def add(self, layer: Layer, loss: Tensor) -> None:
        """Record ``loss`` as one of ``layer``'s losses in the current call."""
        if not layer._losses:
            self.layers.append(layer)
        layer._losses.append(loss)


MODEL_CALL_LOSSES = LossCollector()


def activity_regularization_hook(layer: Layer, args: tuple[Any, ...], output: Any) -> None:
    """Forward hook of a layer with an ``activity_regularizer``: its penalty on the output, divided
    by the batch size (Keras's rule), joins the call's losses.

    Example:
        >>> import torch
        >>> from kseq.layers import Dense
        >>> layer = Dense(1, kernel_initializer="ones", activity_regularizer="l1")
        >>> _ = layer(torch.ones(2, 3)); [round(t.item(), 4) for t in layer.losses]
        [0.03]
    """
    if isinstance(output, Tensor):
        layer.add_loss(layer.activity_regularizer(output) / output.shape[0])
