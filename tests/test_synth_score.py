"""giqa_synth_score's synthetic MOS and giqa_synth_mcq's questions, from the bench's ground truth."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.synth import ensure_bench
from giqa_harness.synth.score import FAMILY_NAMES, mcq_questions, score_records, synthetic_mos


def _local(severity, box):
    return {"kind": "noise", "severity": severity, "region": {"box": box}}


def test_the_formula_gives_5_for_no_damage_and_its_documented_value_otherwise():
    assert synthetic_mos([]) == 5.0
    one = _local(2, [0.0, 0.0, 0.5, 0.5])  # a quarter of the image: impact 2 * 0.5 = 1
    assert synthetic_mos([one]) == pytest.approx(1 + 4 * math.exp(-0.35))
    whole = {"kind": "jpeg", "severity": 1, "region": None}
    assert synthetic_mos([one, whole]) == pytest.approx(1 + 4 * math.exp(-0.35 * 2))


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 2), st.floats(0.05, 0.5), st.floats(0.05, 0.5))
def test_more_severe_or_wider_damage_never_raises_the_mos(severity, side, grow):
    small = synthetic_mos([_local(severity, [0, 0, side, side])])
    assert synthetic_mos([_local(severity + 1, [0, 0, side, side])]) < small
    assert synthetic_mos([_local(severity, [0, 0, side + grow, side + grow])]) < small
    assert 1.0 < small < 5.0


def test_the_bench_gives_one_record_per_image_and_well_formed_questions():
    folder = ensure_bench(0)
    records = score_records(folder)
    assert len(records) == 100 and len({r["mos"] for r in records}) > 50
    questions = mcq_questions(folder)
    assert questions == mcq_questions(folder)  # deterministic
    assert {q["type"] for q in questions} == {"what", "yes-or-no"}
    assert {q["concern"] for q in questions} == {"distortion", "in-context distortion"}
    for q in questions:
        assert q["correct_ans"] in q["candidates"] and len(set(q["candidates"])) == len(q["candidates"])
    yes_no = [q for q in questions if q["type"] == "yes-or-no"]
    assert {q["correct_ans"] for q in yes_no} == {"Yes", "No"}
    worst = [q for q in questions if q["id"].endswith("_worst")]
    assert all(set(q["candidates"]) <= set(FAMILY_NAMES.values()) for q in worst)
