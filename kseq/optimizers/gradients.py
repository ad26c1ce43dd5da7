"""The gradients an optimizer updates with: which variables have one, accumulation and clipping.

``present_gradients`` (for ``Optimizer.step``, reading ``.grad``) and ``paired_gradients`` (for
``Optimizer.apply``, given gradients) drop the variables without a gradient, with Keras's warning.
Then, in Keras's order (``keras/src/optimizers/base_optimizer.py``): accumulate ``gradient_accumulation_steps``
gradients into their mean, then clip (``clipnorm`` per tensor, ``global_clipnorm`` over all, or
``clipvalue``). Both work in place on lists of tensors with ``torch._foreach_*`` kernels.

Example:
    >>> import torch
    >>> grads = [torch.tensor([3.0, 4.0])]
    >>> clip_gradients(grads, clipnorm=1.0); [round(g, 4) for g in grads[0].tolist()]
    [0.6, 0.8]
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor

_MISSING = (
    "Gradients do not exist for variables {} when minimizing the loss. If using "
    "`model.compile()`, did you forget to provide a `loss` argument?"
)


def present_gradients(params: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
    """The tensors of ``params`` whose ``.grad`` is set, and those gradients (``params`` itself when
    all have one). Keras warns about the others (attributed to the caller of ``Optimizer.step``,
    which calls this) and raises when none has one.

    Example:
        >>> a, b = torch.zeros(1, requires_grad=True), torch.zeros(2, requires_grad=True)
        >>> a.grad = torch.ones(1)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     params, grads = present_gradients([a, b])
        >>> params == [a], str(caught[0].message)[:40]
        (True, 'Gradients do not exist for variables [(2')
    """
    grads = [p.grad for p in params]
    if all(g is not None for g in grads):
        return params, grads  # type: ignore[return-value]
    missing = [
        getattr(p, "_kseq_name", "") or tuple(p.shape)
        for p, g in zip(params, grads, strict=True)
        if g is None
    ]
    if len(missing) == len(params):
        raise ValueError("No gradients provided for any variable.")
    warnings.warn(_MISSING.format(missing), stacklevel=3)
    pairs = [(p, g) for p, g in zip(params, grads, strict=True) if g is not None]
    return [p for p, _ in pairs], [g for _, g in pairs]  # type: ignore[misc]


def paired_gradients(
    grads: list[Any], variables: list[Tensor], params: list[Tensor]
) -> tuple[list[Tensor], list[Tensor]]:
    """The ``variables`` with a (non-``None``) gradient in ``grads``, and those gradients, for an
    optimizer bound to ``params`` (returned as is when the variables are exactly ``params``, so
    per-parameter state needs no lookup). Keras's errors for variables the optimizer was not
    built with and for no gradient at all; Keras's warning (attributed to the caller of
    ``Optimizer.apply``, which calls this) for the variables without one.

    Example:
        >>> w = torch.zeros(2)
        >>> paired_gradients([torch.ones(2)], [w], [w])[1]
        [tensor([1., 1.])]
        >>> paired_gradients([torch.ones(2)], [torch.zeros(2)], [w])
        Traceback (most recent call last):
        ...
        ValueError: Unknown variable: [(2,)]. This optimizer can only be called for the variables it was originally built with. When working with a new set of variables, you should recreate a new optimizer instance.
    """
    known = {id(p) for p in params}
    unknown = [getattr(v, "path", tuple(v.shape)) for v in variables if id(v) not in known]
    if unknown:
        raise ValueError(
            f"Unknown variable: {unknown}. This optimizer can only be called for the variables "
            "it was originally built with. When working with a new set of variables, you "
            "should recreate a new optimizer instance."
        )
    pairs = [(v, g) for v, g in zip(variables, grads, strict=True) if g is not None]
    if not pairs:
        raise ValueError("No gradients provided for any variable.")
    if len(pairs) < len(variables):
        missing = [
            getattr(v, "path", tuple(v.shape))
            for v, g in zip(variables, grads, strict=True)
            if g is None
        ]
        warnings.warn(_MISSING.format(missing), stacklevel=3)
    chosen = [v for v, _ in pairs]
    if len(chosen) == len(params) and all(a is b for a, b in zip(chosen, params, strict=True)):
        chosen = params
    return chosen, [g for _, g in pairs]


def clip_gradients(
    grads: list[Tensor],
    clipnorm: float | None = None,
    global_clipnorm: float | None = None,
    clipvalue: float | None = None,
) -> None:
    """Clip ``grads`` in place: per-tensor norm, else global norm, else value (the first one set).

    Example:
        >>> grads = [torch.tensor([-2.0, 0.5])]
        >>> clip_gradients(grads, clipvalue=1.0); grads[0].tolist()
        [-1.0, 0.5]
    """
    if clipnorm and clipnorm > 0:
        norms = torch._foreach_norm(grads)
        # Keras: g * clipnorm / max(norm, clipnorm), per tensor.
        scales = torch._foreach_div(torch._foreach_maximum(norms, clipnorm), clipnorm)
        torch._foreach_div_(grads, scales)
    elif global_clipnorm and global_clipnorm > 0:
        total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        torch._foreach_mul_(grads, global_clipnorm / torch.clamp(total, min=global_clipnorm))
    elif clipvalue and clipvalue > 0:
        torch._foreach_clamp_min_(grads, -clipvalue)
        torch._foreach_clamp_max_(grads, clipvalue)


def accumulate_gradients(
    accumulators: list[Tensor], grads: list[Tensor], iteration: int, steps: int
) -> bool:
    """Gradient accumulation at call ``iteration`` (0-based) of every ``steps``: add ``grads`` to
    the accumulators, or, every ``steps``-th call, replace ``grads`` (in place) by the mean of the
    last ``steps``, zero the accumulators and return ``True`` (an update step).

    Example:
        >>> accs, g = [torch.zeros(1)], [torch.ones(1)]
        >>> accumulate_gradients(accs, g, iteration=0, steps=2), accs[0].tolist()
        (False, [1.0])
        >>> g = [torch.full((1,), 3.0)]
        >>> accumulate_gradients(accs, g, iteration=1, steps=2), g[0].tolist(), accs[0].tolist()
        (True, [2.0], [0.0])
    """
    if (iteration + 1) % steps != 0:
        torch._foreach_add_(accumulators, grads)
        return False
    torch._foreach_add_(grads, accumulators)
    torch._foreach_div_(grads, steps)
    torch._foreach_zero_(accumulators)
    return True


def torch_face(grads: list[Any], variables: list[Any]) -> tuple[list[Any], list[Tensor]]:
    """Keras-layout variables (``layer.trainable_weights`` items over torch-layout parameters,
    which say so with ``_kseq_torch_face``) and their gradients, as the torch parameters and
    torch-layout gradients the update runs on; other tensors pass through unchanged.

    Example:
        >>> w = torch.zeros(2)
        >>> torch_face([torch.ones(2)], [w])[1] == [w]
        True
    """
    out_grads: list[Any] = []
    out_vars: list[Tensor] = []
    for grad, var in zip(grads, variables, strict=True):
        face = getattr(var, "_kseq_torch_face", None)
        if face is None:
            out_grads.append(grad)
            out_vars.append(var)
            continue
        for param, torch_grad in face(grad):
            out_vars.append(param)
            out_grads.append(torch_grad)
    return out_grads, out_vars
