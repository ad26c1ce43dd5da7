"""Training modes: what ``training=None`` means for each layer, and how modes are kept and restored.

Keras's rule: a layer called with ``training=None`` and no enclosing call that decided uses its
own default (the default of its ``call``'s ``training`` argument): inference for ``Dropout`` or
``BatchNormalization``, augmentation for the ``Random*`` image layers; an explicit ``training=``
wins. kseq holds that decision in torch's ``module.training``: a layer starts in its own default
mode (:attr:`Layer.default_training`), ``fit`` switches the model to training mode and back to
each layer's default, ``evaluate``/``predict`` to inference and back to the modes before, and
``model.train()``/``model.eval()`` (torch code) set every layer at once.

So a model must never push its own mode onto its layers except on request: a build leaves its
sublayers' modes alone (:func:`sync_built_modes`), and a call with ``training=`` restores every
module's mode afterwards (:func:`modes_of` / :func:`restore_modes`).

Example:
    >>> import torch
    >>> from kseq.layers import Dense, RandomFlip
    >>> flip, dense = RandomFlip("horizontal"), Dense(2)
    >>> flip.training, dense.training   # each layer's own default
    (True, False)
"""

from __future__ import annotations

from torch import nn

__all__ = ["default_modes", "modes_of", "restore_modes", "sync_built_modes"]


def modes_of(module: nn.Module) -> list[bool]:
    """The ``training`` flag of ``module`` and each of its submodules, in ``modules()`` order.

    Example:
        >>> modes_of(nn.Sequential(nn.Linear(1, 1)).eval())
        [False, False]
    """
    return [m.training for m in module.modules()]


def restore_modes(module: nn.Module, modes: list[bool]) -> None:
    """Set back the flags :func:`modes_of` returned (the module tree has not changed since).

    Example:
        >>> net = nn.Sequential(nn.Linear(1, 1)); saved = modes_of(net)
        >>> restore_modes(net.eval(), saved); net[0].training
        True
    """
    for m, mode in zip(module.modules(), modes, strict=True):
        m.training = mode


def default_modes(module: nn.Module) -> None:
    """Put every kseq layer in ``module`` back in its own default mode (torch modules follow the
    kseq layer that holds them): what ``training=None`` means outside ``fit``.

    Example:
        >>> from kseq.layers import Dropout
        >>> layer = Dropout(0.5).train(); default_modes(layer); layer.training
        False
    """
    _set_tree(module, bool(getattr(module, "default_training", False)))


def _set_tree(module: nn.Module, mode: bool) -> None:
    module.training = mode
    for child in module.children():
        default = getattr(child, "default_training", None)
        _set_tree(child, mode if default is None else bool(default))


def sync_built_modes(layer: nn.Module) -> None:
    """After a build: torch modules the build created take the layer's mode; sublayers that are
    kseq layers keep theirs (in training mode, everything trains, as ``train()`` would).

    Example:
        >>> from kseq.layers import Dense
        >>> layer = Dense(2); layer.build((None, 3)); layer.linear.training
        False
    """
    if layer.training:
        layer.train(True)
        return
    stack = list(layer.children())
    while stack:
        child = stack.pop()
        if hasattr(child, "default_training"):
            continue  # a kseq layer: its own mode
        child.training = False
        stack.extend(child.children())
