"""``EinsumDense``: a dense layer whose computation is one ``torch.einsum`` equation.

Keras's rules: the equation takes one of three forms (``ab,bc->ac``, ``...b,bc->...c`` or
``ab...,bc->ac...``); the kernel's shape comes from the input shape and ``output_shape`` (which
leaves out the batch axis and the elided axes), and its Glorot-style fans count only the kernel axes
shared with the input (fan-in) or with the output (fan-out), as Keras's ``EinsumDense`` passes
``input_axes``/``output_axes`` to its ``VarianceScaling`` initializers.

Example:
    >>> import torch
    >>> layer = EinsumDense("abc,cd->abd", output_shape=(None, 8), bias_axes="d")
    >>> layer(torch.ones(2, 5, 3)).shape, [tuple(w.shape) for w in layer.get_weights()]
    (torch.Size([2, 5, 8]), [(3, 8), (8,)])
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kseq import activations, constraints, initializers, regularizers
from kseq.initializers.random_initializers import VarianceScaling
from kseq.layers.layer import InputSpec, Layer, Shape

__all__ = ["EinsumDense"]

EinsumAnalysis = tuple[list[Any], list[Any] | None, list[Any], list[int], list[int]]


def analyze_einsum_string(
    equation: str,
    bias_axes: str | None,
    input_shape: Shape,
    output_shape: Sequence[int | None] | int,
) -> EinsumAnalysis:
    """Kernel shape, bias shape, full output shape, kernel input axes and kernel output axes.

    Example:
        >>> analyze_einsum_string("...b,bc->...c", "c", (None, 4, 3), (5,))
        ([3, 5], [5], [None, 4, 5], [0], [1])
    """
    dotted = re.sub(r"\.\.\.", "0", equation)
    match = re.match("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", dotted)
    if match:
        return _analyze_split(match, bias_axes, input_shape, output_shape)
    match = re.match("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", dotted)
    if match:
        return _analyze_split(match, bias_axes, input_shape, output_shape, left_elided=True)
    match = re.match("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", dotted)
    if match:
        return _analyze_split(match, bias_axes, input_shape, output_shape)
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def _analyze_split(
    match: re.Match[str],
    bias_axes: str | None,
    input_shape: Shape,
    output_shape: Sequence[int | None] | int,
    left_elided: bool = False,
) -> EinsumAnalysis:
    input_spec, weight_spec, output_spec = match.group(1), match.group(2), match.group(3)
    elided = len(input_shape) - len(input_spec)
    out = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    out.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            out.insert(1, input_shape[i])
    elif elided > 0:
        out.extend(input_shape[i] for i in range(len(input_shape) - elided, len(input_shape)))
    if left_elided:
        input_dims = {d: i + elided - len(input_shape) for i, d in enumerate(input_spec)}
        output_dims = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_dims = {d: i for i, d in enumerate(input_spec)}
        output_dims = {d: i for i, d in enumerate(output_spec)}
    for dim in input_spec:
        size = input_shape[input_dims[dim]]
        if (
            dim in output_dims
            and out[output_dims[dim]] is not None
            and out[output_dims[dim]] != size
        ):
            raise ValueError(
                f"Input shape and output shape do not match at shared dimension '{dim}'. Input "
                f"shape is {size}, and output shape is {out[output_dims[dim]]}."
            )
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"Dimension '{dim}' was specified in the output '{output_spec}' but has no "
                f"corresponding dim in the input spec '{input_spec}' or weight spec '{output_spec}'"
            )
    kernel_shape: list[Any] = []
    input_axes: list[int] = []
    output_axes: list[int] = []
    for i, dim in enumerate(weight_spec):
        if dim in output_dims:
            kernel_shape.append(out[output_dims[dim]])
            output_axes.append(i)
        elif dim in input_dims:
            kernel_shape.append(input_shape[input_dims[dim]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{dim}' did not have a match in either the input spec "
                f"'{input_spec}' or the output spec '{output_spec}'. For this layer, the weight "
                "must be fully specified."
            )
    bias_shape: list[Any] | None = None
    if bias_axes is not None:
        offset = elided if left_elided else 0
        sizes = {c: out[i + offset] for i, c in enumerate(output_spec)}
        for char in bias_axes:
            if char not in output_spec:
                raise ValueError(
                    f"Bias dimension '{char}' was requested, but is not part of the output spec "
                    f"'{output_spec}'"
                )
        first = min(output_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias_shape.extend([1] * max(elided, 0))
    return kernel_shape, bias_shape, out, input_axes, output_axes


class EinsumDense(Layer):
    """A dense layer computing ``activation(einsum(equation, inputs, kernel) + bias)``.

    Args:
        equation: ``"ab,bc->ac"``, ``"...ab,bc->...ac"`` or ``"ab...,bc->ac..."`` style einsum
            string (input, kernel -> output).
        output_shape: Output shape without the batch axis and the elided (``...``) axes; ``None``
            entries are taken from the input.
        activation: Activation name or callable (``None`` = linear).
        bias_axes: Output axis letters that get a bias (``None`` = no bias).
        kernel_initializer, bias_initializer: Defaults ``"glorot_uniform"`` / ``"zeros"``. A
            ``VarianceScaling`` kernel initializer counts fans over the kernel's input / output axes.
        kernel_regularizer, bias_regularizer, activity_regularizer: Optional penalties.
        kernel_constraint, bias_constraint: Optional projections applied after each step.
        lora_rank: Not supported by kseq (must be ``None``).

    Example:
        >>> layer = EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c")
        >>> layer.build((None, 3)); layer(torch.ones(2, 3)).shape, layer.kernel.shape
        (torch.Size([2, 4]), torch.Size([3, 4]))
    """

    supports_masking = False

    def __init__(
        self,
        equation: str,
        output_shape: Sequence[int | None] | int,
        activation: Any = None,
        bias_axes: str | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if lora_rank:
            raise NotImplementedError(
                "EinsumDense(lora_rank=...) is not supported by kseq; fine-tune with a frozen base "
                "and a low-rank pair of layers instead."
            )
        if quantization_config is not None:
            raise NotImplementedError(
                "EinsumDense(quantization_config=...) is not supported by kseq; pass "
                "quantization_config=None."
            )
        self.equation = equation
        self.partial_output_shape = (
            (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        )
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape: Shape) -> None:
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_einsum_string(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        self.input_spec = InputSpec(ndim=len(input_shape))
        init = self.kernel_initializer
        if isinstance(init, VarianceScaling) and (
            init.input_axes is None or init.output_axes is None
        ):
            # Keras's fans for an n-d kernel: the axes shared with the input / the output only.
            init = copy.copy(init)
            init.input_axes, init.output_axes = input_axes, output_axes
        self.kernel = self.add_weight(
            shape=tuple(kernel_shape),
            initializer=init,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        if bias_shape is not None:
            self.bias = self.add_weight(
                shape=tuple(bias_shape),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        else:
            self.bias = None

    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        x = torch.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        return x if self.activation is activations.linear else self.activation(x)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _, _, full, _, _ = analyze_einsum_string(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        return tuple(full)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }
