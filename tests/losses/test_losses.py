"""Losses as a user meets them: string names, errors, custom functions, training with them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kseq
from kseq import losses


def test_unknown_name_suggests_the_closest_and_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as info:
        losses.get("binary_crossentropie")
    message = str(info.value)
    assert "Unknown loss: 'binary_crossentropie'" in message
    assert "Did you mean 'binary_crossentropy'?" in message
    assert "categorical_hinge" in message and "huber" in message


def test_keras2_names_still_resolve() -> None:
    assert isinstance(losses.get("logcosh"), losses.LogCosh)
    assert isinstance(losses.get("kullback_leibler_divergence"), losses.KLDivergence)
    assert isinstance(losses.get("huber_loss"), losses.Huber)
    assert (
        losses.kld is losses.kl_divergence and losses.MAPE is losses.mean_absolute_percentage_error
    )


def test_invalid_reduction_is_rejected_with_the_allowed_values() -> None:
    with pytest.raises(
        ValueError, match=r"Invalid value for argument `reduction`.*Received: reduction=avg"
    ):
        losses.Huber(reduction="avg")


def test_generalized_crossentropy_rejects_q_outside_the_open_interval() -> None:
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)


def test_categorical_crossentropy_on_one_unit_warns_like_keras() -> None:
    with pytest.warns(SyntaxWarning, match="Consider using 'binary_crossentropy'"):
        losses.categorical_crossentropy(torch.ones(2, 1), torch.full((2, 1), 0.5))


def test_crossentropy_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"target.shape=\(4, 2\), output.shape=\(4, 3\)"):
        losses.BinaryCrossentropy()(torch.zeros(4, 2), torch.full((4, 3), 0.5))


def test_hinge_maps_zero_one_targets_to_minus_one_one() -> None:
    scores = torch.tensor([[0.3, -0.8]])
    assert torch.equal(
        losses.hinge(torch.tensor([[1.0, 0.0]]), scores),
        losses.hinge(torch.tensor([[1.0, -1.0]]), scores),
    )


def test_dice_is_zero_for_a_perfect_mask_and_one_for_a_disjoint_one() -> None:
    mask = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    assert losses.Dice()(mask, mask).item() == pytest.approx(0.0, abs=1e-6)
    assert losses.Dice()(mask, 1 - mask).item() == pytest.approx(1.0)


def test_circle_loss_gradients_stay_finite_when_a_class_has_one_sample() -> None:
    emb = torch.nn.functional.normalize(torch.randn(4, 3), dim=-1).requires_grad_()
    loss = losses.Circle()(torch.tensor([0, 0, 1, 2]), emb)  # classes 1 and 2 have no positive pair
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(emb.grad).all()


def test_sparse_categorical_crossentropy_takes_a_class_axis() -> None:
    logits = torch.randn(2, 3, 5)  # classes on axis 1
    labels = torch.randint(0, 3, (2, 5))
    moved = losses.sparse_categorical_crossentropy(labels, logits.movedim(1, -1), from_logits=True)
    assert torch.allclose(
        losses.sparse_categorical_crossentropy(labels, logits, from_logits=True, axis=1), moved
    )


def test_custom_function_trains_and_its_wrapper_round_trips() -> None:
    @kseq.saving.register_keras_serializable(package="tests")
    def abs_cubed(y_true, y_pred):
        return (y_true - y_pred).abs().pow(3).mean(dim=-1)

    wrapper = losses.LossFunctionWrapper(abs_cubed, name="abs_cubed", reduction="sum")
    restored = losses.LossFunctionWrapper.from_config(wrapper.get_config())
    y, p = torch.zeros(3, 2), torch.ones(3, 2)
    assert restored.fn is abs_cubed and restored(y, p).item() == wrapper(y, p).item() == 3.0

    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    target = x.sum(axis=1, keepdims=True)
    model = kseq.Sequential([kseq.Input((4,)), kseq.layers.Dense(1)])
    model.compile(optimizer=kseq.optimizers.SGD(0.01), loss=abs_cubed)
    history = model.fit(x, target, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize(
    "loss",
    ["huber", "log_cosh", "msle", "poisson", "squared_hinge", "kld", "binary_focal_crossentropy"],
)
def test_regression_and_probabilistic_losses_train_by_name(loss) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    activation = "softplus" if loss in ("poisson", "msle") else "sigmoid"
    model = kseq.Sequential([kseq.Input((4,)), kseq.layers.Dense(1, activation=activation)])
    model.compile(optimizer=kseq.optimizers.Adam(0.05), loss=loss)
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_ctc_trains_a_sequence_model_in_fit() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8, 6)).astype("float32")
    labels = rng.integers(1, 4, size=(32, 3))
    model = kseq.Sequential([kseq.Input((8, 6)), kseq.layers.Dense(4)])
    model.compile(optimizer=kseq.optimizers.Adam(0.05), loss=losses.CTC())
    history = model.fit(x, labels, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_circle_and_generalized_crossentropy_train_with_integer_labels() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    labels = (x[:, 0] > 0).astype("int64")
    embedder = kseq.Sequential([kseq.Input((4,)), kseq.layers.Dense(3, activation="tanh")])
    embedder.compile(optimizer=kseq.optimizers.Adam(0.05), loss=losses.Circle(gamma=4.0))
    assert np.isfinite(
        embedder.fit(x, labels, epochs=2, batch_size=32, verbose=0).history["loss"]
    ).all()
    classifier = kseq.Sequential([kseq.Input((4,)), kseq.layers.Dense(2, activation="softmax")])
    classifier.compile(
        optimizer=kseq.optimizers.Adam(0.05), loss="CategoricalGeneralizedCrossEntropy"
    )
    history = classifier.fit(x, labels, epochs=4, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.cuda
def test_cuda_losses_and_their_gradients_never_synchronize_with_the_host() -> None:
    device = torch.device("cuda")
    probs = torch.rand(8, 4, device=device) * 0.9 + 0.05
    onehot = torch.nn.functional.one_hot(torch.randint(0, 4, (8,), device=device), 4).float()
    labels = torch.randint(0, 4, (8,), device=device)
    weights = torch.rand(8, device=device)
    cases = [
        (losses.BinaryFocalCrossentropy(apply_class_balancing=True), onehot, probs),
        (losses.CategoricalFocalCrossentropy(from_logits=True), onehot, probs),
        (losses.SparseCategoricalCrossentropy(ignore_class=0), labels, probs),
        (losses.Huber(), onehot, probs),
        (losses.Hinge(), onehot, probs),
        (losses.CategoricalHinge(), onehot, probs),
        (losses.KLDivergence(), onehot, probs),
        (losses.Dice(axis=1), onehot, probs),
        (losses.Tversky(), onehot, probs),
        (losses.Circle(), labels, torch.nn.functional.normalize(probs, dim=-1)),
        (losses.CategoricalGeneralizedCrossEntropy(), labels, probs),
    ]
    torch.cuda.set_sync_debug_mode("error")
    try:
        for loss, y_true, y_pred in cases:
            y_pred = y_pred.detach().requires_grad_()
            for reduction in ("sum_over_batch_size", "mean_with_sample_weight"):
                loss.reduction = reduction
                loss(y_true, y_pred, sample_weight=weights).backward()
    finally:
        torch.cuda.set_sync_debug_mode(0)
