"""The kosmos2 adapter on a tiny random Kosmos-2 checkpoint built offline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from giqa_harness.boxes.formats import get_format, rerender
from giqa_harness.evaluator import build_adapter
from giqa_harness.model_adapters.kosmos2 import processor_box
from giqa_harness.models import Request
from giqa_harness.testing.adapters import run_answers
from giqa_harness.testing.tiny_models import build_tiny_kosmos2

SHORT = {"max_new_tokens": 8}


@pytest.fixture(scope="module")
def kosmos2(tmp_path_factory):
    return build_tiny_kosmos2(tmp_path_factory.mktemp("kosmos2"))


@pytest.fixture(scope="module")
def adapter(kosmos2):
    return build_adapter("kosmos2", {"pretrained": str(kosmos2), **SHORT})


def referring_request(adapter, question, size=(64, 48)):
    """A request as the evaluator builds it: the canonical question re-rendered in the kosmos2 format."""
    text, parsed = rerender(question, get_format("giqa_grid"), adapter.box_format, size)
    return Request(doc_id="x", task="t", question=text, image=Image.new("RGB", size, (120, 160, 200)),
                   image_size=size, referring=parsed.groundings)


@pytest.mark.slow
def test_kosmos2_runs_a_task_end_to_end(kosmos2, tiny_task, tmp_path):
    task = tiny_task()
    results, answers = run_answers("kosmos2", {"pretrained": str(kosmos2), **SHORT}, task, tmp_path / "run")
    assert results["results"][task]["n_scored"] == 6 and results["results"][task]["n_failed"] == 0
    assert results["model"]["box_format"]["name"] == "kosmos2"
    assert results["model"]["box_format"]["frame"] == "original"


@pytest.mark.slow
def test_answers_do_not_depend_on_the_batch_size(kosmos2, tiny_task, tmp_path):
    task = tiny_task()
    args = {"pretrained": str(kosmos2), **SHORT}
    _, one_by_one = run_answers("kosmos2", args, task, tmp_path / "bs1", batch_size=1)
    _, batched = run_answers("kosmos2", args, task, tmp_path / "bs8", batch_size=8)
    assert batched == one_by_one


@pytest.mark.slow
def test_referring_phrases_get_their_boxes_through_the_processor(adapter):
    req = referring_request(adapter, "Is the [sky](<0, 59>) over-exposed?")
    text, bboxes = adapter.referring_text(req)
    assert text == "Is the <phrase> sky</phrase> over-exposed?"
    # grid cells 0 and 59 are (0, 0) and (19, 2): the canonical box spans their centres
    assert bboxes == [[pytest.approx((0.025, 0.025, 0.975, 0.125))]]
    ids = adapter.encode([req])["input_ids"][0]
    decoded = adapter.processor.decode(ids)
    # floor(0.025 * 32) = 0 and ceil(0.975 * 32 - 1) = 31, ceil(0.125 * 32 - 1) = 3: cells 0 and 3 * 32 + 31
    assert "<phrase> sky</phrase><object><patch_index_0000><patch_index_0127></object>" in decoded


@pytest.mark.slow
def test_image_embeds_position_mask_marks_the_64_image_tokens(adapter):
    inputs = adapter.encode([referring_request(adapter, "Is it sharp?"),
                             referring_request(adapter, "Describe the quality of the image in great detail.")])
    mask = inputs["image_embeds_position_mask"]
    assert mask.shape == inputs["input_ids"].shape
    assert mask.sum(dim=1).tolist() == [64, 64]
    assert inputs["attention_mask"][0, 0].item() == 0  # the shorter prompt is padded on the left


@pytest.mark.slow
def test_decoded_answers_keep_the_tags_the_kosmos2_format_parses(adapter):
    answer = "<phrase> a snowman</phrase><object><patch_index_0044><patch_index_0863></object> is blurry"
    ids = adapter.processor.tokenizer(answer, add_special_tokens=False, return_tensors="pt")["input_ids"]
    decoded = adapter.decode(ids)[0]
    parsed = adapter.box_format.parse(decoded, (100, 100))
    assert [g.phrase for g in parsed.groundings] == ["a snowman"]
    assert parsed.groundings[0].boxes[0].as_tuple() == pytest.approx((0.390625, 0.046875, 0.984375, 0.828125))


@given(st.tuples(*[st.floats(0, 1)] * 4))
def test_processor_boxes_are_never_degenerate(coords):
    x1, y1, x2, y2 = processor_box((min(coords[0], coords[2]), min(coords[1], coords[3]),
                                    max(coords[0], coords[2]), max(coords[1], coords[3])))
    assert 0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0


def test_a_zero_width_box_stays_in_the_cell_it_touches():
    from transformers.models.kosmos2.processing_kosmos2 import coordinate_to_patch_index

    assert coordinate_to_patch_index(processor_box((0.525, 0.625, 0.525, 0.625)), 32) == (20 * 32 + 16,) * 2


@pytest.mark.slow
def test_decoding_blocks_repeated_trigrams_as_its_grounding_evaluation_unless_the_task_says_otherwise(kosmos2,
                                                                                                   monkeypatch):
    adapter = build_adapter("kosmos2", {"pretrained": str(kosmos2), **SHORT})
    seen = []
    original = adapter.model.generate

    def spy(**kwargs):
        seen.append({k: kwargs.get(k) for k in ("no_repeat_ngram_size", "num_beams", "do_sample")})
        return original(**kwargs)

    monkeypatch.setattr(adapter.model, "generate", spy)
    request = referring_request(adapter, "Describe the quality.")
    adapter.generate([request])
    adapter.generate([Request(**{**request.__dict__, "generation_kwargs": {"no_repeat_ngram_size": 0}})])
    assert seen == [{"no_repeat_ngram_size": 3, "num_beams": 1, "do_sample": False},
                    {"no_repeat_ngram_size": 0, "num_beams": 1, "do_sample": False}]
    assert adapter.identity()["generation"] == {"no_repeat_ngram_size": 3}  # cached answers of other decoding stay apart
