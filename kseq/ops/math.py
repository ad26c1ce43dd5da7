"""Element-wise unary math of ``kseq.ops`` (Keras's ``keras.ops``): ``abs``, ``sqrt``, ``exp``,
``log``, rounding, trigonometry, ``clip``, ``isnan``...

Inputs may be tensors, NumPy arrays or Python numbers. Integer inputs follow Keras's dtype rules
(``exp``/``floor``/``ceil`` of integers are ``floatx()``, ``round`` keeps integers, ``square`` of
booleans is ``int32``).

Example:
    >>> sqrt(torch.tensor([4.0, 9.0])), floor(torch.tensor([1, 2], dtype=torch.int32)).dtype
    (tensor([2., 3.]), torch.float32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from kseq import config
from kseq.ops._wrap import unary_op
from kseq.ops.core import as_tensor_like, convert_to_tensor
from kseq.ops.dtypes import result_type, to_torch_dtype

__all__ = [
    "abs",
    "absolute",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "ceil",
    "clip",
    "cos",
    "cosh",
    "erf",
    "exp",
    "exp2",
    "expm1",
    "floor",
    "isfinite",
    "isinf",
    "isnan",
    "log",
    "log10",
    "log1p",
    "log2",
    "logical_not",
    "nan_to_num",
    "negative",
    "reciprocal",
    "round",
    "rsqrt",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "tan",
    "tanh",
    "trunc",
]


def _float_input(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """``fn`` applied to integers/booleans cast to ``floatx()`` first (Keras's ``exp`` family)."""

    def apply(x: Tensor) -> Tensor:
        if not (x.is_floating_point() or x.is_complex()):
            x = x.to(config.floatx_dtype())
        return fn(x)

    return apply


def _keep_bool(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    def apply(x: Tensor) -> Tensor:
        return x if x.dtype == torch.bool else fn(x)

    return apply


abs = unary_op(_keep_bool(torch.abs), "abs", "Absolute value.", "abs(torch.tensor([-1.5, 2.0]))", "tensor([1.5000, 2.0000])")  # fmt: skip
absolute = unary_op(_keep_bool(torch.abs), "absolute", "Alias of :func:`abs`.", "absolute(-2)", "tensor(2, dtype=torch.int32)")  # fmt: skip
negative = unary_op(torch.negative, "negative", "``-x``.", "negative(torch.tensor([1.0, -2.0]))", "tensor([-1.,  2.])")  # fmt: skip
reciprocal = unary_op(torch.reciprocal, "reciprocal", "``1 / x``.", "reciprocal(torch.tensor([2.0]))", "tensor([0.5000])")  # fmt: skip
rsqrt = unary_op(torch.rsqrt, "rsqrt", "``1 / sqrt(x)``.", "rsqrt(torch.tensor([4.0]))", "tensor([0.5000])")  # fmt: skip
exp = unary_op(_float_input(torch.exp), "exp", "``e ** x`` (integers become ``floatx()``).", "exp(torch.tensor([0, 1]))", "tensor([1.0000, 2.7183])")  # fmt: skip
exp2 = unary_op(_float_input(torch.exp2), "exp2", "``2 ** x`` (integers become ``floatx()``).", "exp2(torch.tensor([3]))", "tensor([8.])")  # fmt: skip
expm1 = unary_op(_float_input(torch.expm1), "expm1", "``exp(x) - 1``, accurate near 0.", "expm1(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
log = unary_op(torch.log, "log", "Natural logarithm.", "log(torch.tensor([1.0]))", "tensor([0.])")  # fmt: skip
log2 = unary_op(torch.log2, "log2", "Base-2 logarithm.", "log2(torch.tensor([8.0]))", "tensor([3.])")  # fmt: skip
log10 = unary_op(torch.log10, "log10", "Base-10 logarithm.", "log10(torch.tensor([100.0]))", "tensor([2.])")  # fmt: skip
log1p = unary_op(torch.log1p, "log1p", "``log(1 + x)``, accurate near 0.", "log1p(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
sign = unary_op(torch.sign, "sign", "-1, 0 or 1 by the sign of ``x``.", "sign(torch.tensor([-3.0, 0.0, 2.0]))", "tensor([-1.,  0.,  1.])")  # fmt: skip
trunc = unary_op(_keep_bool(torch.trunc), "trunc", "Round toward zero.", "trunc(torch.tensor([-1.7, 1.7]))", "tensor([-1.,  1.])")  # fmt: skip
sin = unary_op(torch.sin, "sin", "Sine.", "sin(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
cos = unary_op(torch.cos, "cos", "Cosine.", "cos(torch.tensor([0.0]))", "tensor([1.])")  # fmt: skip
tan = unary_op(torch.tan, "tan", "Tangent.", "tan(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
arcsin = unary_op(torch.arcsin, "arcsin", "Inverse sine.", "arcsin(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
arccos = unary_op(torch.arccos, "arccos", "Inverse cosine.", "arccos(torch.tensor([1.0]))", "tensor([0.])")  # fmt: skip
arctan = unary_op(torch.arctan, "arctan", "Inverse tangent.", "arctan(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
sinh = unary_op(torch.sinh, "sinh", "Hyperbolic sine.", "sinh(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
cosh = unary_op(torch.cosh, "cosh", "Hyperbolic cosine.", "cosh(torch.tensor([0.0]))", "tensor([1.])")  # fmt: skip
tanh = unary_op(torch.tanh, "tanh", "Hyperbolic tangent.", "tanh(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
arcsinh = unary_op(torch.arcsinh, "arcsinh", "Inverse hyperbolic sine.", "arcsinh(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
arccosh = unary_op(torch.arccosh, "arccosh", "Inverse hyperbolic cosine.", "arccosh(torch.tensor([1.0]))", "tensor([0.])")  # fmt: skip
arctanh = unary_op(torch.arctanh, "arctanh", "Inverse hyperbolic tangent.", "arctanh(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
erf = unary_op(torch.erf, "erf", "The error function.", "erf(torch.tensor([0.0]))", "tensor([0.])")  # fmt: skip
isnan = unary_op(torch.isnan, "isnan", "Whether each entry is NaN.", "isnan(torch.tensor([float('nan'), 1.0]))", "tensor([ True, False])")  # fmt: skip
isinf = unary_op(torch.isinf, "isinf", "Whether each entry is infinite.", "isinf(torch.tensor([float('inf'), 1.0]))", "tensor([ True, False])")  # fmt: skip
isfinite = unary_op(torch.isfinite, "isfinite", "Whether each entry is finite.", "isfinite(torch.tensor([float('inf'), 1.0]))", "tensor([False,  True])")  # fmt: skip
logical_not = unary_op(torch.logical_not, "logical_not", "Element-wise logical NOT.", "logical_not(torch.tensor([True, False]))", "tensor([False,  True])")  # fmt: skip


def square(x: Any) -> Tensor:
    """``x * x`` (booleans are squared as ``int32``).

    Example:
        >>> square(torch.tensor([2.0, -3.0]))
        tensor([4., 9.])
    """
    x = convert_to_tensor(x)
    return torch.square(x.to(torch.int32) if x.dtype == torch.bool else x)


def sqrt(x: Any) -> Tensor:
    """Square root (``int64`` inputs become ``floatx()``, as in Keras).

    Example:
        >>> sqrt(torch.tensor([4.0]))
        tensor([2.])
    """
    x = convert_to_tensor(x)
    return torch.sqrt(x.to(config.floatx_dtype()) if x.dtype == torch.int64 else x)


def _rounded_dtype(x: Tensor) -> torch.dtype:
    """Keras's result dtype of ``floor``/``ceil``: floats keep theirs, integers become floats."""
    if x.dtype == torch.int64:
        return config.floatx_dtype()
    return to_torch_dtype(result_type(x.dtype, float))


def _rounded(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    def apply(x: Tensor) -> Tensor:
        return fn(x.to(_rounded_dtype(x)))

    return apply


floor = unary_op(_rounded(torch.floor), "floor", "Round toward minus infinity (integers become floats, as in Keras).", "floor(torch.tensor([-1.5, 1.5]))", "tensor([-2.,  1.])")  # fmt: skip
ceil = unary_op(_rounded(torch.ceil), "ceil", "Round toward plus infinity (integers become floats, as in Keras).", "ceil(torch.tensor([-1.5, 1.5]))", "tensor([-1.,  2.])")  # fmt: skip


def round(x: Any, decimals: int = 0) -> Tensor:
    """Round half to even, to ``decimals`` places (integer inputs keep their dtype).

    Example:
        >>> round(torch.tensor([0.5, 1.5, 1.26]), decimals=1)
        tensor([0.5000, 1.5000, 1.3000])
    """
    x = convert_to_tensor(x)
    if x.is_floating_point():
        return torch.round(x, decimals=decimals)
    return torch.round(x.to(config.floatx_dtype()), decimals=decimals).to(x.dtype)


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """``x`` limited to ``[x_min, x_max]`` (booleans are clipped as ``int32``).

    Example:
        >>> clip(torch.tensor([-2.0, 0.5, 3.0]), 0, 1)
        tensor([0.0000, 0.5000, 1.0000])
    """
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    if (
        x.is_floating_point()
        and isinstance(x_min, (int, float))
        and isinstance(x_max, (int, float))
    ):
        return torch.clamp(x, x_min, x_max)
    return torch.clamp(x, as_tensor_like(x_min, x), as_tensor_like(x_max, x))


def nan_to_num(
    x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """``x`` with NaN and infinities replaced by finite numbers.

    Example:
        >>> nan_to_num(torch.tensor([float("nan"), 1.0]))
        tensor([0., 1.])
    """
    return torch.nan_to_num(convert_to_tensor(x), nan=nan, posinf=posinf, neginf=neginf)
