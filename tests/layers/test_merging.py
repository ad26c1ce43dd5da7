"""Merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) and their
functional twins, against Keras 3 and as users use them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import kseq
from kseq import layers

ELEMENTWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]
TWINS = {
    "Add": "add",
    "Subtract": "subtract",
    "Multiply": "multiply",
    "Average": "average",
    "Maximum": "maximum",
    "Minimum": "minimum",
    "Concatenate": "concatenate",
    "Dot": "dot",
}
# input shapes (batch included) Keras merges element-wise: equal, broadcast, rank mismatch, 3 inputs
SHAPE_CASES = {
    "same": [(2, 3, 4), (2, 3, 4)],
    "broadcast": [(2, 3), (2, 1)],
    "broadcast_inner": [(2, 1, 4), (2, 3, 1)],
    "rank_mismatch": [(2, 3), (2, 4, 3)],
    "rank_mismatch_3": [(2, 5), (2, 3, 4, 5), (2, 4, 1)],
    "three": [(2, 3), (2, 3), (2, 3)],
}


def _randn(*shape: int) -> torch.Tensor:
    return torch.randn(*shape)


def _np(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _keras_text(exc: BaseException) -> str:
    """Keras's message without the "Exception encountered when calling ..." wrapper it adds
    around errors raised inside ``call``."""
    text = str(exc)
    wrapped = re.search(r"\x1b\[1m(.*?)\x1b\[0m", text, re.S)
    return wrapped.group(1) if wrapped else text


# ------------------------------------------------------------------ element-wise parity
@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "case"),
    [
        (name, case)
        for name in ELEMENTWISE
        for case in sorted(SHAPE_CASES)
        # Subtract takes exactly 2 inputs (its error is in test_errors_equal_keras)
        if name != "Subtract" or len(SHAPE_CASES[case]) == 2
    ],
)
def test_elementwise_equals_keras(keras: Any, name: str, case: str) -> None:
    shapes = SHAPE_CASES[case]
    inputs = [_randn(*s) for s in shapes]
    ours = getattr(layers, name)()(inputs)
    theirs = getattr(keras.layers, name)()(inputs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=1e-6)
    none_batch = [(None, *s[1:]) for s in shapes]
    for shape_list in (shapes, none_batch):
        assert getattr(layers, name)().compute_output_shape(shape_list) == getattr(
            keras.layers, name
        )().compute_output_shape(shape_list)
    assert getattr(layers, name)().compute_output_shape(shapes) == tuple(ours.shape)


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(TWINS))
def test_functional_twins_equal_keras(keras: Any, name: str) -> None:
    x, y = _randn(3, 4, 5), _randn(3, 4, 5)
    kwargs: dict[str, Any] = {"axes": 2} if name == "Dot" else {}
    if name == "Concatenate":
        kwargs = {"axis": 1}
    twin = TWINS[name]
    ours = getattr(layers, twin)([x, y], **kwargs)
    theirs = getattr(keras.layers, twin)([x, y], **kwargs)
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=1e-6)
    # the twin is the layer called on the inputs
    np.testing.assert_allclose(_np(getattr(layers, name)(**kwargs)([x, y])), _np(ours), atol=0)


def test_functional_twin_passes_layer_kwargs() -> None:
    out = layers.dot(
        [torch.tensor([[3.0, 4.0]]), torch.tensor([[6.0, 8.0]])], axes=1, normalize=True
    )
    assert torch.allclose(out, torch.ones(1, 1))
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to Add"):
        layers.add([torch.ones(1, 2), torch.ones(1, 2)], axis=1)


@pytest.mark.keras
def test_keras_docstring_examples_on_numpy_arrays(keras: Any) -> None:
    """Keras's own examples feed NumPy arrays (float64, int64): same values and dtypes."""
    x1, x2 = np.random.rand(2, 3, 4), np.random.rand(2, 3, 4)
    for name in ELEMENTWISE:
        ours, theirs = getattr(layers, name)()([x1, x2]), getattr(keras.layers, name)()([x1, x2])
        assert ours.dtype == theirs.dtype == torch.float32
        np.testing.assert_allclose(_np(ours), _np(theirs), atol=1e-6)
    x, y = np.arange(20).reshape(2, 2, 5), np.arange(20, 30).reshape(2, 1, 5)
    ours, theirs = layers.Concatenate(axis=1)([x, y]), keras.layers.Concatenate(axis=1)([x, y])
    assert ours.dtype == theirs.dtype and np.array_equal(_np(ours), _np(theirs))
    x, y = np.arange(10.0).reshape(1, 5, 2), np.arange(10.0, 20.0).reshape(1, 2, 5)
    ours, theirs = layers.Dot(axes=(1, 2))([x, y]), keras.layers.Dot(axes=(1, 2))([x, y])
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=1e-6)


