"""``kseq.ops`` beyond value parity: device placement, autograd, host syncs, errors, and the
cases where kseq follows NumPy because Keras 3.15's torch backend is wrong."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from kseq import ops

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
from test_host_syncs import count_host_conversions


def test_unsupported_keras_ops_name_the_torch_function() -> None:
    with pytest.raises(NotImplementedError, match=r"keras.ops.svd.*torch\.linalg\.svd"):
        ops.svd(torch.eye(2))
    with pytest.raises(NotImplementedError, match=r"torch\.nn\.functional\.conv2d\(\.\.\., groups"):
        _ = ops.depthwise_conv
    with pytest.raises(AttributeError, match="has no attribute 'not_an_op'"):
        _ = ops.not_an_op


def test_tensors_stay_on_their_device() -> None:
    x = torch.ones(2, 3, device="meta")
    for out in (
        ops.add(x, 1.5), ops.where(x > 0, x, 0.0), ops.clip(x, 0, 1), ops.maximum(x, 2),
        ops.mean(ops.square(x), axis=-1), ops.take(x, [1, 0], axis=1), ops.softmax(x),
        ops.matmul(x, np.ones((3, 2), "float32")), ops.one_hot(torch.zeros(2, dtype=torch.long, device="meta"), 3),
    ):  # fmt: skip
        assert out.device.type == "meta"


def test_ops_in_a_loss_do_not_read_values_back_to_the_host() -> None:
    y_true, y_pred = torch.rand(8, 3), torch.rand(8, 3, requires_grad=True)
    with count_host_conversions() as counts:
        loss = ops.mean(ops.square(y_true - y_pred), axis=-1)
        loss = loss + 0.1 * ops.mean(ops.square(0.5 - y_pred), axis=-1)
        loss = ops.sum(ops.where(ops.greater(y_true, 0.5), loss[:, None], 0.0)) / 8
        hits = ops.cast(ops.argmax(y_pred, axis=1) == ops.argmax(y_true, axis=1), "float32")
        total = ops.sum(hits) + ops.logsumexp(y_pred) + ops.norm(y_pred)
    assert sum(counts.values()) == 0
    (loss + total).backward()
    assert y_pred.grad is not None and y_pred.grad.shape == (8, 3)


def test_python_numbers_promote_as_keras_weak_types() -> None:
    i32 = torch.tensor([1, 2], dtype=torch.int32)
    assert ops.add(i32, 1).dtype == torch.int32
    assert ops.add(i32, 1.5).dtype == torch.float32
    assert ops.add(torch.tensor([True]), 1).dtype == torch.int32  # torch alone would give int64
    assert ops.add(torch.ones(1, dtype=torch.float16), 2.0).dtype == torch.float16
    assert ops.maximum(i32, 0.5).dtype == torch.float32


def test_pad_symmetric_and_edge_follow_numpy() -> None:
    # Keras 3.15's torch backend pads "symmetric" like "edge" and rejects "edge" (fixed upstream).
    x = np.arange(12, dtype="float32").reshape(3, 4)
    for mode in ("symmetric", "edge", "reflect"):
        got = ops.pad(x, ((1, 2), (2, 1)), mode=mode).numpy()
        np.testing.assert_array_equal(got, np.pad(x, ((1, 2), (2, 1)), mode=mode))


def test_take_of_a_flattened_input_counts_negative_indices_from_its_end() -> None:
    # Keras 3.15's torch backend wraps them with the size of axis 0 instead.
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(ops.take(x, [[0, -1]]).numpy(), np.take(x, [[0, -1]]))


def test_numpy_semantics_where_keras_torch_differs() -> None:
    x = np.arange(6, dtype="float32").reshape(2, 3)
    assert ops.concatenate([x, x], axis=None).shape == (12,)  # Keras's torch backend fails
    assert ops.max(x, keepdims=True).shape == (1, 1)  # Keras's torch backend returns shape ()
    with pytest.raises(ValueError, match="Cannot squeeze axis 1: it has size 3"):
        ops.squeeze(x, axis=1)  # Keras's torch backend silently returns x


def test_split_into_unequal_sections_is_an_error_with_the_fix() -> None:
    with pytest.raises(ValueError, match="is not divisible by 2"):
        ops.split(np.zeros(5), 2)


def test_convert_to_tensor_rejects_non_numbers_and_sparse() -> None:
    with pytest.raises(ValueError, match="only numbers and booleans"):
        ops.convert_to_tensor(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="`sparse=True` is not supported"):
        ops.convert_to_tensor([1.0], sparse=True)


def test_softmax_over_a_size_one_axis_warns_as_keras() -> None:
    with pytest.warns(UserWarning, match="softmax over axis -1 of a tensor of shape \\(2, 1\\)"):
        out = ops.softmax(np.zeros((2, 1), dtype="float32"))
    assert out.tolist() == [[1.0], [1.0]]


def test_conv_rejects_channel_mismatch() -> None:
    with pytest.raises(
        ValueError, match=r"Input channels \(3\) must be divisible by kernel input channels \(2\)"
    ):
        ops.conv(np.zeros((1, 4, 4, 3), "float32"), np.zeros((3, 3, 2, 4), "float32"))


@pytest.mark.cuda
def test_ops_with_python_numbers_on_cuda_tensors_never_sync() -> None:
    x = torch.rand(4, 3, device="cuda")
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        outs = [
            ops.add(x, 1), ops.maximum(x, 0.5), ops.where(x > 0.5, x, 0.0),
            ops.clip(ops.cast(x * 10, "int32"), 0, 5), ops.add(x > 0.5, 1), ops.power(x, 2),
            ops.divide_no_nan(x, 0.0), ops.mean(ops.square(x - 0.5), axis=-1),
            ops.one_hot(ops.argmax(x, axis=1), 3), ops.take(x, torch.tensor([2, -1], device="cuda"), axis=1),
            ops.softmax(x, axis=None), ops.logsumexp(x, axis=1),
        ]  # fmt: skip
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert all(out.device.type == "cuda" for out in outs)
