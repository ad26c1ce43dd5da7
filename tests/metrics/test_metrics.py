"""Metrics as users meet them: names, errors, custom metrics, state that stays where it is put."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from metric_cases import CASES, make_batch

import kseq
from kseq import metrics


@pytest.mark.keras
def test_get_accepts_exactly_the_strings_keras_accepts(keras) -> None:
    from keras.src.metrics import ALL_OBJECTS_DICT

    assert set(metrics._ALL) == set(ALL_OBJECTS_DICT)
    for name, cls in ALL_OBJECTS_DICT.items():
        try:
            theirs = keras.metrics.get(name)
        except TypeError:  # a class with required arguments (IoU(num_classes, ...), ...)
            with pytest.raises(TypeError, match="required positional argument"):
                metrics.get(name)
            continue
        ours = metrics.get(name)
        assert type(ours).__name__ == cls.__name__, name
        assert ours.name == theirs.name


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match="Did you mean 'F1Score'"):
        metrics.get("f1score")


def test_functions_and_instances_pass_through_get() -> None:
    auc = metrics.AUC()
    assert metrics.get(auc) is auc
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)
    assert metrics.get(None) is None
    assert isinstance(metrics.get({"class_name": "AUC", "config": {"curve": "PR"}}), metrics.AUC)


def test_reset_refills_the_same_buffers_in_place() -> None:
    metric = metrics.AUC(num_thresholds=11)
    metric.update_state(torch.tensor([0, 1, 1]), torch.tensor([0.1, 0.8, 0.4]))
    before = [v.data_ptr() for v in metric.variables]
    metric.reset_state()
    assert [v.data_ptr() for v in metric.variables] == before
    assert all(float(v.abs().sum()) == 0.0 for v in metric.variables)
    assert float(metric.result()) == 0.0


def test_state_moves_with_the_metric_and_results_are_tensors() -> None:
    metric = metrics.Precision(thresholds=[0.2, 0.8]).to(torch.float64)
    metric.update_state(np.array([1, 0, 1]), np.array([0.9, 0.5, 0.3]))
    result = metric.result()
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float64
    assert result.tolist() == pytest.approx([2 / 3, 1.0])
    assert "_threshold_values" not in metric.state_dict()  # thresholds are not state
    assert set(metric.state_dict()) == {"true_positives", "false_positives"}


@pytest.mark.parametrize("case", list(CASES))
def test_buffers_are_exactly_the_state(case: str) -> None:
    """Thresholds, class ids and label weights are constants, not buffers: code that sums or
    resets metric buffers (distributed training, reset_state) only ever touches state."""
    (make, _), kind = CASES[case]
    metric = make(metrics)
    y_true, y_pred = make_batch(kind, np.random.default_rng(0))
    metric.update_state(torch.as_tensor(y_true), torch.as_tensor(y_pred))
    assert [id(b) for b in metric.buffers()] == [id(v) for v in metric.variables]
    assert set(metric.state_dict()) == set(metric._initial_values)


@pytest.mark.parametrize(
    "make",
    [
        lambda: metrics.F1Score(average="weighted"),
        lambda: metrics.AUC(multi_label=True),
        lambda: metrics.R2Score(),
    ],
)
def test_state_built_during_evaluate_can_train_afterwards(make: Any) -> None:
    metric = make()
    y_true = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y_pred = torch.tensor([[0.8, 0.3], [0.1, 0.6], [0.7, 0.9]])
    with torch.inference_mode():
        metric.update_state(y_true, y_pred)
    metric.update_state(y_true, y_pred)  # outside inference mode: in-place update still allowed
    metric.reset_state()
    with torch.no_grad():
        metric.update_state(y_true, y_pred)
    assert torch.isfinite(torch.as_tensor(metric.result())).all()


def test_iou_state_is_integer_like_keras_and_warns_about_float_weights() -> None:
    metric = metrics.MeanIoU(num_classes=2)
    assert metric.total_cm.dtype == torch.int32 and metric.dtype == "int32"
    with pytest.warns(UserWarning, match="You are passing weight as `float`, but dtype is `int`"):
        metric.update_state(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([0.5, 2.0]))
    assert metric.total_cm.tolist() == [[0, 0], [0, 2]]  # 0.5 truncated to 0, as in Keras
    fractional = metrics.MeanIoU(num_classes=2, dtype="float32")
    fractional.update_state(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([0.5, 2.0]))
    assert fractional.total_cm.tolist() == [[0.5, 0.0], [0.0, 2.0]]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: metrics.AUC(num_thresholds=1), "`num_thresholds` must be an integer > 1"),
        (lambda: metrics.AUC(curve="ROCK"), 'Invalid AUC curve value: "ROCK"'),
        (lambda: metrics.AUC(summation_method="mid"), "Invalid AUC summation method"),
        (lambda: metrics.AUC(num_labels=3), "`num_labels` is needed only when `multi_label`"),
        (
            lambda: metrics.Precision(thresholds=[0.5, 1.5]),
            r"must be in \[0, 1\]. Received: \[1.5\]",
        ),
        (lambda: metrics.RecallAtPrecision(1.2), r"`precision` must be in the range \[0, 1\]"),
        (lambda: metrics.SensitivityAtSpecificity(0.5, num_thresholds=0), "num_thresholds"),
        (lambda: metrics.FBetaScore(beta=2), "It should be a Python float"),
        (lambda: metrics.F1Score(average="samples"), "Invalid `average` argument value"),
        (lambda: metrics.F1Score(threshold=1.5), "0 < threshold <= 1"),
        (
            lambda: metrics.IoU(num_classes=3, target_class_ids=[3]),
            r"out of range, which is \[0, 3\)",
        ),
        (lambda: metrics.R2Score(class_aggregation="median"), "`class_aggregation`"),
        (lambda: metrics.Mean(dtype="float17"), "Invalid metric dtype: 'float17'"),
    ],
)
def test_bad_arguments_are_rejected_with_keras_wording(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("metric", "y_true", "y_pred", "message"),
    [
        (
            metrics.F1Score(),
            torch.zeros(4),
            torch.zeros(4),
            r"expects 2D inputs.*y_pred.shape=\(4,\)",
        ),
        (
            metrics.R2Score(),
            torch.zeros(4, 2, 1),
            torch.zeros(4, 2, 1),
            "R2Score expects 2D inputs",
        ),
        (
            metrics.Precision(class_id=1),
            torch.zeros(4),
            torch.zeros(4),
            "When class_id is provided",
        ),
        (metrics.AUC(multi_label=True), torch.zeros(4), torch.zeros(4), "must have rank 2"),
        (
            metrics.TopKCategoricalAccuracy(),
            torch.eye(3),
            torch.eye(3),
            "k=5 for predictions with 3",
        ),
    ],
)
def test_bad_inputs_name_the_shapes(metric: Any, y_true: Any, y_pred: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        metric.update_state(y_true, y_pred)


def test_sum_adds_every_element_and_mean_weights_samples() -> None:
    total = metrics.Sum()
    total.update_state(
        torch.tensor([[1.0, 2.0], [3.0, 4.0]]), sample_weight=torch.tensor([1.0, 0.5])
    )
    assert float(total.result()) == 6.5
    mean = metrics.Mean()
    mean.update_state(
        torch.tensor([[1.0, 3.0], [5.0, 7.0]]), sample_weight=torch.tensor([1.0, 3.0])
    )
    assert float(mean.result()) == pytest.approx((2.0 + 3 * 6.0) / 4)


def test_custom_metric_subclass_trains_in_fit() -> None:
    class PositiveRate(kseq.metrics.Metric):
        def __init__(self, name: str = "positive_rate", **kwargs: Any) -> None:
            super().__init__(name=name, **kwargs)
            self.positives = self.add_variable((), "zeros", name="positives")
            self.seen = self.add_variable((), "zeros", name="seen")

        def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
            self.positives.add_((y_pred > 0.5).sum())
            self.seen.add_(y_pred.numel())

        def result(self) -> torch.Tensor:
            return self.positives / self.seen

    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3)).astype("float32")
    model = kseq.Sequential([kseq.Input(shape=(3,)), kseq.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", metrics=[PositiveRate()])
    result = model.evaluate(x, (x[:, :1] > 0).astype("float32"), verbose=0, return_dict=True)
    expected = float((model.predict(x, verbose=0) > 0.5).mean())
    assert result["positive_rate"] == pytest.approx(expected)


def test_registered_function_wrapper_round_trips() -> None:
    @kseq.saving.register_keras_serializable(package="tests")
    def doubled_error(y_true: Any, y_pred: Any) -> torch.Tensor:
        return 2 * (y_true - y_pred).abs().mean(dim=-1)

    wrapper = metrics.MeanMetricWrapper(doubled_error, name="doubled")
    restored = metrics.deserialize(metrics.serialize(wrapper))
    assert restored._fn is doubled_error and restored.name == "doubled"
    restored.update_state(torch.zeros(2, 1), torch.ones(2, 1))
    assert float(restored.result()) == 2.0


def test_metric_functions_resolve_by_name_for_wrapper_configs() -> None:
    config = {"name": "m", "dtype": "float32", "fn": "top_k_categorical_accuracy", "k": 1}
    metric = metrics.MeanMetricWrapper.from_config(config)
    assert float(metric(torch.eye(2), torch.tensor([[0.9, 0.1], [0.8, 0.2]]))) == 0.5


def test_variables_kept_under_another_name_follow_the_metric_when_it_moves() -> None:
    class WeightedCount(kseq.metrics.Metric):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.count = self.add_weight(name="seen", initializer="zeros")  # Keras habit

        def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
            self.count.add_(y_pred.shape[0])

        def result(self) -> torch.Tensor:
            return self.count.clone()

    metric = WeightedCount().to(torch.float64)
    metric.update_state(None, torch.zeros(3, dtype=torch.float64))
    assert metric.count is metric.seen and metric.seen.dtype == torch.float64
    assert float(metric.result()) == 3.0
    metric.reset_state()
    assert float(metric.seen) == 0.0


def test_nan_predictions_count_as_negative_at_every_threshold() -> None:
    y_true, y_pred = torch.tensor([1.0, 0.0, 1.0]), torch.tensor([float("nan"), 0.7, 0.9])
    for metric in (metrics.AUC(num_thresholds=5), metrics.Recall(thresholds=[0.1, 0.5])):
        metric.update_state(y_true, y_pred)  # no out-of-range histogram index
        assert float(metric.false_negatives[1]) == 1.0


def test_metrics_declare_their_direction_for_auto_mode_callbacks() -> None:
    import numpy as np

    import kseq

    assert kseq.metrics.get("auc")._direction == "up"
    assert kseq.metrics.get("mae")._direction == "down"
    assert kseq.metrics.MeanMetricWrapper(kseq.losses.mean_squared_error)._direction == "down"
    # EarlyStopping(monitor="val_accuracy") in the default mode maximizes, as in Keras.
    model = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    stop = kseq.callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    x, y = np.zeros((8, 2)), np.zeros(8)
    model.fit(x, y, epochs=2, validation_data=(x, y), callbacks=[stop], verbose=0)
    assert stop.monitor_op(1.0, 0.0)
