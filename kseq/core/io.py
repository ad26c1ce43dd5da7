"""Where kseq's user-facing text goes: ``sys.stdout`` (or Python logging when interactive logging
is disabled, as ``keras.utils.disable_interactive_logging`` does).

Example:
    >>> print_msg("hello")
    hello
"""

from __future__ import annotations

import logging
import sys

_INTERACTIVE = True
_LOGGER = logging.getLogger("kseq")


def print_msg(message: str, line_break: bool = True) -> None:
    """Write ``message`` to stdout and flush (or log it when interactive logging is off).

    Example:
        >>> print_msg("x", line_break=False); print()
        x
    """
    if _INTERACTIVE:
        stream = sys.stdout
        text = message + "\n" if line_break else message
        try:
            stream.write(text)
        except UnicodeEncodeError:
            # Terminals that cannot encode the progress bar's box character get '=' instead.
            stream.write(text.replace("━", "=").encode("ascii", "replace").decode("ascii"))
        stream.flush()
    else:
        _LOGGER.info(message)


def enable_interactive_logging() -> None:
    """Print to stdout (the default).

    Example:
        >>> enable_interactive_logging(); is_interactive_logging_enabled()
        True
    """
    global _INTERACTIVE
    _INTERACTIVE = True


def disable_interactive_logging() -> None:
    """Send progress bars and summaries to the ``kseq`` logger instead of stdout.

    Example:
        >>> disable_interactive_logging(); is_interactive_logging_enabled()
        False
        >>> enable_interactive_logging()
    """
    global _INTERACTIVE
    _INTERACTIVE = False


def is_interactive_logging_enabled() -> bool:
    """Whether output goes to stdout.

    Example:
        >>> is_interactive_logging_enabled()
        True
    """
    return _INTERACTIVE
