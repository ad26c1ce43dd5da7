"""The Keras ops kseq does not implement, and the torch function to call instead.

``kseq.ops.<name>`` for a Keras op name that is not implemented raises ``NotImplementedError``
naming the torch function (looked up in ``torch``, ``torch.linalg``, ``torch.special``,
``torch.fft`` and ``torch.nn.functional``, or given below where the names differ), instead of an
``AttributeError`` that would suggest a typo.

Example:
    >>> print(torch_equivalent("qr"))
    torch.linalg.qr
"""

from __future__ import annotations

import torch

__all__ = ["KERAS_OP_NAMES", "torch_equivalent", "unsupported_op"]

# Every callable in ``keras.ops`` (Keras 3.15).
KERAS_OP_NAMES = frozenset(
    """
    abs absolute adaptive_average_pool adaptive_max_pool add all allclose amax amin angle any
    append arange arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin argpartition
    argsort array array_split associative_scan average average_pool bartlett batch_normalization
    binary_crossentropy bincount bitwise_and bitwise_invert bitwise_left_shift bitwise_not
    bitwise_or bitwise_right_shift bitwise_xor blackman broadcast_to cast categorical_crossentropy
    cbrt cdist ceil celu cholesky cholesky_inverse clip concatenate cond conj conjugate conv
    conv_transpose convert_to_numpy convert_to_tensor copy corrcoef correlate cos cosh
    count_nonzero cross ctc_decode ctc_loss cumprod cumsum custom_gradient deg2rad depth_to_space
    depthwise_conv det diag diagflat diagonal diff digitize divide divide_no_nan dot
    dot_product_attention dsplit dstack dtype eig eigh einsum elu empty empty_like equal erf erfc
    erfinv exp exp2 expand_dims expm1 extract_sequences eye fabs fft fft2 flip fliplr flipud floor
    floor_divide fmax fmin fmod fold fori_loop full full_like gcd gelu geomspace get_item glu
    greater greater_equal hamming hanning hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh
    heaviside histogram hsplit hstack hypot i0 identity ifft2 imag in_top_k inner inv irfft
    is_tensor isclose isfinite isin isinf isnan isneginf isposinf isreal istft jvp kaiser kron
    layer_normalization lcm ldexp leaky_relu left_shift less less_equal linspace log log10 log1p
    log2 log_sigmoid log_softmax logaddexp logaddexp2 logdet logical_and logical_not logical_or
    logical_xor logspace logsumexp lstsq lu_factor map matmul matrix_rank max max_pool maximum
    mean median meshgrid min minimum mod moments moveaxis multi_hot multiply nan_to_num nanargmax
    nanargmin nancumprod nancumsum nanmax nanmean nanmedian nanmin nanpercentile nanprod
    nanquantile nanstd nansum nanvar ndim negative nextafter nonzero norm normalize not_equal
    one_hot ones ones_like outer pad percentile pinv polar power prod psnr ptp qr quantile
    rad2deg ravel real rearrange reciprocal relu relu6 repeat reshape rfft right_shift
    rms_normalization roll rot90 round rsqrt saturate_cast scan scatter scatter_update
    searchsorted segment_max segment_min segment_prod segment_sum select selu separable_conv shape
    sigmoid sign signbit silu sin sinc sinh size slice slice_update slogdet soft_shrink softmax
    softplus softsign solve solve_triangular sort space_to_depth sparse_categorical_crossentropy
    sparse_plus sparse_sigmoid sparsemax split sqrt square squareplus squeeze stack std stft
    stop_gradient subtract sum svd swapaxes swish switch take take_along_axis tan tanh
    tanh_shrink tensordot threshold tile top_k trace transpose trapezoid tri tril triu true_divide
    trunc unfold unique unravel_index unstack vander var vdot vectorize vectorized_map view
    view_as_complex view_as_real vsplit vstack where while_loop zeros zeros_like
    """.split()  # noqa: SIM905 (a word list reads better than 337 quoted strings)
)

