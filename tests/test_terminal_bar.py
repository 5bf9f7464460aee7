"""The batch's terminal progress bar: layout, TTY and plain output, ETA (plain Python)."""

import io

import pytest

from leanroute.progress.terminal_bar import (
    RunningJob,
    TerminalBar,
    estimate_eta,
    format_eta,
    render_bar,
    render_line,
)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _bar(total=20, *, tty=True, width=80, **kwargs):
    stream = io.StringIO()
    clock = FakeClock()
    bar = TerminalBar(total, stream=stream, tty=tty, width=width, clock=clock, **kwargs)
    return bar, stream, clock


def _frames(text):
    """What each redraw (clear line, then the bar) left on the line."""
    return [frame for frame in text.split("\r\x1b[K") if frame]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "--"), (0, "0:00"), (12.4, "0:12"), (59.6, "1:00"), (725, "12:05"), (3723, "1:02:03")],
)
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text


def test_render_line_layout():
    line = render_line(
        done=9,
        total=20,
        failed=1,
        running=[RunningJob("krems-07", stage="roads", index=3, count=9)],
        eta=12,
        width=100,
    )
    assert line.endswith("] 9/20 jobs, 1 failed | krems-07: roads (4/9) | ETA 0:12")
    assert line.startswith("[" + "#" * 13 + "." * 17 + "]")  # 9/20 of 30 cells
    assert render_bar(0, 0, 10) == "[##########]"  # an empty batch is complete


def test_render_line_with_several_jobs_running_and_waiting():
    running = [RunningJob("a-01", stage="parse", index=0, count=9), RunningJob("a-02")]
    line = render_line(done=0, total=4, running=running, waiting="waiting for memory", width=120)
    assert "2 running, a-01: parse (1/9)" in line
    assert "| waiting for memory |" in line
    assert line.endswith("ETA --")
    assert "failed" not in line


@pytest.mark.parametrize("width", [20, 30, 40, 50, 60, 80, 200])
def test_render_line_fits_the_width(width):
    running = [RunningJob("a-very-long-job-identifier-07", stage="buildings", index=5, count=9)]
    line = render_line(
        done=9, total=20, failed=1, running=running, eta=12, waiting="waiting " * 5, width=width
    )
    assert len(line) <= width - 1
    assert line.startswith("[") == (width >= 80)
    if width >= 40:
        assert "9/20 jobs" in line
        assert line.endswith("ETA 0:12")


def test_tty_rewrites_one_line_and_fits_the_width():
    bar, stream, clock = _bar(width=60)
    bar.job_started("krems-07")
    clock.now += 1
    bar.stage("krems-07", "roads", 3, 9)
    out = stream.getvalue()
    assert "\n" not in out
    frames = _frames(out)
    assert len(frames) == 2
    assert all(len(frame) <= 59 for frame in frames)
    assert "krems-07: roads (4/9)" in frames[-1]
    bar.close()
    assert stream.getvalue().endswith("\n")


def test_tty_redraws_are_throttled_except_when_a_job_ends():
    bar, stream, clock = _bar(min_interval=0.1)
    bar.job_started("a")
    for i in range(5):  # same instant: throttled
        bar.stage("a", f"s{i}", i, 5)
    assert len(_frames(stream.getvalue())) == 1
    clock.now += 0.2
    bar.stage("a", "s4", 4, 5)
    assert len(_frames(stream.getvalue())) == 2
    bar.job_finished("a", True, 1.0)  # no time passed, drawn all the same
    frames = _frames(stream.getvalue())
    assert len(frames) == 3
    assert "1/20 jobs" in frames[-1]


