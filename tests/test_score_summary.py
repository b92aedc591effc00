"""The run table and the exit summary on score and multiple-choice tasks' unreadable answers."""

from __future__ import annotations

from giqa_harness.leaderboard import format_run_table
from giqa_harness.run_status import run_problems

READ = "unreadable: no level word or in-range number in the answer"


def _level(n: int, unreadable: int, generation_failures: int = 0) -> dict:
    # The shape score_rows gives: unreadable answers are among the failed samples of a level task.
    failures = [{"doc_id": f"d{i}", "reason": READ} for i in range(unreadable)]
    failures += [{"doc_id": f"g{i}", "reason": "RuntimeError: out of memory"} for i in range(generation_failures)]
    n_failed = unreadable + generation_failures
    undefined = {"value": None, "reason": "undefined: fewer than 2 scored samples", "n": n - n_failed,
                 "label": "SRCC (generated)"}
    return {"scoring": {"kind": "level", "method_used": "generated"}, "metrics": {"srcc": undefined},
            "unreadable": unreadable, "n_samples": n, "n_scored": n - n_failed, "n_failed": n_failed,
            "failures": failures}


def test_a_level_task_whose_answers_were_all_unreadable_was_answered_not_failed_to_generate():
    results = {"results": {"binary": _level(4, unreadable=4)}}
    table = format_run_table(results)
    assert "binary  (4 of 4 docs answered, 0 failed)" in table
    assert "unreadable: 4 of 4 answers give no level word or in-range number" in table
    [problem] = run_problems(results)
    assert "failed to generate" not in problem["problem"]
    assert "all 4 docs failed (4 answers unreadable)" in problem["problem"]


def test_unreadable_answers_and_generation_failures_are_told_apart():
    results = {"results": {"binary": _level(5, unreadable=3, generation_failures=2)}}
    assert "binary  (3 of 5 docs answered, 2 failed)" in format_run_table(results)
    [problem] = run_problems(results)
    assert "(3 answers unreadable, 2 failed to generate)" in problem["problem"]


def test_a_multiple_choice_task_says_how_many_answers_named_no_option():
    accuracy = {"value": 0.25, "ci95": [0.1, 0.4], "n": 8, "label": "Accuracy (generated)"}
    mcq = {"scoring": {"kind": "mcq", "method_used": "generated"}, "metrics": {"accuracy": accuracy},
           "unreadable": 5, "n_samples": 8, "n_scored": 8, "n_failed": 0, "failures": []}
    table = format_run_table({"results": {"mcq": mcq}})
    assert "mcq  (8 of 8 docs answered, 0 failed)" in table
    assert "unreadable: 5 of 8 answers name no option (counted wrong)" in table
