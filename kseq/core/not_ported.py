"""The Keras names kseq does not have, each with its reason and what to write instead.

``import kseq as keras`` runs Keras code unchanged where kseq has the name. Where it does not, the
public namespaces' ``__getattr__`` raises :func:`missing` instead of a bare ``AttributeError``, so
``keras.utils.plot_model(...)`` says why and what to use. ``tests/test_keras_namespaces.py`` checks
this table against Keras 3's exports: every Keras name is in kseq or here, and nothing here exists
in kseq.

Example:
    >>> str(missing("kseq.utils", "get_file")).split(":")[0]
    "module 'kseq.utils' has no attribute 'get_file'"
    >>> str(missing("kseq.layers", "NoSuchLayer"))
    "module 'kseq.layers' has no attribute 'NoSuchLayer'"
"""

from __future__ import annotations

__all__ = ["NOT_PORTED", "missing"]

_TORCH_ONLY = "kseq runs on torch only; Keras's multi-backend machinery has no counterpart"
_JAX = "JAX-only"
_TF = "TensorFlow-only (SavedModel / TF runtime)"
_LEGACY = "Keras 2's legacy API; use the Keras 3 name"
_STRINGS = (
    "string/lookup preprocessing is not ported; encode text to integer ids before the model "
    "(e.g. a vocabulary dict, or `tokenizers`), then use `Embedding`"
)
_AUGMENT = (
    "this image augmentation layer is not ported; kseq has RandomFlip, RandomRotation, "
    "RandomZoom, RandomTranslation, RandomCrop, RandomContrast and RandomBrightness, or use "
    "torchvision.transforms.v2 in your Dataset"
)
_CAPS = "global caps on the training loop are not ported; pass epochs= / steps_per_epoch= to fit"
_CELLS = (
    "Python RNN cells are not ported: kseq's recurrent layers run torch's fused kernels; use "
    "LSTM / GRU / SimpleRNN (return_sequences, return_state, stateful) instead of RNN(cell)"
)
_ADAPTIVE = "adaptive pooling is not ported; wrap torch.nn.AdaptiveAvgPool2d/AdaptiveMaxPool2d"
_WRAP_TORCH = (
    "not ported; a torch module does it: wrap it in your model (kseq.layers.TorchModuleWrapper)"
)
_QUANT = "quantization is not ported; use torch.ao.quantization on the model (it is an nn.Module)"
_REMAT = "rematerialization is not ported; use torch.utils.checkpoint in a custom layer's call"

