"""``import kseq as keras``: every public Keras 3 namespace has the names Keras exports, except an
explicit, documented list of what kseq deliberately does not have (each with its reason).

For each namespace, the names Keras 3 exports minus kseq's must be exactly the allow-list below:
a name that kseq gains leaves the list (the test says so), a name Keras adds must be ported or
listed. Where both have a name, it is the same kind of object (a class where Keras has a class),
and Keras's aliases are aliases in kseq too (``initializers.zeros is initializers.Zeros``).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

import kseq
from kseq.core.not_ported import NOT_PORTED

pytestmark = pytest.mark.keras

OP = "not ported: kseq.ops.<name> raises NotImplementedError naming the torch function to use"

# Every Keras name kseq does not have, with its reason: kseq's own table (an AttributeError for one
# of these names carries the reason, see kseq/core/not_ported.py); ops have their own mechanism.
ALLOWED: dict[str, dict[str, str]] = {
    namespace.removeprefix("kseq").removeprefix("."): names
    for namespace, names in NOT_PORTED.items()
}
ALLOWED["ops"] = {
    **dict.fromkeys(
        """
            adaptive_average_pool adaptive_max_pool allclose angle append argpartition array_split
            associative_scan average bartlett batch_normalization bincount bitwise_and
            bitwise_invert bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift
            bitwise_xor blackman cbrt cdist celu cholesky cholesky_inverse conj conjugate
            conv_transpose copy corrcoef correlate cross ctc_decode ctc_loss custom_gradient
            deg2rad depth_to_space depthwise_conv det diagflat diff digitize dot_product_attention
            dsplit dstack eig eigh empty_like erfc erfinv extract_sequences fabs fft fft2 fliplr
            flipud fmax fmin fmod fold gcd geomspace get_item glu hamming hanning hard_shrink
            hard_tanh heaviside histogram hsplit hstack hypot i0 ifft2 imag inv irfft isclose isin
            isneginf isposinf isreal istft jvp kaiser kron layer_normalization lcm ldexp
            left_shift logaddexp2 logdet logspace lstsq lu_factor map matrix_rank meshgrid
            nanargmax nanargmin nancumprod nancumsum nanmax nanmean nanmedian nanmin nanpercentile
            nanprod nanquantile nanstd nansum nanvar nextafter nonzero percentile pinv polar psnr
            ptp qr quantile rad2deg real rearrange rfft right_shift rms_normalization rot90
            saturate_cast scan searchsorted segment_max segment_min segment_prod segment_sum
            select separable_conv signbit sinc slogdet soft_shrink solve solve_triangular
            space_to_depth sparse_plus sparse_sigmoid sparsemax squareplus stft svd switch
            tanh_shrink threshold trapezoid unfold unique unravel_index vander vdot vectorize
            vectorized_map view view_as_complex view_as_real vsplit vstack
            """.split(),  # noqa: SIM905 (a word list reads better)
        OP,
    ),
    "image": "not ported: the keras.ops.image submodule",
    "numpy": "not ported: the keras.ops.numpy submodule (its ops are in kseq.ops)",
}
# The op-level submodules list the same ops as kseq.ops (same reason).
ALLOWED["ops.nn"] = {
    name: OP
    for name in """
        adaptive_average_pool adaptive_max_pool batch_normalization celu conv_transpose ctc_decode
        ctc_loss depth_to_space depthwise_conv dot_product_attention fold glu hard_shrink hard_tanh
        layer_normalization polar psnr rms_normalization separable_conv soft_shrink space_to_depth
        sparse_plus sparse_sigmoid sparsemax squareplus tanh_shrink threshold unfold
    """.split()  # noqa: SIM905
}
ALLOWED["ops.linalg"] = {
    name: OP
    for name in """
        cholesky cholesky_inverse det eig eigh inv jvp lstsq lu_factor matrix_rank pinv qr solve
        solve_triangular svd
    """.split()  # noqa: SIM905
}

NAMESPACES = [
    "", "activations", "initializers", "regularizers", "constraints", "losses", "metrics",
    "optimizers", "optimizers.schedules", "callbacks", "layers", "models", "utils", "ops", "ops.nn",
    "ops.linalg", "random", "backend", "saving", "mixed_precision", "config", "preprocessing",
    "preprocessing.image", "preprocessing.sequence",
]  # fmt: skip


def _modules(keras: Any, namespace: str) -> tuple[Any, Any]:
    suffix = f".{namespace}" if namespace else ""
    return importlib.import_module(f"keras{suffix}"), importlib.import_module(f"kseq{suffix}")


def _public(module: Any) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_")}


def _has(module: Any, name: str) -> bool:
    try:
        getattr(module, name)
    except (AttributeError, NotImplementedError):
        return False
    return True


@pytest.mark.parametrize("namespace", NAMESPACES, ids=lambda n: n or "keras")
def test_kseq_has_every_name_keras_exports(namespace: str, keras: Any) -> None:
    theirs, ours = _modules(keras, namespace)
    allowed = ALLOWED.get(namespace, {})
    absent = {name for name in _public(theirs) if not _has(ours, name)}
    still_missing = sorted(absent - set(allowed))
    assert still_missing == [], f"keras.{namespace}: missing in kseq: {still_missing}"
    stale = sorted(set(allowed) - absent)
    assert stale == [], f"kseq.{namespace} has these now; drop them from ALLOWED: {stale}"
    assert all(reason.strip() for reason in allowed.values())


@pytest.mark.parametrize("namespace", NAMESPACES, ids=lambda n: n or "keras")
def test_shared_names_are_the_same_kind_and_aliases_stay_aliases(
    namespace: str, keras: Any
) -> None:
    theirs, ours = _modules(keras, namespace)
    shared = sorted(n for n in _public(theirs) if _has(ours, n))
    kinds = [
        name
        for name in shared
        if inspect.isclass(getattr(theirs, name)) != inspect.isclass(getattr(ours, name))
        or inspect.ismodule(getattr(theirs, name)) != inspect.ismodule(getattr(ours, name))
    ]
    assert kinds == [], f"keras.{namespace}: class in one library, not in the other: {kinds}"
    broken = [
        (a, b)
        for i, a in enumerate(shared)
        for b in shared[i + 1 :]
        if getattr(theirs, a) is getattr(theirs, b)
        and not inspect.ismodule(getattr(theirs, a))
        and getattr(ours, a) is not getattr(ours, b)
    ]
    assert broken == [], f"keras.{namespace}: Keras aliases that are distinct in kseq: {broken}"


def test_unported_ops_say_what_to_use_instead(keras: Any) -> None:
    for name, reason in ALLOWED["ops"].items():
        if reason == OP:
            with pytest.raises(NotImplementedError, match=name):
                getattr(kseq.ops, name)


def test_unported_names_say_why_and_what_to_write_instead() -> None:
    """Keras code reaching a name kseq lacks gets the reason, not a bare AttributeError."""
    for namespace, names in NOT_PORTED.items():
        module = importlib.import_module(namespace)
        for name, reason in names.items():
            with pytest.raises(AttributeError) as caught:
                getattr(module, name)
            assert str(caught.value) == (
                f"module '{namespace}' has no attribute '{name}': {reason}"
            ), namespace
            assert not hasattr(module, name)  # hasattr/getattr(default) still see it missing
    assert getattr(kseq.layers, "NotAKerasName", None) is None
    with pytest.raises(AttributeError, match=r"^module 'kseq.utils' has no attribute 'nope'$"):
        kseq.utils.nope  # noqa: B018


def test_the_lower_case_aliases_work_as_keras_uses_them(keras: Any) -> None:
    assert kseq.initializers.zeros is kseq.initializers.Zeros
    assert kseq.initializers.glorot_uniform(seed=1)((2, 2)).shape == (2, 2)
    assert kseq.constraints.max_norm(2.0).max_value == 2.0
    assert kseq.activations.swish is kseq.activations.silu
    dense = kseq.layers.Dense(
        2,
        kernel_initializer=kseq.initializers.constant(0.5),
        kernel_constraint=kseq.constraints.non_neg(),
    )
    dense.build((None, 3))
    assert float(dense.kernel.detach().min()) == 0.5
    assert kseq.utils.unpack_x_y_sample_weight(keras.utils.pack_x_y_sample_weight(1, 2)) == (
        1, 2, None,
    )  # fmt: skip
    assert kseq.utils.pack_x_y_sample_weight([1], None, 3) == keras.utils.pack_x_y_sample_weight(
        [1], None, 3
    )
    with kseq.utils.CustomObjectScope({"twice": abs}) as scope:
        assert kseq.saving.get_registered_object("twice") is abs and scope.custom_objects
