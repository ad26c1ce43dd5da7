"""Byte-for-byte comparison of kseq's summary table renderer with rich itself."""

from __future__ import annotations

import doctest
import io
import random

import pytest

from kseq.models import summary_table
from kseq.models.summary_table import column_widths, render_table

rich_console = pytest.importorskip("rich.console")
rich_markup = pytest.importorskip("rich.markup")
rich_table = pytest.importorskip("rich.table")

SEQ_HEADERS = ["Layer (type)", "Output Shape", "Param #"]
SEQ_POSITIONS = [0.45, 0.80, 1.0]
SEQ_JUSTIFY = ["left", "left", "right"]
TRAIN_HEADERS = [*SEQ_HEADERS, "Trainable"]
TRAIN_POSITIONS = [p * 0.9 for p in SEQ_POSITIONS] + [1.0]
TRAIN_JUSTIFY = [*SEQ_JUSTIFY, "center"]


def rich_render(headers, rows, widths, justify, table_width, console_width=80):
    """What Keras's summary code prints through rich (cells escaped like Keras does)."""
    columns = [
        rich_table.Column(rich_markup.escape(h), justify=j, width=w)
        for h, j, w in zip(headers, justify, widths, strict=True)
    ]
    table = rich_table.Table(*columns, width=table_width, show_lines=True)
    for row in rows:
        table.add_row(*(rich_markup.escape(cell) for cell in row))
    console = rich_console.Console(
        highlight=False,
        force_terminal=False,
        color_system=None,
        width=console_width,
        file=io.StringIO(),
    )
    console.begin_capture()
    console.print(table)
    return console.end_capture()


def check(headers, rows, widths, justify, table_width, console_width=80):
    expected = rich_render(headers, rows, widths, justify, table_width, console_width)
    got = render_table(headers, rows, widths, justify, table_width, console_width)
    assert got == expected, f"\n--- rich ---\n{expected}--- kseq ---\n{got}"
    return got


def check_keras(rows, line_length, trainable=False, console_width=80):
    if trainable:
        headers, positions, justify = TRAIN_HEADERS, TRAIN_POSITIONS, TRAIN_JUSTIFY
    else:
        headers, positions, justify = SEQ_HEADERS, SEQ_POSITIONS, SEQ_JUSTIFY
    widths = column_widths(positions, line_length)
    return check(headers, rows, widths, justify, line_length, console_width)


KERAS_EXAMPLE = """\
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 64)             │           704 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 1)              │            65 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
"""


def test_keras_example():
    rows = [["dense (Dense)", "(None, 64)", "704"], ["dense_1 (Dense)", "(None, 1)", "65"]]
    assert check_keras(rows, 76) == KERAS_EXAMPLE


def test_column_widths_keras_numbers():
    assert column_widths(SEQ_POSITIONS, 76) == [34, 26, 16]
    assert column_widths(SEQ_POSITIONS, 88) == [39, 31, 18]
    assert column_widths(TRAIN_POSITIONS, 88) == [35, 28, 16, 9]


def test_column_widths_too_narrow():
    with pytest.raises(ValueError, match=r"Insufficient console width to print summary\."):
        column_widths(SEQ_POSITIONS, 12)
    with pytest.raises(ValueError, match="Insufficient console width"):
        column_widths([0.5, 0.52, 1.0], 100)


CONV_ROWS = [
    ["conv2d (Conv2D)", "(None, 28, 28, 32)", "320"],
    ["max_pooling2d (MaxPooling2D)", "(None, 14, 14, 32)", "0"],
    ["flatten (Flatten)", "(None, 6272)", "0"],
    ["dense (Dense)", "(None, 128)", "802,944"],
    ["dense_1 (Dense)", "(None, 10)", "1,290"],
]


@pytest.mark.parametrize("line_length", [76, 88, 100])
def test_show_trainable_four_columns(line_length):
    rows = [[*row, "Y" if i % 2 else "N"] for i, row in enumerate(CONV_ROWS)]
    check_keras(rows, line_length, trainable=True, console_width=max(80, line_length + 4))


@pytest.mark.parametrize("line_length", [40, 60, 76, 88])
def test_shapes_and_thousands_separators(line_length):
    rows = [*CONV_ROWS, ["big (Dense)", "(None, 1024, 1024)", "1,234,567,890"]]
    check_keras(rows, line_length, console_width=100)


@pytest.mark.parametrize("line_length", [40, 76])
def test_long_names_wrap(line_length):
    rows = [
        ["a_rather_long_layer_name (Dense)", "(None, 64)", "704"],
        ["block1 conv layer number one with many words (Conv2D)", "(None, 28, 28, 32)", "320"],
        ["x " * 30 + "(Dense)", "(None, 1)", "65"],
        ["name_with_underscores_that_is_long (BatchNormalization)", "(None, 1, 2, 3, 4)", "12"],
    ]
    out = check_keras(rows, line_length)
    assert len(out.splitlines()) > 4 + 2 * len(rows)  # some cells span 2-3 lines


