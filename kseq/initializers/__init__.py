"""Keras weight initializers, producing tensors in Keras layout (Dense kernel ``(in, out)``).

Layers call an initializer with the *Keras* shape of a weight and copy the result into their torch
parameter (transposing where torch's layout differs), so a seeded Keras initializer gives the same
statistics here. ``seed=None`` draws from torch's global RNG (``kseq.utils.set_random_seed`` makes it
reproducible); an integer ``seed`` gives the same values on every call, as in Keras.

The classes live in :mod:`~kseq.initializers.base` (the contract and fan arithmetic),
:mod:`~kseq.initializers.constant_initializers` and :mod:`~kseq.initializers.random_initializers`;
this package owns their name table. ``get`` resolves a name (``"glorot_uniform"``, ``"Zeros"``), a
config dict, an instance, an ``Initializer`` class or a callable; ``serialize`` gives Keras's config
dict and ``deserialize`` is its inverse.

Example:
    >>> w = get("glorot_uniform")((64, 32))
    >>> tuple(w.shape), bool(w.abs().max() <= (6 / 96) ** 0.5)
    ((64, 32), True)
    >>> type(get("he_normal")).__name__, type(get({"class_name": "Constant", "config": {"value": 2}})).__name__
    ('HeNormal', 'Constant')
    >>> serialize(Constant(2.0))
    {'module': 'keras.initializers', 'class_name': 'Constant', 'config': {'value': 2.0}, 'registered_name': None}
    >>> type(deserialize({"class_name": "Zeros", "config": {}})).__name__
    'Zeros'
"""

from __future__ import annotations

from kseq.core.naming import to_snake_case as to_snake_case
from kseq.initializers.base import Initializer as Initializer
from kseq.initializers.base import compute_fans as compute_fans
from kseq.initializers.constant_initializers import STFT as STFT
from kseq.initializers.constant_initializers import Constant as Constant
from kseq.initializers.constant_initializers import Identity as Identity
from kseq.initializers.constant_initializers import Ones as Ones
from kseq.initializers.constant_initializers import Zeros as Zeros
from kseq.initializers.random_initializers import GlorotNormal as GlorotNormal
from kseq.initializers.random_initializers import GlorotUniform as GlorotUniform
from kseq.initializers.random_initializers import HeNormal as HeNormal
from kseq.initializers.random_initializers import HeUniform as HeUniform
from kseq.initializers.random_initializers import LecunNormal as LecunNormal
from kseq.initializers.random_initializers import LecunUniform as LecunUniform
from kseq.initializers.random_initializers import Orthogonal as Orthogonal
from kseq.initializers.random_initializers import RandomInitializer as RandomInitializer
from kseq.initializers.random_initializers import RandomNormal as RandomNormal
from kseq.initializers.random_initializers import RandomUniform as RandomUniform
from kseq.initializers.random_initializers import TruncatedNormal as TruncatedNormal
from kseq.initializers.random_initializers import VarianceScaling as VarianceScaling
from kseq.registry.namespace import Namespace as _Namespace

# Importable from here as before (kseq's public API snapshot lists them).
from kseq.registry.serialization import deserialize_keras_object as deserialize_keras_object
from kseq.registry.serialization import resolve_class as resolve_class
from kseq.registry.serialization import serialize_keras_object as serialize_keras_object

_INITIALIZERS = _Namespace(
    "initializer", "initializers", "keras.initializers", base=Initializer, deserialize_none=True
)
_INITIALIZERS.register(
    Constant, Zeros, Ones, Identity, RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling,
    GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal, STFT,
    snake_case=True,
)  # fmt: skip
_INITIALIZERS.register(aliases={
    "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal, "STFTInitializer": STFT,
    "normal": RandomNormal, "uniform": RandomUniform, "one": Ones, "zero": Zeros,
})  # fmt: skip
_ALL = _INITIALIZERS.table

# Keras's other exported names: the classes themselves (``keras.initializers.zeros is Zeros``).
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT
constant, zeros, ones, identity, stft = Constant, Zeros, Ones, Identity, STFT
random_normal, truncated_normal, random_uniform = RandomNormal, TruncatedNormal, RandomUniform
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal, he_normal, he_uniform = (
    GlorotUniform,
    GlorotNormal,
    HeNormal,
    HeUniform,
)
lecun_normal, lecun_uniform = LecunNormal, LecunUniform

get = _INITIALIZERS.get
serialize = _INITIALIZERS.serialize
deserialize = _INITIALIZERS.deserialize
