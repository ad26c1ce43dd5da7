"""``Model``: the Keras facade (compile / fit / evaluate / predict / summary / save) on an
``nn.Module``.

``Model`` is a :class:`~kseq.layers.Layer`, hence an ``nn.Module``; the training machinery is a
separate :class:`~kseq.training.trainer.Trainer` object that ``compile()`` creates (composition, not a
mixin hierarchy). Subclass it Keras-style (``__init__`` creating layers, ``call(inputs, training=None)``)
or use :class:`~kseq.models.Sequential`.

Placement: a model you moved yourself (``model.to("cuda")``) trains where you put it; otherwise
``fit``/``evaluate``/``predict`` move it to CUDA when available, as Keras does on its torch backend.

Example:
    >>> import torch, kseq
    >>> class TwoLayer(kseq.Model):
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.hidden = kseq.layers.Dense(8, activation="relu")
    ...         self.out = kseq.layers.Dense(1)
    ...     def call(self, inputs, training=None):
    ...         return self.out(self.hidden(inputs))
    >>> model = TwoLayer()
    >>> model.compile(optimizer="adam", loss="mse")
    >>> model.fit(torch.randn(16, 3), torch.randn(16, 1), epochs=1, verbose=0).epoch
    [0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from kseq import optimizers
from kseq.layers.layer import Layer
from kseq.layers.modes import modes_of, restore_modes
from kseq.models import model_files
from kseq.models.summary import print_summary
from kseq.registry.namespace import MODELS
from kseq.training import custom_step
from kseq.training.compile_args import CompileArgs
from kseq.training.data import batch_size_of
from kseq.training.objective import run_model_call
from kseq.training.options import FitOptions
from kseq.training.trainer import Trainer


class Model(Layer):
    """A trainable stack of layers with Keras's training API.

    Args:
        name: Model name (``"model"``-style auto-naming when omitted).
        trainable: Whether its weights are trained.

    ``Model(inputs, outputs)`` builds a functional model (``Functional``, found by registry name).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        # `Model(module)`: one plain nn.Module positional argument -> ModuleModel (module_model.py).
        one_module = len(args) == 1 and isinstance(args[0], torch.nn.Module)
        one_module = one_module and not isinstance(args[0], Layer)
        if cls is Model and one_module and not kwargs.keys() - {"name", "trainable"}:
            return super().__new__(MODELS.lookup("ModuleModel"))
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            functional = MODELS.lookup("Functional")
            return functional.__new__(functional)  # type: ignore[no-any-return]
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise NotImplementedError(
                f"{type(self).__name__}: a subclass of `Model` built from `inputs`/`outputs` is not "
                "supported by kseq. Write `kseq.Model(inputs, outputs)` for a functional model, or "
                "write `call(self, inputs, training=None)` in your subclass."
            )
        super().__init__(**kwargs)
        self._trainer: Trainer | None = None
        self.stop_training = False
        self.stop_evaluating = False
        self.stop_predicting = False
        self.history: Any = None
        self._placement: torch.device | None = None
        self._initial_epoch: int | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Any:
        """``Model.from_config`` of a functional config builds a functional model."""
        if cls is Model and "input_layers" in config:
            return MODELS.lookup("Functional").from_config(config, custom_objects)
        return super().from_config(config)

    # ---------------------------------------------------------------- placement
    def to(self, *args: Any, **kwargs: Any) -> Model:  # type: ignore[override]
        """``nn.Module.to``; an explicit device also pins where ``fit``/``predict`` run."""
        device, _, _, _ = torch._C._nn._parse_to(*args, **kwargs)
        if device is not None:
            self._placement = torch.device(device)
        return super().to(*args, **kwargs)

    def cuda(self, device: Any = None) -> Model:
        self._placement = torch.device(
            "cuda"
            if device is None
            else device
            if not isinstance(device, int)
            else f"cuda:{device}"
        )
        return super().cuda(device)

    def cpu(self) -> Model:
        self._placement = torch.device("cpu")
        return super().cpu()

    def _user_device(self) -> torch.device | None:
        """The device the user placed the model on (``None`` when they did not)."""
        if self._placement is None:
            return None
        tensor = next(iter(self.parameters()), None)
        return tensor.device if tensor is not None else self._placement

    def _place(self, device: torch.device) -> None:
        if any(t.device != device for t in self.parameters()) or any(
            t.device != device for t in self.buffers()
        ):
            super().to(device)

    # ------------------------------------------------------------------ build
    def _build_from_data_shape(self, input_shape: Any) -> None:
        """Build before training from the shape of the data (subclassed models: one forward pass)."""
        if isinstance(input_shape, tuple):
            with torch.no_grad():
                was_training = self.training
                self.eval()
                self(torch.zeros((1, *input_shape[1:])))
                self.train(was_training)
        self.built = True

    def _check_input_shape(self, input_shape: Any) -> None:
        """Raise a clear error when data does not fit the built model (Sequential checks features)."""

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not isinstance(input_shape, tuple):
            raise NotImplementedError(
                f"Model {self.name} cannot infer output shapes for nested inputs."
            )
        with torch.no_grad():
            was_training = self.training
            self.eval()
            device = next(iter(self.parameters()), torch.zeros(())).device
            out = self(torch.zeros((1, *input_shape[1:]), device=device))
            self.train(was_training)
        return (input_shape[0], *out.shape[1:])

    @property
    def layers(self) -> list[Layer]:
        """Direct sublayers, in creation order."""
        return self._sublayers()

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by ``index`` in ``layers``.

        Example:
            >>> import kseq
            >>> m = kseq.Sequential([kseq.layers.Dense(2, name="a")])
            >>> m.get_layer("a").name, m.get_layer(index=0).name
            ('a', 'a')
        """
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        if index is not None:
            layers = self.layers
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has {len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: Any = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Configure training: optimizer, loss and metrics (strings, objects or callables).

        ``jit_compile=True`` runs the step under ``torch.compile`` (``"auto"`` means eager, as in
        Keras on torch). ``run_eagerly`` is accepted for compatibility (torch is always eager).

        Example:
            >>> import kseq
            >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1, activation="sigmoid")])
            >>> m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"]); m.compiled
            True
        """
        self._trainer = Trainer(
            self,
            CompileArgs(
                optimizer=optimizer,
                loss=loss,
                loss_weights=loss_weights,
                metrics=metrics,
                weighted_metrics=weighted_metrics,
                run_eagerly=run_eagerly,
                steps_per_execution=steps_per_execution,
                jit_compile=jit_compile,
                auto_scale_loss=auto_scale_loss,
            ),
        )

    @property
    def compiled(self) -> bool:
        return self._trainer is not None

    def _require_compiled(self) -> Trainer:
        if self._trainer is None:
            raise ValueError("You must call `compile()` before using the model.")
        return self._trainer

    @property
    def optimizer(self) -> Any:
        return self._trainer.optimizer if self._trainer is not None else None

    @optimizer.setter
    def optimizer(self, value: Any) -> None:
        self._require_compiled().optimizer = optimizers.get(value)

    @property
    def loss(self) -> Any:
        return self._trainer.loss if self._trainer is not None else None

    @property
    def metrics(self) -> list[Any]:
        """``[loss tracker, *compiled metrics]`` (after the first fit/evaluate resolves them)."""
        return self._trainer.metrics if self._trainer is not None else []

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        if self._trainer is not None:
            self._trainer.reset_metrics()

    def get_metrics_result(self) -> dict[str, float]:
        """Current metric values as Python floats."""
        return self._require_compiled().logs()

    # ------------------------------------------------- overridable steps
    # Keras's "Customizing what happens in fit()": override these in a subclass and `fit`/
    # `evaluate`/`predict` call them once per batch (training/custom_step.py). The defaults run
    # the fused step, so `super().train_step(data)` works too.
    @custom_step.default_step
    def train_step(self, data: Any) -> dict[str, Any]:
        """One training step on a batch packed as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``;
        returns the metric results. Override it to customize ``fit`` (Keras's torch guide).

        Example:
            >>> import torch, kseq
            >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> sorted(m.train_step((torch.ones(4, 2), torch.zeros(4, 1))))
            ['loss']
        """
        x, y, sample_weight = custom_step.unpack_data(data)
        self._require_compiled().ready_steps(x, y, training=True).train_step(x, y, sample_weight)
        return custom_step.metrics_results(self.metrics)

    @custom_step.default_step
    def test_step(self, data: Any) -> dict[str, Any]:
        """One evaluation step on a packed batch; returns the metric results. Override it to
        customize ``evaluate``.

        Example:
            >>> import torch, kseq
            >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
            >>> m.compile(loss="mse")
            >>> sorted(m.test_step((torch.ones(4, 2), torch.zeros(4, 1))))
            ['loss']
        """
        x, y, sample_weight = custom_step.unpack_data(data)
        steps = self._require_compiled().ready_steps(x, y, training=False)
        with torch.no_grad():
            steps.test_step(x, y, sample_weight)
        return custom_step.metrics_results(self.metrics)

    @custom_step.default_step
    def predict_step(self, data: Any) -> Any:
        """The model's output for one packed batch. Override it to customize ``predict``.

        Example:
            >>> import torch, kseq
            >>> m = kseq.Sequential([kseq.Input(shape=(2,)), kseq.layers.Dense(1)])
            >>> m.predict_step(torch.ones(3, 2)).shape
            torch.Size([3, 1])
        """
        x, _, _ = custom_step.unpack_data(data)
        return self(x)

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> torch.Tensor:
        """The compiled loss of ``(y, y_pred)`` plus the model's losses (``add_loss``,
        regularization), as Keras's ``Model.compute_loss``.

        Example:
            >>> import torch, kseq
            >>> m = kseq.Sequential([kseq.Input(shape=(1,)), kseq.layers.Dense(1)])
            >>> m.compile(loss="mae")
            >>> float(m.compute_loss(y=torch.zeros(2, 1), y_pred=torch.ones(2, 1)))
            1.0
        """
        return self._require_compiled().compute_loss(y, y_pred, sample_weight)

    def compute_metrics(
        self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
    ) -> dict[str, Any]:
        """Update the compiled metrics with ``(y, y_pred)`` and return every metric's result (the
        loss tracker is updated by the step itself), as Keras's ``Model.compute_metrics``.

        Example:
            >>> import torch, kseq
            >>> m = kseq.Sequential([kseq.Input(shape=(1,)), kseq.layers.Dense(1)])
            >>> m.compile(loss="mse", metrics=["mae"])
            >>> _ = m.evaluate(torch.zeros(2, 1), torch.zeros(2, 1), verbose=0)
            >>> m.reset_metrics(); float(m.compute_metrics(None, torch.zeros(2, 1), torch.ones(2, 1))["mae"])
            1.0
        """
        self._require_compiled().compute_metrics(y, y_pred, sample_weight)
        return custom_step.metrics_results(self.metrics)

    # -------------------------------------------------------------- training
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: Any = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int | Sequence[int] = 1,
    ) -> Any:
        """Train for ``epochs`` epochs; returns a ``History`` (Keras's arguments and defaults).

        Data may be NumPy arrays, torch tensors, lists or pandas objects (moved to the device once),
        or a DataLoader / Dataset / ``PyDataset`` / generator yielding ``(x, y[, sample_weight])``.
        """
        options = FitOptions(
            x=x,
            y=y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            class_weight=class_weight,
            sample_weight=sample_weight,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
            validation_batch_size=validation_batch_size,
            validation_freq=validation_freq,
        )
        return self._require_compiled().fit(options)

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """Loss and metrics on the data: a scalar (loss only), a list ordered like ``metrics_names``,
        or a dict with ``return_dict=True``."""
        return self._require_compiled().evaluate(
            x, y=y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight,
            steps=steps, callbacks=callbacks, return_dict=return_dict,
        )  # fmt: skip

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
    ) -> np.ndarray:
        """Outputs for ``x`` as NumPy, computed in batches in inference mode (no compile needed)."""
        return self._trainer_for_predict().predict(
            x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks
        )

    def _trainer_for_predict(self) -> Trainer:
        return self._trainer if self._trainer is not None else Trainer(self)

    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: Any = None,
        return_dict: bool = False,
    ) -> Any:
        """One training step on one batch; returns the (running) metrics."""
        return self._require_compiled().train_on_batch(
            x, y=y, sample_weight=sample_weight, class_weight=class_weight, return_dict=return_dict
        )

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """Loss and metrics on one batch."""
        return self._require_compiled().test_on_batch(
            x, y=y, sample_weight=sample_weight, return_dict=return_dict
        )

    def predict_on_batch(self, x: Any) -> np.ndarray:
        """Outputs for one batch as NumPy."""
        return self._trainer_for_predict().predict(x, batch_size=batch_size_of(x), verbose=0)

    # -------------------------------------------------------------- summary
    def summary(
        self,
        line_length: int | None = None,
        positions: Sequence[float] | None = None,
        print_fn: Callable[..., Any] | None = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Sequence[str] | None = None,
    ) -> None:
        """Print Keras 3's summary table (same layout, numbers and wording)."""
        print_summary(
            self, line_length, positions, print_fn, expand_nested, show_trainable, layer_range
        )

    # --------------------------------------------------------------- files
    # The Keras file face (thin wrappers over kseq.saving) lives in model_files.py.
    save = model_files.save
    save_weights = model_files.save_weights
    load_weights = model_files.load_weights
    to_json = model_files.to_json
    get_compile_config = model_files.get_compile_config
    compile_from_config = model_files.compile_from_config
    build_from_config = model_files.build_from_config

    # -------------------------------------------------------------- forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return run_model_call(self._forward_in_mode, *args, **kwargs)

    def _forward_in_mode(self, *args: Any, **kwargs: Any) -> Any:
        """``Layer.forward`` with ``training=`` applied for the call (restored after)."""
        training = kwargs.get("training")
        if training is None:
            return super().forward(*args, **kwargs)
        was = modes_of(self)
        try:
            self.train(bool(training))
            return super().forward(*args, **kwargs)
        finally:
            restore_modes(self, was)


MODELS.register(Model)  # configs find it by name (layers.deserialize, load_model)
