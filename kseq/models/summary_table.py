"""Stdlib-only renderer of the table Keras 3's ``model.summary()`` prints through rich.

Keras prints a ``rich.table.Table`` (HEAVY_HEAD box, ``show_lines=True``, fixed-width columns,
``width=line_length``) on a no-colour console. This module owns a character-for-character
reproduction of rich 15.0's output: column widths padded by 1 cell each side, then reduced
evenly (``ratio_reduce``) or grown (``ratio_distribute``) to fill the table width; cell text
split on newlines, tabs expanded to 8, control codes stripped, word wrapped, words too long
for a cell cut with "…" (a Column's default overflow, "ellipsis"), justified left / center /
right, aligned to the top (header cells to the bottom); lines wider than the console cropped.

Texts are plain (rich markup and ``:emoji:`` codes are not interpreted; Keras escapes names).
Cell widths follow rich's ``cell_len`` via :mod:`unicodedata`: ASCII, Latin, Greek, Cyrillic,
box drawing, combining marks and East Asian wide/fullwidth (CJK, Hangul) characters match;
emoji joined by ZWJ / VS16 and code points newer than Python's Unicode data may not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from math import ceil

__all__ = ["column_widths", "render_table"]

_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")
_STRIP_CONTROL = dict.fromkeys((7, 8, 11, 12, 13))  # rich.control.STRIP_CONTROL_CODES


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    code = ord(char)
    if code < 32 or 0x7F <= code < 0xA0 or 0x1160 <= code < 0x1200 or 0xD7B0 <= code < 0xD800:
        return 0
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Mc") or (category == "Cf" and code != 0xAD):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _cell_len(text: str) -> int:
    return len(text) if text.isascii() and text.isprintable() else sum(map(_char_width, text))


def _set_cell_size(text: str, total: int) -> str:
    """Crop or pad ``text`` to ``total`` cells; a wide character cut in half becomes a space."""
    if total <= 0:
        return ""
    used = 0
    for index, char in enumerate(text):
        width = _char_width(char)
        if used + width > total:
            return text[:index] + " " * (total - used)
        used += width
    return text + " " * (total - used)


def _ratio_reduce(total: int, values: list[int]) -> list[int]:
    """Rich's ``ratio_reduce(total, [1] * len(values), values, values)``."""
    total_ratio = sum(1 for value in values if value)
    result = []
    for value in values:
        distributed = min(value, round(total / total_ratio)) if value and total_ratio > 0 else 0
        result.append(value - distributed)
        total, total_ratio = total - distributed, total_ratio - bool(value)
    return result


def _ratio_distribute(total: int, ratios: list[int]) -> list[int]:
    """Rich's ``ratio_distribute(total, ratios)``."""
    total_ratio, result = sum(ratios), []
    for ratio in ratios:
        result.append(ceil(ratio * total / total_ratio) if total_ratio > 0 else total)
        total, total_ratio = total - result[-1], total_ratio - ratio
    return result


def _layout(widths: Sequence[int], table_width: int) -> list[int]:
    """Rich's ``Table._calculate_column_widths`` for fixed-width, padded, expanded columns."""
    max_width = table_width - (len(widths) + 1)

    def measure(width: int, limit: int) -> int:
        return 0 if limit < 1 else min(width + 2, limit)

    result = [measure(width, max_width) or 1 for width in widths]
    total = sum(result)
    if total > max_width:
        result = _ratio_reduce(total - max_width, result)
        total = sum(result)
        result = [measure(width, limit) for width, limit in zip(widths, result, strict=True)]
    if total < max_width:
        result = [
            a + b for a, b in zip(result, _ratio_distribute(max_width - total, result), strict=True)
        ]
    return result


def _truncate(line: str, width: int) -> str:
    return _set_cell_size(line, width - 1) + "…" if _cell_len(line) > width else line


