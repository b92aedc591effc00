"""The run table the README shows is what the README's own command prints, line for line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.leaderboard import format_run_table

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.slow  # the classical baseline over all 250 samples, MiniLM included
def test_the_readme_run_table_is_what_the_quick_start_prints():
    shown = re.search(r"## What a run prints\n\n```\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    results = evaluate(RunConfig(model="classical", tasks=["giqa_synth"], progress=False))
    assert format_run_table(results) + "\n" == shown