def test_plain_output_has_one_line_per_finished_job():
    bar, stream, clock = _bar(total=3, tty=False)
    for i, (job, ok) in enumerate([("krems-01", True), ("krems-02", False)]):
        bar.job_started(job)
        bar.stage(job, "roads", 1, 9)
        clock.now += 10
        bar.job_finished(job, ok, 0.8 + i)
    bar.close()
    out = stream.getvalue()
    assert "\r" not in out
    assert "\x1b" not in out
    assert out.splitlines() == [
        "[1/3] krems-01 done in 0.8 s, ETA 0:02",
        "[2/3] krems-02 failed in 1.8 s, ETA 0:01",
    ]


def test_eta_from_jobs_finished_in_this_run_and_parallel_workers():
    bar, _stream, clock = _bar(total=10)
    assert bar.eta is None
    assert "ETA --" in bar.line()
    # Two workers: a and b run at once.
    bar.job_started("a", worker=0)
    bar.job_started("b", worker=1)
    clock.now += 4
    bar.job_finished("a", True, 4.0)
    bar.job_finished("b", True, 6.0)
    # 8 left x mean 5 s / 2 workers
    assert bar.parallel == 2
    assert bar.eta == pytest.approx(20.0)
    assert bar.line().endswith("ETA 0:20")


def test_eta_never_divides_by_more_workers_than_jobs_left():
    assert estimate_eta(1, [10.0], 4) == pytest.approx(10.0)
    assert estimate_eta(8, [10.0], 4) == pytest.approx(20.0)
    assert estimate_eta(0, [10.0], 4) == 0.0
    assert estimate_eta(5, [], 4) is None


def test_skipped_jobs_count_as_done_but_not_in_the_eta():
    bar, stream, _clock = _bar(total=20, tty=False)
    bar.skipped(10)
    assert bar.done == 10
    assert bar.eta is None  # skipped jobs took no time in this run
    bar.job_started("k-11")
    bar.job_finished("k-11", True, 3.0)
    assert bar.eta == pytest.approx(9 * 3.0)
    assert stream.getvalue().splitlines() == [
        "[10/20] 10 jobs already done (checkpoint)",
        "[11/20] k-11 done in 3.0 s, ETA 0:27",
    ]


def test_note_goes_above_the_bar_on_a_tty():
    bar, stream, _clock = _bar()
    bar.job_started("a")
    bar.note("circuit breaker: restarting the worker")
    out = stream.getvalue()
    before, _, after = out.partition("circuit breaker: restarting the worker\n")
    assert before.endswith("\r\x1b[K")
    assert after.startswith("\r\x1b[K[")  # the bar is drawn again below the note


def test_note_and_waiting_as_plain_lines():
    bar, stream, _clock = _bar(tty=False)
    bar.note("circuit breaker: restarting the worker")
    bar.waiting("waiting for memory: 1.2 GiB available, a job needs 1.5 GiB")
    bar.waiting("waiting for memory: 1.3 GiB available, a job needs 1.5 GiB")  # same wait
    bar.waiting(None)
    bar.waiting("waiting for memory: again")
    assert stream.getvalue().splitlines() == [
        "circuit breaker: restarting the worker",
        "waiting for memory: 1.2 GiB available, a job needs 1.5 GiB",
        "waiting for memory: again",
    ]


def test_waiting_shows_on_the_tty_line_and_clears():
    bar, stream, _clock = _bar(width=120)
    bar.job_started("a")
    bar.waiting("waiting for memory: 1.2 GiB available, a job needs 1.5 GiB")
    assert "| waiting for memory: 1.2 GiB" in _frames(stream.getvalue())[-1]
    bar.waiting(None)
    assert "waiting" not in _frames(stream.getvalue())[-1]


def test_close_is_idempotent_and_quiet_off_a_tty():
    bar, stream, _clock = _bar(tty=False)
    bar.close()
    bar.close()
    assert stream.getvalue() == ""
    with TerminalBar(1, stream=io.StringIO(), tty=True, width=80) as tty_bar:
        tty_bar.skipped(1)
    assert tty_bar.stream.getvalue().count("\n") == 1


def test_tty_defaults_to_the_stream():
    assert TerminalBar(1, stream=io.StringIO()).tty is False
