"""``model.summary()``: Keras 3's table, rows, totals and sizes, rendered without ``rich``.

Example:
    >>> import kseq
    >>> model = kseq.Sequential([kseq.Input(shape=(10,)), kseq.layers.Dense(1, name="out")])
    >>> model.summary(line_length=60)  # doctest: +NORMALIZE_WHITESPACE
    Model: "sequential..."
    ...
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor

from kseq.core.io import print_msg
from kseq.layers.layer import format_shape
from kseq.models.summary_table import column_widths, render_table


def count_params(weights: Sequence[Tensor]) -> int:
    """Total number of scalars."""
    return int(sum(math.prod(w.shape) for w in weights))


def weight_memory_size(weights: Sequence[Tensor]) -> float:
    """Bytes taken by ``weights`` (each counted once)."""
    unique = {id(w): w for w in weights}.values()
    return float(sum(w.numel() * w.element_size() for w in unique))


def readable_memory_size(size: float) -> str:
    """Keras's ``"3.00 KB"`` formatting (base 1024).

    Example:
        >>> readable_memory_size(3076), readable_memory_size(0)
        ('3.00 KB', '0.00 B')
    """
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _shape_cell(layer: Any) -> str:
    nodes = layer.__dict__.get("_inbound_nodes")
    if nodes:  # Keras reads the last call's outputs
        shapes = [format_shape(t.shape) for t in nodes[-1].outputs]
        return shapes[0] if len(shapes) == 1 else str(shapes).replace("'", "")
    if not getattr(layer, "built", False) or getattr(layer, "_build_output_shape", None) is None:
        return "?"
    shape = layer._build_output_shape
    if isinstance(shape, list):
        return str([format_shape(s) for s in shape]).replace("'", "")
    return format_shape(shape)


def _param_cell(layer: Any) -> str:
    if not getattr(layer, "built", False):
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _graph_nodes(model: Any) -> list[Any] | None:
    """A functional model's nodes when it is not a plain chain (then the table gets "Connected
    to"); ``None`` for chains, ``Sequential`` and subclassed models (Keras's ``sequential_like``)."""
    by_depth = getattr(model, "_nodes_by_depth", None)
    if not by_depth:
        return None
    nodes = [node for level in by_depth.values() for node in level]
    chain = all(len(level) == 1 and len(level[0].input_tensors) <= 1 for level in by_depth.values())
    ids = {id(n) for n in nodes}
    shared = any(
        sum(id(n) in ids for n in layer.__dict__.get("_inbound_nodes", [])) > 1
        for layer in model.layers
    )
    return None if chain and not shared else nodes


def _connections(layer: Any, nodes: list[Any]) -> str:
    ids = {id(n) for n in nodes}
    names = []
    for node in layer.__dict__.get("_inbound_nodes", []):
        if id(node) not in ids:
            continue
        for tensor in node.input_tensors:
            source, node_index, tensor_index = tensor._keras_history
            names.append(f"{source.name}[{node_index}][{tensor_index}]")
    return ", ".join(names) or "-"


def _rows(
    layers: Sequence[Any],
    show_trainable: bool,
    expand_nested: bool,
    level: int = 0,
    graph: list[Any] | None = None,
) -> list[list[str]]:
    rows = []
    prefix = "   " * level + "└ " if level else ""
    for layer in layers:
        row = [
            f"{prefix}{layer.name} ({getattr(layer, 'summary_type', type(layer).__name__)})",
            _shape_cell(layer),
            _param_cell(layer),
        ]
        if graph is not None:
            row.append(_connections(layer, graph))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        rows.append(row)
        nested = getattr(layer, "layers", None)
        if expand_nested and nested:
            rows.extend(_rows(nested, show_trainable, expand_nested, level + 1, graph))
    return rows


def _layer_range(layers: Sequence[Any], layer_range: Sequence[str] | None) -> Sequence[Any]:
    if layer_range is None:
        return layers
    if len(layer_range) != 2:
        raise ValueError(
            f"layer_range must be a list or tuple of length 2. Received: layer_range={layer_range}"
        )
    starts = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    ends = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not starts or not ends:
        raise ValueError(
            f"Passed layer_range does not match any layer names. Received: layer_range={layer_range}"
        )
    return layers[starts[0] : ends[-1] + 1]


def summary_text(
    model: Any,
    line_length: int | None = None,
    positions: Sequence[float] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Sequence[str] | None = None,
) -> str:
    """The full summary text (title, table, totals), exactly as Keras 3 prints it off a terminal."""
    terminal = shutil.get_terminal_size().columns
    graph = _graph_nodes(model)
    default_length = 88 if graph is None else 108
    positions = list(positions or ([0.45, 0.80, 1.0] if graph is None else [0.3, 0.56, 0.74, 1.0]))
    headers = ["Layer (type)", "Output Shape", "Param #"]
    justify = ["left", "left", "right"]
    if graph is not None:
        headers.append("Connected to")
        justify.append("left")
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        headers.append("Trainable")
        justify.append("center")
    line_length = line_length or min(default_length, terminal - 4)
    widths = column_widths(positions, line_length)
    shown = model.summary_rows() if hasattr(model, "summary_rows") else model.layers
    rows = _rows(_layer_range(shown, layer_range), show_trainable, expand_nested, graph=graph)
    table = render_table(headers, rows, widths, justify, line_length, console_width=terminal)

    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    optimizer = getattr(model, "optimizer", None)
    optimizer_vars = optimizer.variables if optimizer is not None and optimizer.built else None
    total = trainable + non_trainable + (optimizer_vars or [])
    lines = [
        f'Model: "{model.name}"',
        table.rstrip("\n"),
        f" Total params: {count_params(total):,} ({readable_memory_size(weight_memory_size(total))})",
        f" Trainable params: {count_params(trainable):,} ({readable_memory_size(weight_memory_size(trainable))})",
        f" Non-trainable params: {count_params(non_trainable):,} "
        f"({readable_memory_size(weight_memory_size(non_trainable))})",
    ]
    if optimizer_vars is not None:
        lines.append(
            f" Optimizer params: {count_params(optimizer_vars):,} "
            f"({readable_memory_size(weight_memory_size(optimizer_vars))})"
        )
    return "\n".join(lines) + "\n"


def print_summary(
    model: Any,
    line_length: int | None = None,
    positions: Sequence[float] | None = None,
    print_fn: Callable[..., Any] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Sequence[str] | None = None,
) -> None:
    """Print :func:`summary_text` to stdout, or pass it (one string) to ``print_fn`` as Keras does."""
    text = summary_text(model, line_length, positions, expand_nested, show_trainable, layer_range)
    if print_fn is None:
        print_msg(text, line_break=False)
    else:
        print_fn(text)
