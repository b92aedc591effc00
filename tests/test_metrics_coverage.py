"""Coverage: how many samples a metric applies to, scored and failed, and why they failed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.metrics.coverage import (
    GENERATION, MAX_CAUSES, METRIC, Coverage, coverage_notes, entry_coverage, entry_notes, group_causes,
)


def test_a_value_is_complete_only_when_every_applicable_sample_scored():
    assert Coverage.count(100, 100).complete
    partial = Coverage.count(100, 5, ["model error: CUDA OOM"] * 90, ["judge: no score"] * 5)
    assert not partial.complete and partial.failed == 95 and partial.fraction() == "5/100"
    assert partial.failed_generation == 90 and partial.failed_metric == 5
    assert not Coverage.count(3, 0).complete  # not computed: no failure, but no complete value either
    assert Coverage.count(4, 0, ["x"] * 4).all_failed and not Coverage.count(4, 0).all_failed


def test_the_description_names_each_stage_with_its_count_and_cause():
    text = Coverage.count(100, 5, ["model error: CUDA OOM"] * 90, ["no score in reply"] * 5).describe_failures()
    assert text == ("95 of 100 failed: 90 at generation (model error: CUDA OOM x90), "
                    "5 in the metric (no score in reply x5)")


def test_a_complete_value_has_no_note_and_an_incomplete_one_says_why():
    assert coverage_notes(Coverage.count(10, 10)) == []
    (note,) = coverage_notes(Coverage.count(10, 9, ["image a.png: truncated"]))
    assert note == {"kind": "incomplete", "text": "1 of 10 failed: 1 at generation (image a.png: truncated)"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("abcdefghijklmnop"), max_size=60), st.lists(st.sampled_from("xyz"), max_size=20))
def test_causes_keep_every_failure_counted_even_past_the_cap(generation, metric):
    causes = group_causes(generation, metric)
    assert sum(c.count for c in causes if c.stage == GENERATION) == len(generation)
    assert sum(c.count for c in causes if c.stage == METRIC) == len(metric)
    assert len(causes) <= MAX_CAUSES + 2  # the kept reasons and at most one "other" line per stage
    assert [c.count for c in causes[:MAX_CAUSES]] == sorted((c.count for c in causes[:MAX_CAUSES]), reverse=True)


def test_a_long_reason_is_cut():
    (cause,) = group_causes(["x" * 5000], [])
    assert len(cause.reason) == 300 and cause.reason.endswith("...")


def test_round_trip_through_results_json():
    coverage = Coverage.count(7, 4, ["a", "a"], ["b"])
    assert Coverage.from_json(coverage.to_json()) == coverage


def test_results_written_before_coverage_are_read_from_n_and_failed():
    old = {"value": 0.5, "n": 26, "failed": 34}
    assert entry_coverage(old) == Coverage(60, 26, failed_metric=34)
    assert not entry_coverage(old).complete
    assert entry_notes(old)[0]["text"].startswith("34 of 60 failed")
    assert entry_coverage({"value": 0.5, "n": 100}).complete and entry_notes({"value": 0.5, "n": 100}) == []


def test_notes_of_other_checks_sit_beside_the_coverage():
    entry = {"value": 0.4, "n": 2, "failed": 0, "coverage": Coverage.count(2, 2).to_json(),
             "notes": [{"kind": "box_spam", "text": "12 boxes per answer on average"}]}
    assert entry_coverage(entry).complete
    assert entry_notes(entry) == [{"kind": "box_spam", "text": "12 boxes per answer on average"}]
