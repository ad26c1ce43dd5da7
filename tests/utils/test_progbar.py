"""kseq.utils.Progbar prints what keras.utils.Progbar prints, for the same clock."""

from __future__ import annotations

import contextlib
import io
import itertools

import pytest

from kseq.utils import Progbar


class FakeClock:
    def __init__(self, step: float) -> None:
        self._ticks = itertools.count()
        self.step = step

    def __call__(self) -> float:
        return 1000.0 + next(self._ticks) * self.step


def run(
    progbar_cls, clock_module, monkeypatch, *, target, verbose, updates, step=0.013, **kwargs
) -> str:
    monkeypatch.setattr(clock_module.time, "time", FakeClock(step))
    bar = progbar_cls(target, verbose=verbose, **kwargs)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for current, values, finalize in updates:
            bar.update(current, values, finalize=finalize)
    return out.getvalue()


SCENARIOS = [
    {
        "target": 5,
        "verbose": 1,
        "updates": [(i, [("loss", 1.0 / i), ("acc", 0.1 * i)], None) for i in range(1, 6)],
    },
    {"target": 5, "verbose": 2, "updates": [(i, [("loss", 1.0 / i)], None) for i in range(1, 6)]},
    {
        "target": None,
        "verbose": 1,
        "updates": [(i, [("loss", 0.5)], None) for i in range(1, 4)] + [(3, [], True)],
    },
    {
        "target": 120,
        "verbose": 1,
        "updates": [(i, [("tiny", 1e-5), ("neg", -2.0)], None) for i in (1, 60, 120)],
    },
    {"target": 3, "verbose": 1, "updates": [(i, [], None) for i in range(1, 4)], "step": 30.0},
    {
        "target": 3,
        "verbose": 1,
        "updates": [(1, [("loss", 2.0)], None), (3, [("loss", 1.0)], None)],
        "stateful_metrics": ["loss"],
    },
    {"target": 1000, "verbose": 1, "updates": [(1, [], None), (2, [], None)], "step": 5.0},
]


@pytest.mark.keras
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_text_as_keras(keras, monkeypatch, scenario) -> None:
    from keras.src.utils import progbar as keras_progbar

    from kseq.core import progbar as kseq_progbar

    scenario = dict(scenario)
    theirs = run(keras.utils.Progbar, keras_progbar, monkeypatch, **scenario)
    ours = run(Progbar, kseq_progbar, monkeypatch, **scenario)
    assert ours == theirs


def test_verbose_zero_prints_nothing(capsys) -> None:
    bar = Progbar(3, verbose=0)
    for i in range(1, 4):
        bar.update(i, [("loss", 1.0)])
    assert capsys.readouterr().out == ""


def test_final_line_format(monkeypatch) -> None:
    from kseq.core import progbar as kseq_progbar

    text = run(
        Progbar,
        kseq_progbar,
        monkeypatch,
        target=2,
        verbose=2,
        updates=[(2, [("loss", 0.25)], None)],
        step=0.5,
    )
    assert text == "2/2 - 0s - 250ms/step - loss: 0.2500\n"  # 0.5 s for 2 steps
