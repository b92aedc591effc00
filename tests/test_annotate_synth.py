"""The annotation pipeline on the synthetic bench, checked against its exact ground truth.

The bench's reference descriptions carry grid boxes of the regions that were degraded. Stripped of
their markup they are the pipeline's input; an LLM that returns the true tags and a detector that
returns the true regions (plus a decoy the IQA model rejects and a duplicate the merge absorbs) must
make tag selection, IQA filter, merge and fusion reproduce every reference description exactly, and
every VQA sample must carry the true box of the object it names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from giqa_harness.annotate.pipeline import AnnotateConfig, annotate
from giqa_harness.boxes.formats.grid import GridFormat, encode_box
from giqa_harness.testing.scripted import (
    ScriptedDetector, ScriptedIQA, ScriptedLLM, image_key, is_tag_prompt, prompt_description,
)

GRID = GridFormat()


@pytest.fixture(scope="module")
def bench():
    from giqa_harness.synth import ensure_bench

    folder = ensure_bench()
    records = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    annotations = {a["image"]: a for a in map(json.loads, (folder / "annotations.jsonl").read_text().splitlines())}
    return folder, [r for r in records if r["kind"] == "des"], annotations


def quality_word(kind: str) -> str:
    from giqa_harness.synth.text import ADJECTIVES

    return ADJECTIVES[kind][0].replace("{tint}-", "")


def truth(record: dict, annotation: dict) -> list[tuple[str, str, list[float]]]:
    """(phrase, quality, true region box) of every grounded phrase of a reference description."""
    size = tuple(record["image_size"])
    by_cells = {tuple(d["region"]["cells"]): d for d in annotation["degradations"] if d.get("region")}
    out = []
    for g in GRID.parse(record["answer"], size).groundings:
        degradation = by_cells[encode_box(g.boxes[0])]
        out.append((g.phrase, quality_word(degradation["kind"]), degradation["region"]["box"]))
    return out


def test_true_tags_and_regions_reproduce_every_reference_description(bench, tmp_path):
    folder, des, annotations = bench
    plain = {r["id"]: GRID.parse(r["answer"], tuple(r["image_size"])).plain for r in des}
    objects = {plain[r["id"]]: truth(r, annotations[r["image"]]) for r in des}
    inputs = [{"id": r["id"].removesuffix("_des"), "image": r["image"], "description": plain[r["id"]]} for r in des]
    (tmp_path / "descriptions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in inputs))

    def reply(prompt: str) -> str:
        text = GRID.parse(prompt_description(prompt), (1, 1)).plain
        if is_tag_prompt(prompt):
            tags = [{"T_r": p, "T_q": q, "T_e": "negative"} for p, q, _ in objects[text]]
            # Whole-image words the pipeline must drop.
            tags.append({"T_r": "the photo", "T_q": "clean", "T_e": "positive"})
            tags.append({"T_r": "overall quality", "T_q": "bad", "T_e": "negative"})
            return json.dumps(tags)
        pairs = []
        for p, q, _ in objects[text]:
            pairs += [{"type": "yes", "object": p, "question": f"Is {p} {q}?", "answer": "Yes."},
                      {"type": "no", "object": p, "question": f"Is {p} sharp and clean?", "answer": f"No, it is {q}."},
                      {"type": "what", "object": p, "question": "What distortion is worst here?",
                       "answer": f"{p[0].upper() + p[1:]} is {q}."}]
        return json.dumps(pairs)

    regions = {}
    for r in des:
        with Image.open(folder / r["image"]) as im:
            key = image_key(im)
        table = {}
        for phrase, _, box in truth(r, annotations[r["image"]]):
            x1, y1, x2, y2 = box
            inner = [x1 + (x2 - x1) * 0.1, y1 + (y2 - y1) * 0.1, x2 - (x2 - x1) * 0.1, y2 - (y2 - y1) * 0.1]
            decoy = [0.0, 0.98, 0.02, 1.0] if y1 > 0.1 else [0.98, 0.98, 1.0, 1.0]
            table[phrase.lower()] = [box + [0.9], inner + [0.8], decoy + [0.3]]
        regions[key] = table

    iqa = ScriptedIQA(respond=lambda request: "No." if min(request.image.size) < 20 else "Yes.")
    config = AnnotateConfig(images_dir=folder, descriptions=tmp_path / "descriptions.jsonl", output=tmp_path / "out",
                            llm="scripted", detector="scripted", seed=0, batch_size=16, progress=False)
    stats = annotate(config, llm=ScriptedLLM(reply), detector=ScriptedDetector(regions), iqa=iqa)

    samples = [json.loads(line) for line in (tmp_path / "out" / "annotations.jsonl").read_text().splitlines()]
    fused = {s["id"]: s for s in samples if s["kind"] == "des"}
    reference = {r["id"]: r for r in des if GRID.parse(r["answer"], (1, 1)).groundings}
    assert stats["records"]["failed"] == 0
    assert set(fused) == set(reference)  # descriptions without a box make no DES sample
    for record_id, record in reference.items():
        assert fused[record_id]["answer"] == record["answer"]
        parsed = GRID.parse(record["answer"], tuple(record["image_size"]))
        assert fused[record_id]["groundings"] == [g.to_json() for g in parsed.groundings]
    # Every decoy was shown to the IQA model and rejected; every duplicate was merged away.
    records = [json.loads(line) for line in (tmp_path / "out" / "records.jsonl").read_text().splitlines()]
    for obj in (o for r in records for o in r["outputs"]["refine"]["objects"]):
        assert (obj["detected"], obj["after_iqa"], len(obj["boxes"])) == (3, 2, 1)
        assert obj["iqa_answers"] == ["Yes.", "Yes.", "No."]
    # VQA: balanced as the paper did, and each box is the true region of the object the pair names.
    n_objects = sum(len(truth(r, annotations[r["image"]])) for r in des)
    assert stats["vqa_before_balancing"] == {"no": n_objects, "what": n_objects, "yes": n_objects}
    m = n_objects // 2
    assert stats["qtypes"] == {"no": m, "what": 2 * m, "yes": m}
    true_boxes = {(r["image"], p.lower()): GRID.parse(r["answer"], (1, 1)) for r in des for p, _, _ in
                  truth(r, annotations[r["image"]])}
    for sample in (s for s in samples if s["kind"] != "des"):
        [grounding] = sample["groundings"]
        expected = {g.phrase.lower(): g.to_json()["boxes"]
                    for g in true_boxes[(sample["image"], grounding["phrase"].lower())].groundings}
        assert grounding["boxes"] == expected[grounding["phrase"].lower()]
        assert sample["mode"] == ("referring" if sample["qtype"] != "what" else "grounding")