@pytest.mark.parametrize("name", [*ELEMENTWISE, "Concatenate"])
def test_a_built_layer_called_on_one_tensor_says_so(name: str) -> None:
    layer = getattr(layers, name)()
    layer([torch.ones(2, 3), torch.ones(2, 3)])
    with pytest.raises(ValueError, match="A merge layer should be called on a list of inputs"):
        layer(torch.ones(2, 3))
    dot = layers.Dot(axes=1)
    dot([torch.ones(2, 3), torch.ones(2, 3)])
    with pytest.raises(ValueError, match="A merge layer should be called on a list of inputs"):
        dot(torch.ones(2, 3))


# ------------------------------------------------------------------ Concatenate
@pytest.mark.keras
@pytest.mark.parametrize(
    ("axis", "shapes"),
    [
        (-1, [(2, 3), (2, 5)]),
        (1, [(2, 3), (2, 5)]),
        (1, [(2, 2, 5), (2, 1, 5), (2, 4, 5)]),
        (-1, [(2, 3, 4), (2, 3, 1)]),
        (2, [(2, 3, 4), (2, 3, 2)]),
        (-2, [(2, 3, 4), (2, 1, 4)]),
        (0, [(2, 3), (4, 3)]),
    ],
)
def test_concatenate_equals_keras(keras: Any, axis: int, shapes: list[tuple[int, ...]]) -> None:
    inputs = [_randn(*s) for s in shapes]
    ours = layers.Concatenate(axis=axis)(inputs)
    theirs = keras.layers.Concatenate(axis=axis)(inputs)
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=0)
    for shape_list in (shapes, [(None, *s[1:]) for s in shapes]):
        assert layers.Concatenate(axis=axis).compute_output_shape(
            shape_list
        ) == keras.layers.Concatenate(axis=axis).compute_output_shape(shape_list)


@pytest.mark.keras
def test_concatenate_unknown_sizes_match_anything(keras: Any) -> None:
    shapes = [(None, None, 4), (None, 3, 2)]
    ours, theirs = layers.Concatenate(), keras.layers.Concatenate()
    ours.build(shapes)
    theirs.build(shapes)
    assert (
        ours.compute_output_shape(shapes) == theirs.compute_output_shape(shapes) == (None, None, 6)
    )
    assert ours.compute_output_shape([(None, 3, None), (None, 3, 2)]) == (None, 3, None)


# ------------------------------------------------------------------ Dot
DOT_CASES = [
    (1, [(4, 3), (4, 3)]),
    (-1, [(4, 3), (4, 3)]),
    (2, [(4, 5, 3), (4, 6, 3)]),
    (-1, [(4, 5, 3), (4, 3)]),
    ((1, 2), [(2, 3, 5), (2, 10, 3)]),
    ((-2, -1), [(2, 3, 5), (2, 10, 3)]),
    ((2, 1), [(2, 3, 5), (2, 5, 4)]),
    ((1, 1), [(3, 4), (3, 4, 2)]),
    ((2, 1), [(2, 3, 4, 5), (2, 4, 6, 7)]),
    ((3, 3), [(2, 3, 4, 5), (2, 2, 6, 5)]),
]


@pytest.mark.keras
@pytest.mark.parametrize("normalize", [False, True], ids=["plain", "normalize"])
@pytest.mark.parametrize(("axes", "shapes"), DOT_CASES, ids=[str(c) for c in DOT_CASES])
def test_dot_equals_keras(
    keras: Any, axes: Any, shapes: list[tuple[int, ...]], normalize: bool
) -> None:
    x, y = (_randn(*s).requires_grad_() for s in shapes)
    ours = layers.Dot(axes=axes, normalize=normalize)([x, y])
    theirs = keras.layers.Dot(axes=axes, normalize=normalize)([x, y])
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=1e-6)
    # gradients too (Keras on torch runs on the same autograd)
    ours_grads = torch.autograd.grad(ours.square().sum(), [x, y])
    theirs_grads = torch.autograd.grad(theirs.square().sum(), [x, y])
    for a, b in zip(ours_grads, theirs_grads, strict=True):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)
    none_batch = [(None, *s[1:]) for s in shapes]
    assert layers.Dot(axes).compute_output_shape(none_batch) == keras.layers.Dot(
        axes
    ).compute_output_shape(none_batch)