def _wrap(text: str, width: int, justify: str) -> list[str]:
    """Rich's ``Text.wrap`` with overflow "ellipsis"; every returned line is ``width`` cells."""
    lines = []
    for line in text.translate(_STRIP_CONTROL).split("\n"):
        if "\t" in line:
            *parts, last = line.split("\t")
            line = ""
            for part in parts:
                line += part + " "
                line += " " * (-_cell_len(line) % 8)
            line += last
        breaks, offset = [], 0
        for match in _WORD.finditer(line):
            start, word = match.start(), match.group()
            word_length = _cell_len(word.rstrip())
            if width - offset >= word_length:
                offset += _cell_len(word)
            elif word_length > width or (offset and start):
                breaks += [start] if start else []
                offset = _cell_len(word)
        bounds = [0, *breaks, len(line)]
        for begin, end in pairwise(bounds):
            piece = line[begin:end]
            if len(piece) > width and (space := _TRAILING_SPACE.search(piece)):
                piece = piece[: len(piece) - min(len(space.group()), len(piece) - width)]
            if justify in ("center", "right"):
                piece = _truncate(piece.rstrip(), width)
                left = width - _cell_len(piece)
                piece = " " * (left // 2 if justify == "center" else left) + piece
                piece += " " * (width - _cell_len(piece))
            lines.append(_set_cell_size(_truncate(piece, width), width))  # left: pad right
    return lines


def _cell(text: str, width: int, justify: str) -> list[list[str]]:
    """Segments of each line of a padded cell (rich's ``Padding(text, (0, 1))``)."""
    if width - 2 < 1:
        return []
    return [[" ", line, " "] for line in _wrap(text, width - 2, justify)]


def _crop(segments: list[str], width: int) -> str:
    """Rich's ``Segment.adjust_line_length(pad=False)``: crop a line segment by segment."""
    if sum(map(_cell_len, segments)) <= width:
        return "".join(segments)
    kept, used = "", 0
    for segment in segments:
        size = _cell_len(segment)
        if used + size >= width:
            return kept + _set_cell_size(segment, width - used)
        kept, used = kept + segment, used + size
    return kept


def column_widths(positions: Sequence[float], line_length: int) -> list[int]:
    """Keras's column width computation for ``model.summary()``.

    Args:
        positions: Right edge of each column as a fraction of ``line_length`` (or absolute).
        line_length: Total width of the summary table.

    Returns:
        The width of each column, in cells.

    Raises:
        ValueError: If a column would be narrower than 4 cells.

    >>> column_widths([0.45, 0.80, 1.0], 76)
    [34, 26, 16]
    """
    widths: list[int] = []
    current = 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    return widths


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[int],
    justify: Sequence[str],
    table_width: int,
    console_width: int = 80,
) -> str:
    """Render the text rich prints for Keras's summary table.

    Equivalent to printing ``Table(*(Column(h, justify=j, width=w) ...), width=table_width,
    show_lines=True)`` on a no-colour ``rich.console.Console(width=console_width)``.

    Args:
        headers: Column titles (plain text).
        rows: Table rows of plain-text cells; short rows are padded with empty cells.
        widths: Requested width of each column (rich's ``Column.width``).
        justify: "left", "center" or "right" for each column.
        table_width: Total table width (rich's ``Table.width``).
        console_width: Console width; longer lines are cropped to it.

    Returns:
        The printed lines joined with "\\n", ending in "\\n".

    Raises:
        ValueError: If the argument lengths disagree or a justify value is unknown.

    >>> print(render_table(["a", "b"], [["x", "1"]], [4, 4], ["left", "right"], 13), end="")
    ┏━━━━━┳━━━━━┓
    ┃ a   ┃   b ┃
    ┡━━━━━╇━━━━━┩
    │ x   │   1 │
    └─────┴─────┘
    """
    if not len(headers) == len(widths) == len(justify) >= max(map(len, rows), default=0):
        raise ValueError("headers, widths and justify must match, and rows be no longer.")
    if not set(justify) <= {"left", "center", "right", "default"}:
        raise ValueError(f"Unknown justify value in {list(justify)!r}.")
    if not headers:
        return "\n"
    sizes = _layout(widths, table_width)

    def rule(left: str, fill: str, cross: str, right: str) -> list[str]:
        return [left + cross.join(fill * size for size in sizes) + right]

    lines = [rule("┏", "━", "┳", "┓")]
    all_rows = [list(headers), *([*row, *[""] * (len(headers) - len(row))] for row in rows)]
    for index, row in enumerate(all_rows):
        cells = [
            _cell(text, size, how) for text, size, how in zip(row, sizes, justify, strict=True)
        ]
        height = max(1, *map(len, cells))
        bar = "┃" if index == 0 else "│"
        for cell, size in zip(cells, sizes, strict=True):
            blank = [[" " * size]] * (height - len(cell))
            cell[:] = blank + cell if index == 0 else cell + blank
        lines += [[bar, *(s for cell in cells for s in [*cell[i], bar])] for i in range(height)]
        if index == 0:
            lines.append(rule("┡", "━", "╇", "┩"))
        elif index < len(all_rows) - 1:
            lines.append(rule("├", "─", "┼", "┤"))
    lines.append(rule("└", "─", "┴", "┘"))
    return "".join(_crop(line, console_width) + "\n" for line in lines)
