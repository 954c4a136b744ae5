"""synflair.progress: rate and ETA lines for long work, on a fake clock."""

from __future__ import annotations

import logging

import pytest

from synflair.progress import Progress, format_duration


class FakeClock:
    """Seconds that advance only when the test says so."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "test.progress"]


@pytest.fixture
def logger(caplog):
    caplog.set_level(logging.INFO, logger="test.progress")
    return logging.getLogger("test.progress")


def test_every_n_items_with_rate_and_eta(caplog, logger):
    clock = FakeClock()
    progress = Progress(100, "stage 1", every=25, clock=clock, logger=logger, bar=False)
    for _ in range(100):
        clock.t += 0.5  # 2 it/s
        progress.update()
    assert lines(caplog) == [
        "stage 1: 25/100 (25%), 2 it/s, ETA 0:00:38",
        "stage 1: 50/100 (50%), 2 it/s, ETA 0:00:25",
        "stage 1: 75/100 (75%), 2 it/s, ETA 0:00:12",
        "stage 1: 100/100 (100%), 2 it/s, ETA 0:00:00",
    ]


def test_eta_follows_a_change_of_rate(caplog, logger):
    clock = FakeClock()
    progress = Progress(40, "fit", every=10, unit="chunk", clock=clock, logger=logger, bar=False)
    for step in range(20):
        clock.t += 1.0 if step < 10 else 3.0
        progress.update()
    # 20 chunks in 40 s: 0.5 chunk/s, 20 left -> 40 s
    assert lines(caplog)[-1] == "fit: 20/40 (50%), 0.5 chunk/s, ETA 0:00:40"
    assert progress.eta == pytest.approx(40.0)


def test_every_seconds_logs_on_time_not_on_count(caplog, logger):
    clock = FakeClock()
    progress = Progress(1000, "fit", seconds=30.0, clock=clock, logger=logger, bar=False)
    for _ in range(99):
        clock.t += 1.0
        progress.update()
    messages = lines(caplog)
    # at 30, 60 and 90 s; nothing in between, and the end has not come
    assert [m.split(",")[0] for m in messages] == [
        "fit: 30/1000 (3%)",
        "fit: 60/1000 (6%)",
        "fit: 90/1000 (9%)",
    ]
    assert messages[-1].endswith("1 it/s, ETA 0:15:10")


def test_a_resumed_run_counts_only_the_work_done_here(caplog, logger):
    clock = FakeClock()
    progress = Progress(
        1000, "stage 2", every=100, initial=800, clock=clock, logger=logger, bar=False
    )
    for _ in range(100):
        clock.t += 0.1
        progress.update()
    # 100 iterations in 10 s (not 900): 10 it/s, 100 left
    assert lines(caplog) == ["stage 2: 900/1000 (90%), 10 it/s, ETA 0:00:10"]


def test_detail_is_appended_and_log_false_stays_quiet(caplog, logger):
    clock = FakeClock()
    progress = Progress(4, "stage 1", every=2, clock=clock, logger=logger, bar=False)
    clock.t += 1
    assert progress.update(detail="g_loss 0.5") is False
    clock.t += 1
    assert progress.update(detail="g_loss 0.25") is True
    clock.t += 1
    progress.update(log=False)
    clock.t += 1
    assert progress.update(log=False) is True
    assert lines(caplog) == ["stage 1: 2/4 (50%), 1 it/s, ETA 0:00:02: g_loss 0.25"]


def test_big_steps_that_pass_a_multiple_still_log(caplog, logger):
    clock = FakeClock()
    progress = Progress(100, "x", every=10, clock=clock, logger=logger, bar=False)
    clock.t += 1
    progress.update(7)
    clock.t += 1
    progress.update(7)  # 14: passed 10
    assert lines(caplog) == ["x: 14/100 (14%), 7 it/s, ETA 0:00:12"]


def test_no_bar_when_stderr_is_not_a_terminal(capsys):
    # pytest captures stderr, so it is not a TTY: no bar, as under Snakemake or SLURM
    progress = Progress(3, "x", every=1)
    assert progress.bar is None
    progress.update()
    progress.close()
    assert capsys.readouterr().err == ""


def test_a_bar_when_asked():
    progress = Progress(3, "x", every=1, bar=True)
    assert progress.bar is not None and progress.bar.total == 3
    progress.update(2)
    assert progress.bar.n == 2
    progress.close()
    assert progress.bar is None


def test_unknown_rate_reads_as_a_question_mark():
    clock = FakeClock()
    progress = Progress(10, "x", every=1, clock=clock, bar=False)
    assert progress.status() == "x: 0/10 (0%), ? it/s, ETA ?"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00:00"), (59.6, "0:01:00"), (3725, "1:02:05"), (90000, "25:00:00")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_format_duration_unknown(value):
    assert format_duration(value) == "?"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"total": -1}, "total"),
        ({"total": 5, "every": 0}, "every"),
        ({"total": 5, "seconds": 0}, "seconds"),
        ({"total": 5, "initial": 6}, "initial"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Progress(label="x", bar=False, **kwargs)