def test_word_longer_than_cell_gets_ellipsis():
    rows = [
        ["supercalifragilisticexpialidocious_layer_name_that_never_ends (Dense)", "(None, 1)", "1"]
    ]
    out = check_keras(rows, 40)
    assert "…" in out


def test_empty_table():
    out = check_keras([], 76)
    assert out.splitlines()[-1].startswith("└") and len(out.splitlines()) == 4


def test_empty_and_short_rows():
    check_keras([["", "", ""], ["only name"]], 76)


@pytest.mark.parametrize("console_width", [10, 40, 60, 75, 76, 77])
def test_console_narrower_than_table(console_width):
    rows = [["dense (Dense)", "(None, 64)", "704"], ["dense_1 (Dense)", "(None, 1)", "65"]]
    check_keras(rows, 76, console_width=console_width)
    check_keras(rows, 100, trainable=True, console_width=console_width)


@pytest.mark.parametrize("justify", ["left", "center", "right"])
def test_whitespace_newlines_tabs_and_brackets(justify):
    rows = [
        ["  leading and   inner   spaces   ", "trailing     ", "  "],
        ["line one\nline two\n", "a\tb\tc", "[None, 3] and [bold]x[/bold]"],
        ["\tx\tyy", "bell\x07 and cr\r", "tab\t" * 5],
    ]
    check(["h1", "h 2", "header\nthree"], rows, [8, 6, 5], [justify] * 3, 30)


def test_wide_characters():
    rows = [
        ["层名称 (Dense)", "(None, 64)", "704"],
        ["東京都の非常に長いレイヤー名前です (Conv2D)", "形状", "1,000"],
        ["café naïve Ωμέγα Привет ╳", "漢字漢字漢字漢字漢字漢字漢字漢字", "数"],
        ["e\u0301 combining", "ｆｕｌｌｗｉｄｔｈ", "한국어 텍스트"],
    ]
    for line_length in (30, 41, 76):
        check_keras(rows, line_length)
        for console_width in (21, 22, 45):
            check_keras(rows, line_length, console_width=console_width)


def test_console_crop_is_per_segment():
    # rich crops segment by segment: a combining mark opening a cell is dropped at the edge.
    rows = [["\u0301lead", "x\u0301y 漢字", "\u0330"], ["a", "漢", "b"]]
    for console_width in range(1, 36):
        check(SEQ_HEADERS, rows, [6, 7, 8], SEQ_JUSTIFY, 30, console_width)


def test_table_wider_or_narrower_than_columns():
    rows = [["abc def", "x", "12"]]
    check(SEQ_HEADERS, rows, [4, 4, 4], SEQ_JUSTIFY, 60)
    check(SEQ_HEADERS, rows, [30, 30, 30], SEQ_JUSTIFY, 20)
    check(SEQ_HEADERS, rows, [1, 1, 1], SEQ_JUSTIFY, 4)
    check(["one"], [["abc def"]], [10], ["center"], 8)


def test_bad_arguments():
    with pytest.raises(ValueError):
        render_table(["a", "b"], [], [4], ["left", "left"], 20)
    with pytest.raises(ValueError):
        render_table(["a"], [["x", "y"]], [4], ["left"], 20)
    with pytest.raises(ValueError):
        render_table(["a"], [], [4], ["middle"], 20)


def test_doctests():
    result = doctest.testmod(summary_table)
    assert result.attempted >= 2 and result.failed == 0


WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_(),.#-"
WIDE_CHARS = "漢字東京한국éΩ"


def random_text(rng: random.Random, wide: bool) -> str:
    words = []
    for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 8])):
        chars = WORD_CHARS + (WIDE_CHARS if wide else "")
        words.append("".join(rng.choice(chars) for _ in range(rng.choice([1, 2, 4, 7, 12, 25]))))
    text = "".join(word + " " * rng.choice([1, 1, 1, 2, 3]) for word in words)
    if rng.random() < 0.3:
        text = text.rstrip()
    if rng.random() < 0.1:
        text = " " * rng.randint(1, 4) + text
    if rng.random() < 0.05:
        text = text.replace(" ", "\n", 1)
    return text


@pytest.mark.parametrize("seed", range(400))
def test_random_sweep(seed):
    rng = random.Random(seed)
    wide = seed % 4 == 3
    ncols = rng.randint(1, 5)
    if seed % 2:
        line_length = rng.randint(10 * ncols, 120)
        positions = [*sorted(rng.uniform(0.1, 1.0) for _ in range(ncols - 1)), 1.0]
        try:
            widths = column_widths(positions, line_length)
        except ValueError:
            widths = column_widths([(i + 1) / ncols for i in range(ncols)], line_length)
    else:
        widths = [rng.randint(1, 30) for _ in range(ncols)]
        line_length = rng.randint(ncols + 2, sum(widths) + 3 * ncols + 10)
    justify = [rng.choice(["left", "center", "right"]) for _ in range(ncols)]
    headers = [random_text(rng, wide) or "h" for _ in range(ncols)]
    rows = [[random_text(rng, wide) for _ in range(ncols)] for _ in range(rng.randint(0, 4))]
    console_width = rng.choice([80, 80, line_length, rng.randint(5, 130)])
    check(headers, rows, widths, justify, line_length, console_width)
