"""``fit``'s arguments in one validated object, and the checks ``evaluate``/``predict`` share.

``Model.fit`` builds one :class:`FitOptions` from its keyword arguments; the checks run there, in
Keras's order, before any data is touched, and the loops read the checked values.

Example:
    >>> import numpy as np
    >>> options = FitOptions(x=np.zeros((4, 2)), y=np.zeros(4), verbose="auto")
    >>> options.batch_size, options.epochs
    (32, 1)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from kseq.training import distributed
from kseq.training.checks import check_epochs


@dataclasses.dataclass
class FitOptions:
    """``Model.fit``'s arguments (same names and defaults as Keras), checked on creation.

    ``batch_size`` becomes an int (32 when omitted; ``given_batch_size`` keeps the argument as
    passed) and ``verbose`` 0, 1 or 2 (0 off rank 0).
    """

    x: Any = None
    y: Any = None
    batch_size: int | None = None
    epochs: int = 1
    verbose: Any = "auto"
    callbacks: Sequence[Any] | None = None
    validation_split: float = 0.0
    validation_data: Any = None
    shuffle: Any = True
    class_weight: dict[int, float] | None = None
    sample_weight: Any = None
    initial_epoch: int = 0
    steps_per_epoch: int | None = None
    validation_steps: int | None = None
    validation_batch_size: int | None = None
    validation_freq: int | Sequence[int] = 1
    given_batch_size: int | None = dataclasses.field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.x is None:
            raise ValueError("fit() needs training data: pass `x` (and `y`).")
        split = self.validation_split
        if not isinstance(split, (int, float)) or not 0.0 <= split < 1.0:
            raise ValueError(
                f"`validation_split` must be a float in [0, 1): the fraction of the data held out for "
                f"validation. Received: validation_split={split!r}"
            )
        check_epochs(self.epochs)
        self.given_batch_size = self.batch_size  # None when omitted (a DataLoader batches itself)
        self.batch_size = check_batch_size(self.batch_size)
        self.verbose = check_verbose(self.verbose)

    def validates(self, epoch: int) -> bool:
        """Whether ``epoch`` (0-based) ends with validation (``validation_freq``).

        Example:
            >>> import numpy as np
            >>> o = FitOptions(x=np.zeros(1), validation_freq=2)
            >>> o.validates(0), o.validates(1)
            (False, True)
        """
        freq = self.validation_freq
        if isinstance(freq, int):
            return (epoch + 1) % freq == 0
        return (epoch + 1) in freq


def check_batch_size(batch_size: Any) -> int:
    """``batch_size`` as an int (32 when ``None``); a clear error for anything else.

    Example:
        >>> check_batch_size(None), check_batch_size(8)
        (32, 8)
    """
    if batch_size is None:
        return 32
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size <= 0
    ):
        raise ValueError(
            f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}"
        )
    return int(batch_size)


def check_verbose(verbose: Any) -> int:
    """``verbose`` as 0, 1 or 2 (``"auto"`` is 1; always 0 off rank 0 under DDP).

    Example:
        >>> check_verbose("auto"), check_verbose(2)
        (1, 2)
    """
    if not distributed.is_main_process():
        return 0  # under DDP only rank 0 prints
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return int(verbose)