def test_dot_normalize_is_cosine_proximity() -> None:
    x, y = torch.randn(8, 5), torch.randn(8, 5)
    out = layers.Dot(axes=1, normalize=True)([x, y])
    expected = torch.nn.functional.cosine_similarity(x, y, dim=1).unsqueeze(-1)
    torch.testing.assert_close(out, expected)


# ------------------------------------------------------------------ errors
ERROR_CASES: dict[str, tuple[Callable[[Any], Any], list[tuple[int, ...]] | None]] = {
    "concatenate_mismatch": (lambda L: L.Concatenate(), [(2, 3), (4, 3)]),
    "concatenate_axis1_mismatch": (lambda L: L.Concatenate(axis=1), [(2, 3, 4), (2, 3, 5)]),
    "concatenate_ranks": (lambda L: L.Concatenate(), [(2, 3), (2, 3, 4)]),
    "add_incompatible": (lambda L: L.Add(), [(2, 3), (2, 4)]),
    "add_rank_incompatible": (lambda L: L.Add(), [(2, 4), (2, 4, 3)]),
    "add_batch_sizes": (lambda L: L.Add(), [(2, 3), (3, 3)]),
    "maximum_incompatible": (lambda L: L.Maximum(), [(2, 3, 4), (2, 2, 4)]),
    "subtract_three": (lambda L: L.Subtract(), [(2, 3), (2, 3), (2, 3)]),
    "subtract_one": (lambda L: L.Subtract(), [(2, 3)]),
    "dot_mismatch": (lambda L: L.Dot(axes=1), [(2, 3), (2, 4)]),
    "dot_mismatch_negative": (lambda L: L.Dot(axes=-1), [(2, 5, 3), (2, 4)]),
    "dot_mismatch_pair": (lambda L: L.Dot(axes=(-1, 1)), [(2, 5, 3), (2, 4, 3)]),
    "dot_three": (lambda L: L.Dot(axes=1), [(2, 3), (2, 3), (2, 3)]),
    "dot_batch_axis": (lambda L: L.Dot(axes=0), [(2, 3), (2, 3)]),
    "dot_batch_axis_negative": (lambda L: L.Dot(axes=(1, -2)), [(2, 3), (2, 3)]),
}


@pytest.mark.keras
@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_equal_keras(keras: Any, case: str) -> None:
    make, shapes = ERROR_CASES[case]
    assert shapes is not None
    inputs = [torch.ones(s) for s in shapes]
    with pytest.raises(ValueError) as theirs:
        make(keras.layers)(inputs)
    with pytest.raises(ValueError) as ours:
        make(layers)(inputs)
    assert str(ours.value) == _keras_text(theirs.value)


@pytest.mark.keras
@pytest.mark.parametrize("name", ["Add", "Concatenate", "Multiply"])
def test_a_single_tensor_is_refused_as_keras_does(keras: Any, name: str) -> None:
    x = torch.ones(2, 3)
    with pytest.raises(ValueError) as theirs:
        getattr(keras.layers, name)()(x)
    with pytest.raises(ValueError) as ours:
        getattr(layers, name)()(x)
    assert str(ours.value) == _keras_text(theirs.value)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("axes", "error"),
    [("x", TypeError), ((1,), ValueError), ((1, 2, 3), ValueError), ((1.0, 2), ValueError)],
)
def test_dot_axes_argument_errors_equal_keras(keras: Any, axes: Any, error: type) -> None:
    with pytest.raises(error) as theirs:
        keras.layers.Dot(axes=axes)
    with pytest.raises(error) as ours:
        layers.Dot(axes=axes)
    assert str(ours.value) == str(theirs.value)


def test_dot_rank_1_and_out_of_range_axes_are_explained() -> None:
    with pytest.raises(
        ValueError, match=r"rank < 2. Received inputs with shapes \(3,\) and \(3,\)"
    ):
        layers.Dot(axes=1)([torch.ones(3), torch.ones(3)])
    with pytest.raises(ValueError, match=r"axis 3 is out of range for an input of shape \(2, 3\)"):
        layers.Dot(axes=3)([torch.ones(2, 3), torch.ones(2, 3)])