# Where the torch name differs from the Keras one (or the search below would pick the wrong one).
_EXPLICIT = {
    "adaptive_average_pool": "torch.nn.functional.adaptive_avg_pool2d (on an NCHW view)",
    "adaptive_max_pool": "torch.nn.functional.adaptive_max_pool2d (on an NCHW view)",
    "argpartition": "torch.topk",
    "array_split": "torch.tensor_split",
    "associative_scan": "torch.cumsum / torch.cumprod (or a Python loop)",
    "average": "torch.sum(x * w) / torch.sum(w)",
    "bartlett": "torch.signal.windows.bartlett",
    "batch_normalization": "torch.nn.functional.batch_norm",
    "bitwise_invert": "torch.bitwise_not",
    "blackman": "torch.signal.windows.blackman",
    "cbrt": "torch.sign(x) * torch.abs(x) ** (1 / 3)",
    "cholesky_inverse": "torch.cholesky_inverse",
    "conv_transpose": "torch.nn.functional.conv_transpose2d (on an NCHW view)",
    "copy": "torch.clone",
    "corrcoef": "torch.corrcoef",
    "correlate": "torch.nn.functional.conv1d",
    "cross": "torch.linalg.cross",
    "ctc_decode": "torchaudio.models.decoder (or a greedy argmax)",
    "custom_gradient": "torch.autograd.Function",
    "depth_to_space": "torch.nn.functional.pixel_shuffle (on an NCHW view)",
    "depthwise_conv": "torch.nn.functional.conv2d(..., groups=in_channels)",
    "det": "torch.linalg.det",
    "eig": "torch.linalg.eig",
    "eigh": "torch.linalg.eigh",
    "extract_sequences": "torch.Tensor.unfold",
    "fabs": "torch.abs",
    "fold": "torch.nn.functional.fold",
    "get_item": "indexing: x[...]",
    "hanning": "torch.signal.windows.hann",
    "hamming": "torch.signal.windows.hamming",
    "histogram": "torch.histogram",
    "ifft2": "torch.fft.ifft2",
    "inv": "torch.linalg.inv",
    "istft": "torch.istft",
    "jvp": "torch.func.jvp",
    "kaiser": "torch.signal.windows.kaiser",
    "layer_normalization": "torch.nn.functional.layer_norm",
    "left_shift": "torch.bitwise_left_shift",
    "lstsq": "torch.linalg.lstsq",
    "lu_factor": "torch.linalg.lu_factor",
    "map": "torch.vmap (or a Python loop)",
    "matrix_rank": "torch.linalg.matrix_rank",
    "nanargmax": "torch.argmax(torch.nan_to_num(x, nan=-inf))",
    "nanargmin": "torch.argmin(torch.nan_to_num(x, nan=inf))",
    "nanpercentile": "torch.nanquantile",
    "percentile": "torch.quantile",
    "pinv": "torch.linalg.pinv",
    "psnr": "10 * torch.log10(max_val ** 2 / torch.mean((x1 - x2) ** 2))",
    "ptp": "torch.amax(x) - torch.amin(x)",
    "qr": "torch.linalg.qr",
    "rearrange": "torch.permute / torch.reshape (or einops.rearrange)",
    "right_shift": "torch.bitwise_right_shift",
    "rms_normalization": "torch.nn.functional.rms_norm",
    "rot90": "torch.rot90",
    "saturate_cast": "torch.clamp(x, lo, hi).to(dtype)",
    "scan": "a Python loop",
    "segment_max": "torch.Tensor.scatter_reduce(reduce='amax')",
    "segment_min": "torch.Tensor.scatter_reduce(reduce='amin')",
    "segment_prod": "torch.Tensor.scatter_reduce(reduce='prod')",
    "segment_sum": "torch.Tensor.index_add",
    "select": "torch.where (nested)",
    "separable_conv": "torch.nn.functional.conv2d twice (depthwise, then 1x1)",
    "solve": "torch.linalg.solve",
    "solve_triangular": "torch.linalg.solve_triangular",
    "space_to_depth": "torch.nn.functional.pixel_unshuffle (on an NCHW view)",
    "sparse_plus": "kseq.activations.sparse_plus",
    "sparse_sigmoid": "kseq.activations.sparse_sigmoid",
    "sparsemax": "kseq.activations.sparsemax",
    "squareplus": "kseq.activations.squareplus",
    "svd": "torch.linalg.svd",
    "switch": "a Python list of functions indexed by int(index)",
    "trapezoid": "torch.trapezoid",
    "unfold": "torch.nn.functional.unfold",
    "vectorize": "torch.vmap",
    "vectorized_map": "torch.vmap",
    "view": "torch.Tensor.view(dtype)",
}
_NAMESPACES = (
    ("torch", torch),
    ("torch.linalg", torch.linalg),
    ("torch.special", torch.special),
    ("torch.fft", torch.fft),
    ("torch.nn.functional", torch.nn.functional),
)


def torch_equivalent(name: str) -> str:
    """What to call in torch instead of the Keras op ``name``.

    Example:
        >>> torch_equivalent("kron"), torch_equivalent("fft")
        ('torch.kron', 'torch.fft.fft')
    """
    if name in _EXPLICIT:
        return _EXPLICIT[name]
    for prefix, namespace in _NAMESPACES:
        if callable(getattr(namespace, name, None)):
            return f"{prefix}.{name}"
    return f"the torch operation matching keras.ops.{name}"


def unsupported_op(name: str) -> NotImplementedError:
    """The error ``kseq.ops.<name>`` raises for a Keras op kseq does not implement.

    Example:
        >>> str(unsupported_op("svd"))
        '`keras.ops.svd` is not implemented by kseq.ops. kseq runs on PyTorch: call torch.linalg.svd on the tensors instead.'
    """
    return NotImplementedError(
        f"`keras.ops.{name}` is not implemented by kseq.ops. kseq runs on PyTorch: call "
        f"{torch_equivalent(name)} on the tensors instead."
    )
