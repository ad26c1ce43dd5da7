"""Keras activation functions on torch tensors, and the one ``get()`` that resolves their names.

Every function takes and returns a ``torch.Tensor`` and follows Keras 3's formula and defaults
(e.g. ``leaky_relu`` slope 0.2, ``gelu`` exact by default, ``hard_sigmoid = relu6(x + 3) / 6``).

``get`` resolves a name, a config dict or a callable (``None`` means ``linear``), ``serialize``
gives the name an activation is saved under (built-in or registered name), ``deserialize`` is its
inverse and ``names()`` lists every name ``get`` accepts.

Example:
    >>> import torch
    >>> get("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> get(None) is linear, get("swish") is silu, serialize(relu), deserialize("tanh") is tanh
    (True, True, 'relu', True)
    >>> "relu" in names() and "swish" in names()
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kseq.registry.lookup import unknown_name_message as unknown_name_message
from kseq.registry.namespace import Namespace as _Namespace
from kseq.registry.object_registration import get_registered_name as _get_registered_name
from kseq.registry.object_registration import get_registered_object as _get_registered_object

Activation = Callable[[Tensor], Tensor]


def relu(
    x: Tensor, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Tensor:
    """Rectified linear unit with Keras's optional slope, ceiling and threshold.

    Example:
        >>> relu(torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0]), max_value=5.0)
        tensor([0., 0., 0., 5., 5.])
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return F.leaky_relu(x, negative_slope)
    negative_part = F.relu(-x + threshold) if negative_slope != 0.0 else None
    out = (
        torch.where(x > threshold, x, torch.zeros((), dtype=x.dtype, device=x.device))
        if threshold != 0.0
        else F.relu(x)
    )
    if max_value is not None:
        out = torch.clamp(out, 0.0, max_value)
    if negative_part is not None:
        out = out - negative_slope * negative_part
    return out


def leaky_relu(x: Tensor, negative_slope: float = 0.2) -> Tensor:
    """Leaky ReLU; Keras's function default slope is 0.2 (the ``LeakyReLU`` layer's is 0.3).

    Example:
        >>> leaky_relu(torch.tensor([-1.0, 1.0]))
        tensor([-0.2000,  1.0000])
    """
    return F.leaky_relu(x, negative_slope)


