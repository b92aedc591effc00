"""Tag extraction: the strict triple schema, retries with varied prompts, and the T_e filter."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from giqa_harness.annotate.records import Tag
from giqa_harness.annotate.tags import extract_tags, is_whole_image, parse_tags, select_key_tags
from giqa_harness.testing.scripted import ScriptedLLM, prompt_description

SKY = {"T_r": "the sky", "T_q": "over-exposed", "T_e": "negative"}


def test_a_json_array_of_triples_is_read_in_any_usual_wrapping():
    expected = [Tag("the sky", "over-exposed", "negative")]
    for reply in (json.dumps([SKY]), f"```json\n{json.dumps([SKY])}\n```", f"Here you are: {json.dumps([SKY])} Done.",
                  json.dumps({"objects": [SKY]})):
        assert parse_tags(reply) == (expected, None)
    assert parse_tags("[]") == ([], None)


def test_effect_spellings_are_normalized():
    tags, _ = parse_tags(json.dumps([{**SKY, "T_e": " No-Impact "}, {**SKY, "T_e": "POSITIVE"}]))
    assert [t.effect for t in tags] == ["no impact", "positive"]


def test_schema_violations_name_the_problem():
    cases = {
        "The sky is bad.": "not valid JSON",
        json.dumps({"T_r": "x"}): "expected a JSON array",
        json.dumps(["sky"]): "element 0 is not an object",
        json.dumps([{"T_r": "sky", "T_q": ""}]): "element 0 lacks a non-empty string for T_q, T_e",
        json.dumps([{**SKY, "T_e": "terrible"}]): "not one of no impact, positive, negative",
        "": "empty reply",
    }
    for reply, problem in cases.items():
        tags, error = parse_tags(reply)
        assert tags is None and problem in error


@given(st.text())
def test_parse_never_raises(reply):
    tags, error = parse_tags(reply)
    assert (tags is None) != (error is None)


def test_invalid_replies_are_asked_again_with_a_different_prompt_naming_the_problem():
    replies = iter(["sorry, I cannot", json.dumps([SKY])])
    llm = ScriptedLLM(lambda prompt: next(replies))
    [outcome] = extract_tags(llm, ["The sky is over-exposed."], max_attempts=3)
    assert outcome.value == [Tag("the sky", "over-exposed", "negative")]
    assert outcome.errors == ["not valid JSON"]
    first, second = llm.prompts
    assert first != second and "not valid JSON" in second
    assert prompt_description(first) == prompt_description(second) == "The sky is over-exposed."


def test_a_record_fails_after_the_last_attempt_and_others_are_unaffected():
    def reply(prompt):
        return "nonsense" if "broken" in prompt else (None if "offline" in prompt else json.dumps([SKY]))

    llm = ScriptedLLM(reply)
    good, bad, failed_call = extract_tags(llm, ["The sky is fine.", "A broken one.", "An offline one."], max_attempts=3)
    assert good.value is not None and good.errors == []
    assert bad.value is None
    assert bad.failure() == "attempt 1: not valid JSON; attempt 2: not valid JSON; attempt 3: not valid JSON"
    assert failed_call.value is None and "the LLM call failed" in failed_call.failure()
    assert len(llm.prompts) == 1 + 3 + 3  # one batch per attempt, only the pending records re-asked


def test_key_tags_drop_no_impact_whole_image_absent_and_repeated_phrases():
    description = "The image is blurry overall, but the man wearing a white t-shirt is clear."
    tags = [Tag("The image", "blurry", "negative"), Tag("the man wearing a white t-shirt", "clear", "positive"),
            Tag("the tree", "blurry", "negative"), Tag("the background", "plain", "no impact"),
            Tag("The man wearing a white t-shirt", "clear", "positive")]
    kept, notes = select_key_tags(tags, description)
    assert kept == [Tag("the man wearing a white t-shirt", "clear", "positive")]
    assert len(notes) == 4 and any("whole image" in n for n in notes) and any("does not occur" in n for n in notes)


def test_whole_image_phrases():
    assert all(map(is_whole_image, ["image", "The whole image", "this photo", "the overall quality"]))
    assert not any(map(is_whole_image, ["the image border", "the picture frame on the wall", "the sky"]))