NOT_PORTED: dict[str, dict[str, str]] = {
    "kseq": {
        "FloatDTypePolicy": "a deprecated subclass; use kseq.DTypePolicy",
        "Function": "Keras's symbolic Function is internal; build a kseq.Model(inputs, outputs)",
        "Operation": "Keras ops are functions in kseq.ops, not Operation objects",
        "Quantizer": _QUANT,
        "RematScope": _REMAT,
        "StatelessScope": _TORCH_ONLY,
        "SymbolicScope": "Keras's symbolic scope is internal; build a kseq.Model(inputs, outputs)",
        "applications": "the pretrained model zoo is not ported (it downloads weights); "
        "use torchvision.models or timm in a kseq.layers.TorchModuleWrapper",
        "datasets": "dataset downloads are not ported; use torchvision.datasets or "
        "sklearn.datasets and pass the arrays to fit",
        "device": _TORCH_ONLY + "; use torch.device and model.to(device)",
        "distillation": "knowledge-distillation models are not ported; write the two-model loss "
        "in a custom train_step",
        "distribution": "the JAX-style distribution API is not ported; kseq trains with DDP under "
        "torchrun",
        "dtype_policies": "not a namespace in kseq; use kseq.mixed_precision (DTypePolicy, "
        "set_global_policy)",
        "export": _TF + "; use torch.export.export(model, (example,)) or model.export()",
        "legacy": _LEGACY,
        "name_scope": _TORCH_ONLY,
        "quantizers": _QUANT,
        "remat": _REMAT,
        "src": "Keras's private source package; import the public name from kseq instead",
        "tree": "Keras's nested-structure utilities are not ported; use torch.utils._pytree",
        "visualization": "bounding-box plotting is not ported",
        "wrappers": "the scikit-learn wrappers are not ported",
    },
    "kseq.optimizers": {
        "LossScaleOptimizer": "mixed_float16 fit scales the loss with torch's GradScaler by itself",
        "MultiOptimizer": "one optimizer per model; set per-layer learning rates with torch.optim "
        "parameter groups",
        "OptimizerMap": "one optimizer per model",
        "Muon": "not ported; pass a torch.optim optimizer's Keras twin (Adam, AdamW, SGD...)",
        "ScheduleFreeAdamW": "not ported; use AdamW with a learning-rate schedule",
        "legacy": _LEGACY,
    },
    "kseq.callbacks": {
        "OrbaxCheckpoint": _JAX + " (Orbax); use ModelCheckpoint or BackupAndRestore",
        "RemoteMonitor": "not ported; write a Callback whose on_epoch_end posts the logs",
    },
    "kseq.layers": {
        "GroupQueryAttention": "not ported yet; use MultiHeadAttention (num_heads key/value "
        "heads) or torch.nn.functional.scaled_dot_product_attention in a custom layer",
        **dict.fromkeys(
            [
                "CategoryEncoding", "Discretization", "HashedCrossing", "Hashing",
                "IntegerLookup", "StringLookup", "TextVectorization",
            ],
            _STRINGS,
        ),
        **dict.fromkeys(
            [
                "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix",
                "Equalization", "MaxNumBoundingBoxes", "MixUp", "RandAugment",
                "RandomColorDegeneration", "RandomColorJitter", "RandomElasticTransform",
                "RandomErasing", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
                "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomSaturation",
                "RandomSharpness", "RandomShear", "Solarization", "Pipeline",
            ],
            _AUGMENT,
        ),
        **dict.fromkeys(
            [
                "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
                "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
            ],
            _ADAPTIVE,
        ),
        **dict.fromkeys(["RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"], _CELLS),
        "ReversibleEmbedding": "not ported; tie weights with an Embedding and "
        "ops.matmul(x, embedding.embeddings.T)",
        "MelSpectrogram": "audio preprocessing is not ported; use torchaudio.transforms",
        "STFTSpectrogram": "audio preprocessing is not ported; use torch.stft",
        "SpectralNormalization": "not ported; torch.nn.utils.parametrizations.spectral_norm on a "
        "torch module does it",
        "Wrapper": "the wrapper base class is not ported (Bidirectional and TimeDistributed are); "
        "subclass Layer and hold the inner layer as an attribute",
        "FlaxLayer": _JAX,
        "JaxLayer": _JAX,
        "TFSMLayer": _TF,
    },
    "kseq.utils": {
        "Config": "Keras's attribute-dict config object is not ported; use a dict",
        "FeatureSpace": _STRINGS,
        "bounding_boxes": "bounding-box utilities are not ported",
        "legacy": _LEGACY,
        "get_file": "downloads are not ported (kseq never downloads); fetch the file yourself, "
        "e.g. with urllib.request.urlretrieve",
        "model_to_dot": "pydot model graphs are not ported; use model.summary()",
        "plot_model": "pydot model graphs are not ported; use model.summary() (it shows the "
        "'Connected to' column for functional models)",
        "audio_dataset_from_directory": "not ported; use torchaudio with a torch Dataset, which "
        "fit takes directly",
    },
    "kseq.saving": {
        "KerasFileEditor": "interactive .keras file editing is not ported; load_model, edit the "
        "model, and save it again",
    },
    "kseq.mixed_precision": {
        "LossScaleOptimizer": "mixed_float16 fit scales the loss with torch's GradScaler by itself",
    },
    "kseq.config": {
        "dtype_policy": "use kseq.mixed_precision.dtype_policy()",
        "set_dtype_policy": "use kseq.mixed_precision.set_dtype_policy(policy)",
        **dict.fromkeys(
            ["disable_flash_attention", "enable_flash_attention", "is_flash_attention_enabled"],
            "no global flash-attention switch; pass MultiHeadAttention(flash_attention=True)",
        ),
        **dict.fromkeys(
            [
                "disable_traceback_filtering", "enable_traceback_filtering",
                "is_traceback_filtering_enabled",
            ],
            "kseq does not filter tracebacks: they are always complete",
        ),
        "is_nnx_enabled": _JAX + " (Flax NNX)",
        "set_backend": _TORCH_ONLY,
        **dict.fromkeys(
            ["max_epochs", "set_max_epochs", "max_steps_per_epoch", "set_max_steps_per_epoch"],
            _CAPS,
        ),
    },
}  # fmt: skip


def missing(namespace: str, name: str) -> AttributeError:
    """The ``AttributeError`` for ``namespace.name``: with kseq's reason and what to write instead
    when ``name`` is a Keras name kseq does not have, else Python's usual message.

    Example:
        >>> print(missing("kseq.layers", "StringLookup"))  # doctest: +ELLIPSIS
        module 'kseq.layers' has no attribute 'StringLookup': string/lookup preprocessing is not ...
    """
    message = f"module '{namespace}' has no attribute '{name}'"
    reason = NOT_PORTED.get(namespace, {}).get(name)
    return AttributeError(f"{message}: {reason}" if reason else message)
