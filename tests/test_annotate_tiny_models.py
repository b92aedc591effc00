"""The annotation pipeline with real (tiny, random) models: transformers' Grounding DINO as the detector,
a LLaVA adapter as the IQA model, and a local causal LM through the ``hf:`` backend.

Random weights make the answers meaningless, so these tests prove the plumbing — loading, batching,
crops, post-processing, caching — and that a real LLM's unusable replies fail records without
stopping the run.
"""

from __future__ import annotations

import json

import pytest

from giqa_harness.annotate.pipeline import AnnotateConfig, annotate
from giqa_harness.testing.scripted import ScriptedLLM

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from giqa_harness.testing.tiny_grounding_dino import build_tiny_grounding_dino
    from giqa_harness.testing.tiny_lm import build_tiny_causal_lm
    from giqa_harness.testing.tiny_models import build_tiny_llava

    root = tmp_path_factory.mktemp("tiny_models")
    return {"gd": build_tiny_grounding_dino(root / "gd"), "llava": build_tiny_llava(root / "llava"),
            "lm": build_tiny_causal_lm(root / "lm")}


def inputs(root):
    from test_annotate_pipeline import write_inputs

    return write_inputs(root)


def test_tiny_grounding_dino_and_llava_iqa_run_every_stage(tmp_path, tiny):
    from test_annotate_pipeline import reply

    images, descriptions = inputs(tmp_path)
    config = AnnotateConfig(
        images_dir=images, descriptions=descriptions, output=tmp_path / "out", llm="unused",
        detector="grounding_dino",
        detector_args={"pretrained": str(tiny["gd"]), "box_threshold": 0.0, "text_threshold": 0.0, "max_boxes": 3},
        iqa_model="llava", iqa_model_args={"pretrained": str(tiny["llava"]), "max_new_tokens": 3},
        batch_size=4, progress=False,
    )
    stats = annotate(config, llm=ScriptedLLM(reply))
    records = [json.loads(line) for line in (tmp_path / "out" / "records.jsonl").read_text().splitlines()]
    finished = [r for r in records if r["failure"] is None]
    assert [r["id"] for r in records if r["failure"]] == ["c"]  # the invalid-JSON record, nothing else
    for record in finished:
        detections = record["outputs"]["detect"]["detections"]
        assert detections and all(len(per_phrase) == 3 for per_phrase in detections)
        for obj in record["outputs"]["refine"]["objects"]:
            # Three boxes each: the IQA model was asked about every one (random answers, strings).
            assert len(obj["iqa_answers"]) == 3 and all(isinstance(a, str) for a in obj["iqa_answers"])
            assert 1 <= len(obj["boxes"]) <= obj["after_iqa"] or obj["after_iqa"] == 0
    assert stats["stages"]["detect"] == {"reused": 0, "computed": 3, "failed": 0}
    again = annotate(config, llm=ScriptedLLM(reply))
    assert again["stages"]["detect"] == {"reused": 3, "computed": 0, "failed": 0}
    assert again["stages"]["refine"]["reused"] == 3


def test_a_local_llm_whose_replies_are_not_json_fails_records_but_the_run_completes(tmp_path, tiny):
    images, descriptions = inputs(tmp_path)
    config = AnnotateConfig(
        images_dir=images, descriptions=descriptions, output=tmp_path / "out", llm=f"hf:{tiny['lm']}",
        llm_args={"max_new_tokens": 8}, detector="grounding_dino", detector_args={"pretrained": str(tiny["gd"])},
        max_tokens=8, tag_attempts=2, limit=2, progress=False,
    )
    stats = annotate(config)
    failures = [json.loads(line) for line in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert [f["stage"] for f in failures] == ["tags", "tags"]
    assert all(f["reason"].startswith("no valid tag JSON from the LLM (attempt 1: ") for f in failures)
    assert stats["samples"]["total"] == 0
    assert (tmp_path / "out" / "conversations.json").read_text().strip() == "[]"
