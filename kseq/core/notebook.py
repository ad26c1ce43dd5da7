"""``in_notebook``: whether kseq runs inside a Jupyter kernel (where ``fit``/``predict`` show a
``tqdm`` bar instead of Keras's text bar, which a notebook renders badly).

Example:
    >>> in_notebook()
    False
"""

from __future__ import annotations

import sys

__all__ = ["in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter notebook: ``ipykernel`` is loaded and IPython's shell is the ZMQ one
    (a plain ``ipython`` terminal or a script is not a notebook).

    Example:
        >>> in_notebook()  # a doctest is not a notebook
        False
    """
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
