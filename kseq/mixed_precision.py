"""Dtype policies (``keras.mixed_precision``): which dtype weights are stored in and computed in.

``"mixed_float16"`` / ``"mixed_bfloat16"`` keep weights in float32 and run ``fit``/``evaluate``/
``predict`` under ``torch.autocast`` (plus a ``torch.amp.GradScaler`` for float16), which is how
PyTorch does mixed precision; Keras's own per-layer casting is not needed on torch.

``get`` resolves ``None`` (the global policy), a name, a ``torch.dtype``, a config dict or a
policy; ``serialize`` gives Keras's config form of a policy.

Example:
    >>> get(torch.float64).name, serialize(DTypePolicy("float32"))["config"]
    ('float64', {'name': 'float32'})
    >>> set_global_policy("mixed_bfloat16")
    >>> global_policy().compute_dtype, global_policy().variable_dtype
    ('bfloat16', 'float32')
    >>> set_global_policy("float32")
"""

from __future__ import annotations

from typing import Any

import torch

from kseq import config
from kseq.core.not_ported import missing as _missing
from kseq.registry.namespace import MODELS as _MODELS
from kseq.registry.namespace import Namespace as _Namespace

_VALID = ("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16")


class DTypePolicy:
    """A named dtype policy: ``"float32"``, ``"mixed_float16"``, ``"mixed_bfloat16"``, ...

    Example:
        >>> DTypePolicy("mixed_float16").compute_dtype
        'float16'
    """

    def __init__(self, name: str | None = None) -> None:
        name = name or config.floatx()
        if name not in _VALID:
            raise ValueError(
                f"Cannot convert {name!r} to a mixed precision DTypePolicy. Valid policies are {list(_VALID)}."
            )
        self.name = name

    @property
    def compute_dtype(self) -> str:
        return self.name.removeprefix("mixed_")

    @property
    def variable_dtype(self) -> str:
        return "float32" if self.name.startswith("mixed_") else self.name

    @property
    def is_mixed(self) -> bool:
        return self.name.startswith("mixed_")

    @property
    def torch_variable_dtype(self) -> torch.dtype:
        return getattr(torch, self.variable_dtype)

    @property
    def torch_compute_dtype(self) -> torch.dtype:
        return getattr(torch, self.compute_dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DTypePolicy:
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'


Policy = DTypePolicy
_GLOBAL_POLICY: DTypePolicy | None = None


class _DTypePolicies(_Namespace):
    """``get(None)`` is the global policy, a ``torch.dtype`` or a name gives its policy, and
    ``serialize`` writes Keras's ``{"module": "keras", "class_name": "DTypePolicy", ...}``.
    Configs name the class as ``keras.DTypePolicy``: its table is the ``keras`` module's."""

    def get(self, identifier: Any) -> DTypePolicy:
        """Resolve ``None`` (the global policy), a name, a ``torch.dtype``, a config dict or a policy."""
        if identifier is None:
            return global_policy()
        if isinstance(identifier, DTypePolicy):
            return identifier
        if isinstance(identifier, torch.dtype):
            return DTypePolicy(str(identifier).removeprefix("torch."))
        if isinstance(identifier, dict):
            return DTypePolicy(**identifier.get("config", identifier))
        return DTypePolicy(str(identifier))

    def serialize(self, policy: DTypePolicy) -> dict[str, Any]:
        """Keras's config form of a policy."""
        return {
            "module": "keras",
            "class_name": "DTypePolicy",
            "config": policy.get_config(),
            "registered_name": None,
        }


_POLICIES = _DTypePolicies("dtype policy", "dtype_policies", "keras", table=_MODELS.table)
_POLICIES.register(DTypePolicy)
get = _POLICIES.get
serialize = _POLICIES.serialize


def set_global_policy(policy: str | DTypePolicy | None) -> None:
    """Set the policy every new layer (and ``fit``) uses; ``None`` resets to ``floatx()``.

    Example:
        >>> set_global_policy("mixed_float16"); global_policy().name
        'mixed_float16'
        >>> set_global_policy(None)
    """
    global _GLOBAL_POLICY
    _GLOBAL_POLICY = None if policy is None else get(policy)


def global_policy() -> DTypePolicy:
    """The current global policy (``DTypePolicy(floatx())`` unless set).

    Example:
        >>> global_policy().name
        'float32'
    """
    return _GLOBAL_POLICY or DTypePolicy()


dtype_policy = global_policy  # Keras 3 names (``keras.config.dtype_policy`` is the same function)
set_dtype_policy = set_global_policy


def __getattr__(name: str) -> object:
    # A Keras name kseq does not have says why, and what to write instead (core/not_ported.py).
    raise _missing("kseq.mixed_precision", name)
