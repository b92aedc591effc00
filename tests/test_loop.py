"""The whole loop on CPU: annotate synthetic-bench images -> fine-tune a tiny LLaVA -> evaluate it.

Annotation runs the real pipeline (tag extraction, detection, refinement, fusion, VQA generation,
balancing) with the stand-ins of ``annotate --demo`` for the LLM and the detector, which return the
bench's true tags and regions; training runs the tiny recipe on the conversation JSON it wrote; the
fine-tuned checkpoint is then evaluated as a ``giqa`` entrant on ``giqa_synth``.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

N_RECORDS = 4


def test_annotate_then_train_then_evaluate(tmp_path):
    from giqa_harness.annotate.demo import demo_records, truth_annotators, write_descriptions
    from giqa_harness.annotate.pipeline import AnnotateConfig, annotate
    from giqa_harness.evaluator import RunConfig, evaluate
    from giqa_harness.testing.tiny_models import build_tiny_llava
    from giqa_harness.training.recipe import load_recipe
    from giqa_harness.training.train import train

    # 1. annotate: bench images + their plain descriptions -> grounded DES and VQA conversations
    folder, des = demo_records(N_RECORDS)
    descriptions = write_descriptions(tmp_path / "descriptions.jsonl", des)
    llm, detector, _ = truth_annotators(des, folder)
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
