"""The whole loop on CPU: annotate synthetic-bench images -> fine-tune a tiny LLaVA -> evaluate it.

Annotation runs the real pipeline (tag extraction, detection, refinement, fusion, VQA generation,
balancing) with scripted stand-ins for the LLM and the detector that return the bench's true tags and
regions; training runs the tiny recipe on the conversation JSON it wrote; the fine-tuned checkpoint is
then evaluated as a ``giqa`` entrant on ``giqa_synth``.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

from giqa_harness.boxes.formats.grid import GridFormat

pytestmark = pytest.mark.slow

GRID = GridFormat()
QUALITY = "degraded"  # the tag quality of every object; the VQA keyword check needs it in each pair
N_RECORDS = 4


def scripted_annotators(des_records, folder):
    """An LLM and a detector that answer with each record's true objects and regions."""
    from giqa_harness.testing.scripted import (
        ScriptedDetector, ScriptedLLM, image_key, is_tag_prompt, prompt_description,
    )

    objects = {}  # plain description -> its grounded phrases
    regions = {}
    for record in des_records:
        parsed = GRID.parse(record["answer"], tuple(record["image_size"]))
        objects[parsed.plain] = [g.phrase for g in parsed.groundings]
        with Image.open(folder / record["image"]) as im:
            regions[image_key(im)] = {g.phrase.lower(): [list(b.as_tuple()) + [0.9] for b in g.boxes]
                                      for g in parsed.groundings}

    def reply(prompt: str) -> str:
        phrases = objects[GRID.parse(prompt_description(prompt), (1, 1)).plain]
        if is_tag_prompt(prompt):
            return json.dumps([{"T_r": p, "T_q": QUALITY, "T_e": "negative"} for p in phrases])
        pairs = []
        for p in phrases:
            pairs += [{"type": "yes", "object": p, "question": f"Is {p} {QUALITY}?", "answer": "Yes."},
                      {"type": "no", "object": p, "question": f"Is {p} sharp?", "answer": f"No, it is {QUALITY}."},
                      {"type": "what", "object": p, "question": f"What is wrong with {p}?",
                       "answer": f"It is {QUALITY}."}]
        return json.dumps(pairs)

    return ScriptedLLM(reply), ScriptedDetector(regions), objects


def test_annotate_then_train_then_evaluate(tmp_path):
    from giqa_harness.annotate.pipeline import AnnotateConfig, annotate
    from giqa_harness.evaluator import RunConfig, evaluate
    from giqa_harness.synth import ensure_bench
    from giqa_harness.testing.tiny_models import build_tiny_llava
    from giqa_harness.training.recipe import load_recipe
    from giqa_harness.training.train import train

    # 1. annotate: bench images + their plain descriptions -> grounded DES and VQA conversations
    folder = ensure_bench()
    records = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    des = [r for r in records if r["kind"] == "des" and "](<" in r["answer"]][:N_RECORDS]
    descriptions = tmp_path / "descriptions.jsonl"
    descriptions.write_text("".join(json.dumps({
        "id": r["id"], "image": r["image"], "description": GRID.parse(r["answer"], tuple(r["image_size"])).plain,
    }) + "\n" for r in des))
    llm, detector, _ = scripted_annotators(des, folder)
    config = AnnotateConfig(images_dir=folder, descriptions=descriptions, output=tmp_path / "annotated",
                            llm="scripted", detector="scripted", seed=0, progress=False)
    stats = annotate(config, llm=llm, detector=detector)
    assert stats["records"]["failed"] == 0 and stats["samples"]["des"] == N_RECORDS
    conversations = json.loads((tmp_path / "annotated" / "conversations.json").read_text())
    fused = {c["id"].removesuffix("_des"): c["conversations"][1]["value"] for c in conversations if c["kind"] == "des"}
    assert fused == {r["id"]: r["answer"] for r in des}  # true tags and regions give back the references

    # 2. train: the tiny recipe on the annotated conversations
    model = build_tiny_llava(tmp_path / "tiny_llava", "llava")
    recipe = load_recipe("tiny-cpu", [
        f"model.base={model}", f"data.train={tmp_path / 'annotated' / 'conversations.json'}",
        f"data.image_root={folder}", f"output.dir={tmp_path / 'run'}", "train.max_steps=4",
        "output.save_every_steps=0",
    ])
    result = train(recipe)
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert len(log) == 4 and log[-1]["loss"] < log[0]["loss"]

    # 3. evaluate: the fine-tuned checkpoint as a giqa entrant on the synthetic bench
    results = evaluate(RunConfig(model="giqa", model_args={"pretrained": str(result.final_dir), "max_new_tokens": 8},
                                 tasks=["giqa_synth"], limit=2, bootstrap=0, progress=False))
    for name in ("giqa_synth_des", "giqa_synth_vqa"):
        task = results["results"][name]
        assert (task["n_scored"], task["n_failed"]) == (2, 0)
        assert {"miou", "tag_recall"} <= set(task["metrics"])
    assert results["model"]["model"] == "giqa" and results["model"]["box_format"]["name"] == "giqa_grid"
