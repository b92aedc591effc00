"""GIQA-VQA generation: pair checks (type, keywords, referring/grounding) and the paper's balancing."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.annotate.vqa import KeyObject, VQAJob, balance, check_pair, generate_pairs
from giqa_harness.boxes.geometry import Box
from giqa_harness.testing.scripted import ScriptedLLM

SIZE = (400, 300)
SKY = KeyObject("the sky", "over-exposed", (Box(0.0, 0.0, 1.0, 0.3),))
DOG = KeyObject("the dog", "sharp", (Box(0.5, 0.5, 0.75, 0.9),))


def pair(qtype, question, answer, obj="the sky"):
    return {"type": qtype, "object": obj, "question": question, "answer": answer}


def test_a_yes_pair_naming_its_object_in_the_question_becomes_a_referring_question():
    sample, reason = check_pair(pair("yes", "Is the sky over-exposed?", "Yes."), [SKY, DOG], SIZE, choice=1)
    assert reason is None
    assert sample == {"question": "Is [the sky](<0, 139>) over-exposed?", "answer": "Yes.", "kind": "vqa_yn",
                      "qtype": "yes", "mode": "referring", "object": "the sky",
                      "groundings": [{"phrase": "the sky", "boxes": [[0.025, 0.025, 0.975, 0.325]]}]}


def test_a_what_pair_naming_its_object_in_the_answer_becomes_a_grounding_answer():
    sample, _ = check_pair(pair("what", "What distortion is in the upper part?", "Over-exposure of the sky."),
                           [SKY], SIZE, choice=0)
    assert (sample["mode"], sample["kind"]) == ("grounding", "vqa_w")
    assert sample["answer"] == "Over-exposure of [the sky](<0, 139>)."
    assert sample["question"] == "What distortion is in the upper part?"


def test_a_phrase_in_both_places_goes_where_the_choice_says():
    item = pair("no", "Is the dog blurry?", "No, the dog is sharp.", obj="the dog")
    modes = {check_pair(item, [DOG], SIZE, choice)[0]["mode"] for choice in (0, 1)}
    assert modes == {"referring", "grounding"}


def test_pairs_that_break_the_rules_are_dropped_with_a_reason():
    cases = [
        (pair("yes", "Is the sky over-exposed?", "No."), "does not start with 'yes'"),
        (pair("why", "What is wrong with the sky's exposure?", "Too bright."), "lacks the word 'why'"),
        (pair("how", "How is the sky?", "Over-exposed.", obj="the moon"), "not a key object"),
        (pair("what", "What animal is near the sky?", "A bird."), "no quality keyword"),
        (pair("yes", "Is the upper area over-exposed?", "Yes."), "written in neither"),
        (pair("maybe", "Is the sky over-exposed?", "Perhaps."), "not one of"),
        ({"type": "yes", "question": "Is the sky over-exposed?"}, "lacks a non-empty string for object, answer"),
        ("Is the sky over-exposed?", "not a JSON object"),
    ]
    for item, problem in cases:
        sample, reason = check_pair(item, [SKY], SIZE, choice=0)
        assert sample is None and problem in reason, (item, reason)


def test_the_quality_of_the_object_counts_as_a_keyword():
    obj = KeyObject("the statue", "weathered", (Box(0.1, 0.1, 0.2, 0.2),))
    sample, _ = check_pair(pair("yes", "Does the statue look weathered?", "Yes.", obj="the statue"), [obj], SIZE, 0)
    assert sample is not None


def test_generate_pairs_gives_the_llm_the_objects_with_boxes_and_keeps_valid_pairs():
    reply = json.dumps([pair("yes", "Is the sky over-exposed?", "Yes."),
                        pair("what", "What animal is the dog?", "A terrier.", obj="the dog")])
    llm = ScriptedLLM(lambda prompt: reply)
    job = VQAJob("r1", "[The sky](<0, 139>) is over-exposed; [the dog](<210, 354>) is sharp.", (SKY, DOG), SIZE)
    [outcome] = generate_pairs(llm, [job], pairs_per_record=4)
    assert '- "the sky" (quality: over-exposed): [the sky](<0, 139>)' in llm.prompts[0]
    assert "Write 4 pairs" in llm.prompts[0]
    assert [p["qtype"] for p in outcome.value["pairs"]] == ["yes"]
    assert [d["reason"] for d in outcome.value["dropped"]] == ["unrelated: no quality keyword"]


def items(yes, no, what, why=0, how=0, des=0):
    kinds = ["yes"] * yes + ["no"] * no + ["what"] * what + ["why"] * why + ["how"] * how + [None] * des
    return [{"id": i, "qtype": q} for i, q in enumerate(kinds)]


def test_balance_matches_the_paper_proportions():
    out = balance(items(yes=10, no=4, what=5, why=3, how=2, des=3), seed=0)
    counts = Counter(o["qtype"] for o in out)
    assert counts["yes"] == counts["no"] == 4
    assert counts["what"] + counts["why"] + counts["how"] == 8
    assert counts[None] == 3  # DES samples are never dropped


def test_balance_is_bounded_by_the_smallest_group():
    assert Counter(o["qtype"] for o in balance(items(yes=5, no=5, what=3))) == {"yes": 1, "no": 1, "what": 2}
    assert balance(items(yes=5, no=0, what=9)) == []


def test_balance_is_seeded_and_keeps_input_order():
    data = items(yes=20, no=10, what=30)
    assert balance(data, seed=3) == balance(data, seed=3)
    assert balance(data, seed=3) != balance(data, seed=4)
    ids = [o["id"] for o in balance(data, seed=3)]
    assert ids == sorted(ids)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 5))
def test_balance_properties(yes, no, what, how, des):
    out = balance(items(yes=yes, no=no, what=what, how=how, des=des), seed=1)
    counts = Counter(o["qtype"] for o in out)
    m = min(yes, no, (what + how) // 2)
    assert counts["yes"] == counts["no"] == m
    assert counts["what"] + counts["how"] == 2 * m
    assert counts[None] == des
