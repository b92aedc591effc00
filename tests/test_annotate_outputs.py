"""Output helpers: LLaVA conversations and the box-area histogram."""

from __future__ import annotations

from giqa_harness.annotate.outputs import box_areas, conversation, histogram


def test_conversation_puts_the_image_token_before_the_question():
    sample = {"id": "r_des", "image": "a.png", "question": "Describe the quality.", "answer": "[Sky](<0, 19>) is dark.",
              "kind": "des", "groundings": []}
    assert conversation(sample) == {"id": "r_des", "image": "a.png", "kind": "des", "conversations": [
        {"from": "human", "value": "<image>\nDescribe the quality."},
        {"from": "gpt", "value": "[Sky](<0, 19>) is dark."}]}


def test_histogram_bins_cover_zero_to_one_inclusive():
    hist = histogram([0.0, 0.04, 0.05, 0.5, 0.99, 1.0], bins=20)
    assert hist["edges"][0] == 0.0 and hist["edges"][-1] == 1.0 and len(hist["edges"]) == 21
    assert hist["counts"][0] == 2 and hist["counts"][1] == 1 and hist["counts"][10] == 1 and hist["counts"][19] == 2
    assert sum(hist["counts"]) == 6


def test_box_areas_come_from_des_samples_only():
    des = {"kind": "des", "groundings": [{"phrase": "a", "boxes": [[0, 0, 0.5, 0.5], [0, 0, 1, 1]]}]}
    vqa = {"kind": "vqa_yn", "groundings": [{"phrase": "a", "boxes": [[0, 0, 0.5, 0.5]]}]}
    assert box_areas([des, vqa]) == [0.25, 1.0]
