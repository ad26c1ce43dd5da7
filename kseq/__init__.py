"""kseq: Keras's Sequential model API on plain PyTorch.

``import kseq as keras`` and Keras Sequential code runs unchanged: ``compile``/``fit``/``evaluate``/
``predict``, Keras layers, losses, metrics, optimizers and callbacks, Keras's printed output, and
Keras weight layouts; every layer and model is a ``torch.nn.Module``.

Example:
    >>> import numpy as np
    >>> import kseq as keras
    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    >>> sorted(model.fit(np.zeros((8, 4)), np.zeros(8), verbose=0).history)
    ['accuracy', 'loss']
"""

from kseq import activations as activations
from kseq import backend as backend
from kseq import callbacks as callbacks
from kseq import config as config
from kseq import constraints as constraints
from kseq import initializers as initializers
from kseq import layers as layers
from kseq import losses as losses
from kseq import metrics as metrics
from kseq import mixed_precision as mixed_precision
from kseq import models as models
from kseq import ops as ops
from kseq import optimizers as optimizers
from kseq import preprocessing as preprocessing
from kseq import random as random
from kseq import regularizers as regularizers
from kseq import saving as saving
from kseq import utils as utils
from kseq.core.not_ported import missing as _missing
from kseq.initializers import Initializer as Initializer
from kseq.layers import Input as Input
from kseq.layers import InputLayer as InputLayer
from kseq.layers import InputSpec as InputSpec
from kseq.layers import Layer as Layer
from kseq.layers.node import KerasTensor as KerasTensor
from kseq.losses import Loss as Loss
from kseq.metrics import Metric as Metric
from kseq.mixed_precision import DTypePolicy as DTypePolicy
from kseq.models import Model as Model
from kseq.models import Sequential as Sequential
from kseq.optimizers import Optimizer as Optimizer
from kseq.regularizers import Regularizer as Regularizer
from kseq.variables import Variable as Variable

__version__ = "0.1.0"
version = __version__


def __getattr__(name: str) -> object:
    # A Keras name kseq does not have says why, and what to write instead (core/not_ported.py).
    raise _missing("kseq", name)
