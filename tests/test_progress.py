"""What a long command prints while it works: plain lines off a terminal, status lines, quiet libraries."""

from __future__ import annotations

import io
import os
import sys

from hypothesis import given, settings, strategies as st

from giqa_harness import progress
from giqa_harness.progress import LineProgress, generation_status


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_come_every_tenth_of_the_work():
    lines: list[str] = []
    bar = LineProgress(100, "giqa_des", write=lines.append, clock=Clock())
    for _ in range(100):
        bar.update(1)
    bar.close()
    assert len(lines) == 10
    assert lines[0].startswith("giqa_des: 10/100 samples (10%)")
    assert lines[-1].startswith("giqa_des: 100/100 samples (100%)")


def test_a_slow_run_gets_a_line_every_30_seconds_between_tenths():
    clock = Clock()
    lines: list[str] = []
    bar = LineProgress(1000, "giqa_vqa", write=lines.append, clock=clock)
    for _ in range(5):  # 5 samples of a 1000, 31 s each: far below a tenth, so only the clock speaks
        clock.now += 31
        bar.update(1)
    assert len(lines) == 5 and lines[-1].startswith("giqa_vqa: 5/1000 samples (0%), 155 s")
    assert "s left" in lines[-1]


def test_a_resumed_task_counts_from_what_was_cached():
    lines: list[str] = []
    bar = LineProgress(100, "t", initial=42, write=lines.append, clock=Clock())
    bar.update(58)
    bar.close()
    assert lines == ["t: 100/100 samples (100%), 0 s"]


@settings(max_examples=50, deadline=None)
@given(total=st.integers(1, 500), steps=st.lists(st.integers(1, 40), max_size=40))
def test_never_more_than_about_ten_lines_and_the_last_says_where_it_stopped(total, steps):
    lines: list[str] = []
    bar = LineProgress(total, "t", write=lines.append, clock=Clock())
    done = 0
    for step in steps:
        step = min(step, total - done)
        if step == 0:
            break
        bar.update(step)
        done += step
    bar.close()
    assert len(lines) <= 11
    if done:
        assert lines[-1].startswith(f"t: {done}/{total} ")


def test_off_a_terminal_progress_is_plain_lines(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(progress.progress(10, "t"), LineProgress)
    assert not isinstance(progress.progress(10, "t", enabled=False), LineProgress)
    assert not isinstance(progress.progress(10, "t", initial=10), LineProgress)  # all cached: nothing to show


def test_generation_status_says_what_is_cached_and_what_is_left():
    assert generation_status("giqa_des", 42, 58, True) == "giqa_des: 42 cached, 58 to generate"
    assert generation_status("giqa_des", 100, 0, True) == "giqa_des: all 100 answers cached, nothing to generate"
    assert "no response cache" in generation_status("giqa_des", 0, 100, False)


def test_status_lines_go_to_stderr_unless_switched_off(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    progress.configure(enabled=True)
    progress.status("loading the thing")
    progress.configure(enabled=False)
    progress.status("not shown")
    progress.configure(enabled=True)
    assert err.getvalue() == "loading the thing\n"


def test_quiet_library_bars_switches_off_transformers_bars(monkeypatch):
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()
    try:
        progress.quiet_library_bars()
        assert not hf_logging.is_progress_bar_enabled()
        assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    finally:
        monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)  # it would veto the re-enabling
        hf_logging.enable_progress_bar()