@pytest.mark.keras
def test_mask_argument_errors_equal_keras(keras: Any) -> None:
    x = torch.ones(2, 3, 1)
    m = torch.ones(2, 3, dtype=torch.bool)
    for args in ([[x, x], m], [[x, x], [m]]):
        for name in ("Add", "Concatenate"):
            with pytest.raises(ValueError) as theirs:
                getattr(keras.layers, name)().compute_mask(*args)
            with pytest.raises(ValueError) as ours:
                getattr(layers, name)().compute_mask(*args)
            # Keras's texts differ only in a colon for Concatenate's "`mask` should be a list"
            assert str(ours.value).replace("Received:", "Received") == str(theirs.value).replace(
                "Received:", "Received"
            )


# ------------------------------------------------------------------ masks
def _masks() -> tuple[torch.Tensor, torch.Tensor]:
    m1 = torch.tensor([[True, False, True, False], [False, True, True, False]])
    m2 = torch.tensor([[True, True, False, False], [False, False, True, True]])
    return m1, m2


@pytest.mark.keras
@pytest.mark.parametrize("axis", [1, -1, 2])
@pytest.mark.parametrize("which", ["first", "both", "second"])
def test_concatenate_compute_mask_equals_keras(keras: Any, axis: int, which: str) -> None:
    m1, m2 = _masks()
    mask = {"first": [m1, None], "both": [m1, m2], "second": [None, m2]}[which]
    inputs = [_randn(2, 4, 3), _randn(2, 4, 3)]
    ours = layers.Concatenate(axis=axis).compute_mask(inputs, mask)
    theirs = keras.layers.Concatenate(axis=axis).compute_mask(inputs, mask)
    np.testing.assert_array_equal(_np(ours), _np(theirs))
    assert layers.Concatenate().compute_mask(inputs, [None, None]) is None
    assert layers.Concatenate().compute_mask(inputs, None) is None


@pytest.mark.keras
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_compute_mask_equals_keras(keras: Any, name: str) -> None:
    m1, m2 = _masks()
    inputs = [_randn(2, 4, 3), _randn(2, 4, 3)]
    for mask in ([m1, m2], [m1, None]):
        ours = getattr(layers, name)().compute_mask(inputs, mask)
        theirs = getattr(keras.layers, name)().compute_mask(inputs, mask)
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_array_equal(_np(ours), _np(theirs))
    assert layers.Dot(axes=2).compute_mask(inputs, [m1, m2]) is None


@pytest.mark.keras
@pytest.mark.parametrize("which", ["both", "first"])
@pytest.mark.parametrize("name", [*ELEMENTWISE, "Concatenate"])
def test_masked_inputs_equal_keras(keras: Any, name: str, which: str) -> None:
    """Masks attached to the inputs (as Keras's tensors carry them) change Multiply / Maximum /
    Minimum as in Keras and travel on to the output; ``mask=[...]`` does the same."""
    m1, m2 = _masks()
    masks = [m1, m2] if which == "both" else [m1, None]
    base = [_randn(2, 4, 3), _randn(2, 4, 3)]

    def masked() -> list[torch.Tensor]:
        xs = [x.clone() for x in base]
        for x, m in zip(xs, masks, strict=True):
            if m is not None:
                x._keras_mask = m  # type: ignore[attr-defined]
        return xs

    theirs = getattr(keras.layers, name)()(masked())
    ours = getattr(layers, name)()(masked())
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=1e-6)
    their_mask = getattr(theirs, "_keras_mask", None)
    our_mask = getattr(ours, "_keras_mask", None)
    if their_mask is None:
        assert our_mask is None
    else:
        np.testing.assert_array_equal(_np(our_mask), _np(their_mask))
    explicit = getattr(layers, name)()([x.clone() for x in base], mask=masks)
    np.testing.assert_allclose(_np(explicit), _np(theirs), atol=1e-6)


def test_masked_multiply_and_maximum_by_hand() -> None:
    a = torch.tensor([[[2.0], [3.0], [5.0]]])
    b = torch.tensor([[[7.0], [-1.0], [4.0]]])
    ma = torch.tensor([[True, False, False]])
    mb = torch.tensor([[True, True, False]])
    # masked-out values count as 1 in a product; a step masked out everywhere gives 0
    assert layers.Multiply()([a, b], mask=[ma, mb]).flatten().tolist() == [14.0, -1.0, 0.0]
    # a masked-out value takes the other input's value
    out = layers.Maximum()([a, b], mask=[ma, mb])
    assert out.flatten().tolist()[:2] == [7.0, -1.0]
    assert out._keras_mask.tolist() == [[True, True, False]]  # type: ignore[attr-defined]


def test_unmasked_inputs_give_unmasked_outputs() -> None:
    out = layers.Add()([torch.ones(2, 3), torch.ones(2, 3)])
    assert getattr(out, "_keras_mask", None) is None