def relu6(x: Tensor) -> Tensor:
    """``min(max(x, 0), 6)``.

    Example:
        >>> relu6(torch.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """
    return F.relu6(x)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Softmax along ``axis``.

    Example:
        >>> softmax(torch.zeros(2))
        tensor([0.5000, 0.5000])
    """
    return torch.softmax(x, dim=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Log of the softmax along ``axis``.

    Example:
        >>> log_softmax(torch.zeros(2))
        tensor([-0.6931, -0.6931])
    """
    return torch.log_softmax(x, dim=axis)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit.

    Example:
        >>> elu(torch.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    return F.elu(x, alpha)


def selu(x: Tensor) -> Tensor:
    """Scaled ELU with the fixed constants of Klambauer et al.

    Example:
        >>> selu(torch.tensor([0.0]))
        tensor([0.])
    """
    return F.selu(x)


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU.

    Example:
        >>> celu(torch.tensor([0.0, 2.0]))
        tensor([0., 2.])
    """
    return F.celu(x, alpha)


def softplus(x: Tensor) -> Tensor:
    """``log(exp(x) + 1)``.

    Example:
        >>> softplus(torch.tensor([0.0]))
        tensor([0.6931])
    """
    return F.softplus(x)


def softsign(x: Tensor) -> Tensor:
    """``x / (abs(x) + 1)``.

    Example:
        >>> softsign(torch.tensor([1.0]))
        tensor([0.5000])
    """
    return F.softsign(x)


def squareplus(x: Tensor, b: float = 4) -> Tensor:
    """``(x + sqrt(x**2 + b)) / 2``.

    Example:
        >>> squareplus(torch.tensor([0.0]))
        tensor([1.])
    """
    return (x + torch.sqrt(x * x + b)) / 2


def soft_shrink(x: Tensor, threshold: float = 0.5) -> Tensor:
    """Soft shrinkage: ``x - t`` above ``t``, ``x + t`` below ``-t``, else 0.

    Example:
        >>> soft_shrink(torch.tensor([1.0, 0.2]))
        tensor([0.5000, 0.0000])
    """
    return F.softshrink(x, threshold)


def hard_shrink(x: Tensor, threshold: float = 0.5) -> Tensor:
    """Hard shrinkage: ``x`` where ``|x| > threshold``, else 0.

    Example:
        >>> hard_shrink(torch.tensor([1.0, 0.2]))
        tensor([1., 0.])
    """
    return F.hardshrink(x, threshold)


def sparse_plus(x: Tensor) -> Tensor:
    """0 below -1, ``(x + 1)**2 / 4`` in between, ``x`` above 1.

    Example:
        >>> sparse_plus(torch.tensor([-2.0, 0.0, 2.0]))
        tensor([0.0000, 0.2500, 2.0000])
    """
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, x, 0.25 * (x + 1) ** 2))


def silu(x: Tensor) -> Tensor:
    """Swish: ``x * sigmoid(x)``.

    Example:
        >>> silu(torch.tensor([0.0]))
        tensor([0.])
    """
    return F.silu(x)


def gelu(x: Tensor, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit (exact erf form unless ``approximate``).

    Example:
        >>> gelu(torch.tensor([0.0]))
        tensor([0.])
    """
    return F.gelu(x, approximate="tanh" if approximate else "none")


def glu(x: Tensor, axis: int = -1) -> Tensor:
    """Gated linear unit: first half times sigmoid of the second half along ``axis``.

    Example:
        >>> glu(torch.tensor([1.0, 0.0]))
        tensor([0.5000])
    """
    return F.glu(x, dim=axis)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent.

    Example:
        >>> tanh(torch.tensor([0.0]))
        tensor([0.])
    """
    return torch.tanh(x)


def tanh_shrink(x: Tensor) -> Tensor:
    """``x - tanh(x)``.

    Example:
        >>> tanh_shrink(torch.tensor([0.0]))
        tensor([0.])
    """
    return F.tanhshrink(x)


def hard_tanh(x: Tensor) -> Tensor:
    """``clip(x, -1, 1)``.

    Example:
        >>> hard_tanh(torch.tensor([-3.0, 0.5]))
        tensor([-1.0000,  0.5000])
    """
    return F.hardtanh(x)


def threshold(x: Tensor, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``.

    Example:
        >>> threshold(torch.tensor([1.0, 3.0]), 2.0, 0.0)
        tensor([0., 3.])
    """
    return F.threshold(x, threshold, default_value)


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid ``1 / (1 + exp(-x))``.

    Example:
        >>> sigmoid(torch.tensor([0.0]))
        tensor([0.5000])
    """
    return torch.sigmoid(x)


def sparse_sigmoid(x: Tensor) -> Tensor:
    """0 below -1, ``(x + 1) / 2`` in between, 1 above 1.

    Example:
        >>> sparse_sigmoid(torch.tensor([-2.0, 0.0, 2.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    return torch.clamp(0.5 * (x + 1), 0.0, 1.0)


def exponential(x: Tensor) -> Tensor:
    """``exp(x)``.

    Example:
        >>> exponential(torch.tensor([0.0]))
        tensor([1.])
    """
    return torch.exp(x)


def hard_sigmoid(x: Tensor) -> Tensor:
    """Keras 3's piecewise-linear sigmoid ``relu6(x + 3) / 6``.

    Example:
        >>> hard_sigmoid(torch.tensor([0.0]))
        tensor([0.5000])
    """
    return F.hardsigmoid(x)


def hard_silu(x: Tensor) -> Tensor:
    """``x * hard_sigmoid(x)`` (hard swish).

    Example:
        >>> hard_silu(torch.tensor([3.0]))
        tensor([3.])
    """
    return F.hardswish(x)


def log_sigmoid(x: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed stably.

    Example:
        >>> log_sigmoid(torch.tensor([0.0]))
        tensor([-0.6931])
    """
    return F.logsigmoid(x)


def linear(x: Tensor) -> Tensor:
    """The identity (no activation).

    Example:
        >>> linear(torch.tensor([2.0]))
        tensor([2.])
    """
    return x


def mish(x: Tensor) -> Tensor:
    """``x * tanh(softplus(x))``.

    Example:
        >>> mish(torch.tensor([0.0]))
        tensor([0.])
    """
    return F.mish(x)


def sparsemax(x: Tensor, axis: int = -1) -> Tensor:
    """Sparsemax (Martins & Astudillo, 2016): the Euclidean projection onto the simplex.

    Example:
        >>> sparsemax(torch.tensor([1.0, 0.0]))
        tensor([1., 0.])
    """
    z = x.movedim(axis, -1)
    z_sorted, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, z.shape[-1] + 1, device=z.device, dtype=z.dtype)
    cumsum = z_sorted.cumsum(-1)
    support = (1 + k * z_sorted) > cumsum
    k_z = support.sum(-1, keepdim=True)
    tau = (cumsum.gather(-1, k_z - 1) - 1) / k_z.to(z.dtype)
    return torch.clamp(z - tau, min=0.0).movedim(-1, axis)


_ALL: dict[str, Activation] = {
    fn.__name__: fn
    for fn in (
        celu, elu, exponential, gelu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_tanh,
        leaky_relu, linear, log_sigmoid, log_softmax, mish, relu, relu6, selu, sigmoid, silu,
        soft_shrink, softmax, softplus, softsign, sparse_plus, sparse_sigmoid, sparsemax,
        squareplus, tanh, tanh_shrink, threshold,
    )
}  # fmt: skip
_ALL["swish"] = silu
_ALL["hard_swish"] = hard_silu
swish, hard_swish = silu, hard_silu  # Keras's aliases (``keras.activations.swish is silu``)

# Activations whose matching crossentropy can be computed from the pre-activation logits.
FUSABLE: dict[Activation, str] = {sigmoid: "sigmoid", softmax: "softmax"}


class _Activations(_Namespace):
    """Activations are functions: ``get(None)`` is ``linear``, a name gives the function itself
    (built-ins before registered objects), a dict names it in ``config`` (or ``class_name``),
    and ``serialize`` gives the name string."""

    def lookup(self, name: str, custom_objects: Mapping[str, Any] | None = None) -> Activation:
        """The activation function named ``name`` (built-ins first, then registered ones)."""
        fn = self.table.get(name) or _get_registered_object(name)
        if fn is None:
            raise ValueError(unknown_name_message("activation", name, self.table))
        return fn

    def get(self, identifier: str | Activation | dict[str, Any] | None) -> Activation:
        """Resolve an activation name, config dict or callable (``None`` means ``linear``)."""
        if identifier is None:
            return linear
        if isinstance(identifier, dict):
            identifier = identifier.get("config", identifier.get("class_name"))
        if isinstance(identifier, str):
            return self.lookup(identifier)
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")

    def serialize(self, activation: Activation) -> str:
        """The name an activation is saved under (built-in name or registered name)."""
        for name, fn in self.table.items():
            if fn is activation and name not in ("swish", "hard_swish"):
                return name
        # A registered function saves as "package>name"; an unregistered one by its __name__
        # (loading it then needs custom_objects).
        return _get_registered_name(activation)

    def deserialize(
        self, config: str | dict[str, Any], custom_objects: Mapping[str, Any] | None = None
    ) -> Activation:
        """Inverse of :meth:`serialize` (``custom_objects`` may name the function)."""
        if isinstance(config, str) and custom_objects and config in custom_objects:
            return custom_objects[config]
        return self.get(config)


_ACTIVATIONS = _Activations("activation", "activations", "keras.activations", table=_ALL)
_ACTIVATIONS.functions = _ALL  # every activation is a function saved by name

names = _ACTIVATIONS.names
get = _ACTIVATIONS.get
serialize = _ACTIVATIONS.serialize
deserialize = _ACTIVATIONS.deserialize
