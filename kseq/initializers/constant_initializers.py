"""Deterministic initializers: ``Constant``, ``Zeros``, ``Ones``, ``Identity`` and ``STFT`` (conv
kernels computing a short-time Fourier transform), as in Keras's ``constant_initializers``.

Example:
    >>> Constant(3.0)((2,)), Zeros()((1,))
    (tensor([3., 3.]), tensor([0.]))
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import Tensor

from kseq.initializers.base import Initializer, ShapeLike, float_dtype


class Constant(Initializer):
    """Fill with a constant ``value``.

    Example:
        >>> Constant(3.0)((2,))
        tensor([3., 3.])
    """

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        return torch.full(tuple(shape), float(self.value), dtype=float_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Zeros(Initializer):
    """Fill with zeros.

    Example:
        >>> Zeros()((2,))
        tensor([0., 0.])
    """

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        return torch.zeros(tuple(shape), dtype=float_dtype(dtype))


class Ones(Initializer):
    """Fill with ones.

    Example:
        >>> Ones()((2,))
        tensor([1., 1.])
    """

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        return torch.ones(tuple(shape), dtype=float_dtype(dtype))


class Identity(Initializer):
    """``gain * eye`` for a 2D shape.

    Example:
        >>> Identity()((2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={tuple(shape)} of rank {len(shape)}."
            )
        return self.gain * torch.eye(*shape, dtype=float_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


class STFT(Initializer):
    """Conv kernels computing a short-time Fourier transform (real or imaginary part).

    ``window`` is a torch window name (``"hann"``, ``"hamming"``, ``"blackman"``, ``"bartlett"``),
    a 1-D array, or ``None``. Shape is ``(frame_length, 1, fft_length // 2 + 1)``.

    Example:
        >>> STFT("real", "hann")((16, 1, 9)).shape
        torch.Size([16, 1, 9])
    """

    _WINDOWS: ClassVar[dict[str, Any]] = {"hann": torch.hann_window, "hamming": torch.hamming_window,
                "blackman": torch.blackman_window, "bartlett": torch.bartlett_window}  # fmt: skip

    def __init__(
        self,
        side: str = "real",
        window: Any = "hann",
        scaling: str | None = "density",
        periodic: bool = False,
    ) -> None:
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str) and window not in self._WINDOWS:
            raise ValueError(
                f"Unknown window {window!r}; kseq supports {sorted(self._WINDOWS)} or an array."
            )
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling}"
            )
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape: ShapeLike, dtype: Any = None) -> Tensor:
        frame_length, _, fft_length = shape
        dt = float_dtype(dtype)
        freq = torch.arange(fft_length, dtype=torch.float64).reshape(1, 1, -1) / (
            (fft_length - 1) * 2
        )
        time = torch.arange(frame_length, dtype=torch.float64).reshape(-1, 1, 1)
        args = -2 * time * freq * math.pi
        kernel = torch.cos(args) if self.side == "real" else torch.sin(args)
        if self.window is not None:
            if isinstance(self.window, str):
                win = self._WINDOWS[self.window](
                    frame_length, periodic=self.periodic, dtype=torch.float64
                )
            else:
                win = torch.as_tensor(self.window, dtype=torch.float64)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    f"The shape of `window` must be equal to [frame_length]. Received: window shape={tuple(win.shape)}"
                )
            win = win.reshape(-1, 1, 1)
            scale = {"density": win.square().sum().sqrt(), "spectrum": win.abs().sum(), None: 1.0}[
                self.scaling
            ]
            kernel = kernel * win / scale
        return kernel.to(dt)

    def get_config(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "window": self.window,
            "periodic": self.periodic,
            "scaling": self.scaling,
        }