# ------------------------------------------------------------------ config
LAYER_ARGS: dict[str, dict[str, Any]] = {
    **{name: {} for name in ELEMENTWISE},
    "Concatenate": {"axis": 1},
    "Dot": {"axes": (1, 2), "normalize": True},
}


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(LAYER_ARGS))
def test_config_keys_equal_keras_and_round_trip(keras: Any, name: str) -> None:
    kwargs = LAYER_ARGS[name]
    ours = getattr(layers, name)(name="merge", **kwargs)
    theirs = getattr(keras.layers, name)(name="merge", **kwargs)
    config = ours.get_config()
    assert set(config) == set(theirs.get_config())
    for key, value in kwargs.items():
        assert config[key] == theirs.get_config()[key] == value
    clone = type(ours).from_config(config)
    assert type(clone) is type(ours) and clone.get_config() == config
    # Keras reads kseq's config and the other way round
    assert getattr(keras.layers, name).from_config(config).get_config() == theirs.get_config()


@pytest.mark.parametrize("name", sorted(LAYER_ARGS))
def test_serialize_keeps_the_build_shapes(name: str) -> None:
    shapes = {"Dot": [(2, 4, 3), (2, 5, 4)], "Concatenate": [(2, 4, 3), (2, 1, 3)]}.get(
        name, [(2, 4, 3), (2, 4, 3)]
    )
    layer = getattr(layers, name)(**LAYER_ARGS[name])
    inputs = [torch.randn(s) for s in shapes]
    out = layer(inputs)
    assert layer.built
    config = layers.serialize(layer)
    assert config["build_config"] == {"input_shape": [list(s) for s in shapes]}
    clone = layers.deserialize(config)
    assert clone.built and type(clone) is type(layer)
    torch.testing.assert_close(clone(inputs), out)


def test_merge_layers_are_found_by_name() -> None:
    for name in [*LAYER_ARGS]:
        config = {
            "class_name": name,
            "config": getattr(layers, name)(**LAYER_ARGS[name]).get_config(),
        }
        assert type(layers.deserialize(config)).__name__ == name


# ------------------------------------------------------------------ training and compile
class TwoBranches(kseq.Model):
    """A subclassed model merging two Dense branches of one input."""

    def __init__(self, merge: Callable[[list[torch.Tensor]], torch.Tensor]) -> None:
        super().__init__()
        self.merge = merge
        self.left = layers.Dense(16, activation="tanh")
        self.right = layers.Dense(16, activation="tanh")
        self.head = layers.Dense(1)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        merged = self.merge([self.left(inputs[:, :3]), self.right(inputs[:, 3:])])
        return self.head(merged)


def _additive(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, :3].sum(1)) + 0.5 * x[:, 3:].sum(1)


def _multiplicative(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, :3].sum(1)) * x[:, 3:].sum(1)


@pytest.mark.parametrize(
    ("merge", "target"),
    [
        (layers.add, _additive),
        (layers.concatenate, _additive),
        (layers.multiply, _multiplicative),
        (lambda xs: layers.dot(xs, axes=1), _multiplicative),
    ],
    ids=["add", "concatenate", "multiply", "dot"],
)
def test_a_model_merging_two_branches_trains(merge: Any, target: Any) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 5)).astype("float32")
    y = target(x)[:, None].astype("float32")
    model = TwoBranches(merge)
    model.compile(optimizer=kseq.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=25, batch_size=64, verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    baseline = float(np.mean((y - y.mean()) ** 2))  # predicting the mean
    assert last < 0.5 * first and last < 0.5 * baseline
    grads = [p.grad for p in (model.left.linear.weight, model.right.linear.weight)]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize(
    "layer",
    [layers.Add(), layers.Maximum(), layers.Concatenate(axis=1), layers.Dot(axes=(1, 2))],
    ids=["add", "maximum", "concatenate", "dot"],
)
def test_torch_compile_of_a_merge_layer(layer: Any) -> None:
    shapes = [(2, 4, 3), (2, 3, 4)] if isinstance(layer, layers.Dot) else [(2, 4, 3), (2, 4, 3)]
    inputs = [torch.randn(s) for s in shapes]
    eager = layer(inputs)
    compiled = torch.compile(layer, fullgraph=True)
    torch.testing.assert_close(compiled(inputs), eager)
    other = [torch.randn(s) for s in shapes]
    torch.testing.assert_close(compiled(other), layer(other))
