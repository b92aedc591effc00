"""``giqa-harness annotate --demo OUT``: the annotation pipeline on CPU, offline, in seconds.

Inputs are images of the embedded synthetic bench (``giqa_synth``) and their quality descriptions with
the box markup taken out. The two models the pipeline calls are stand-ins that answer with the bench's
own truth: the LLM replies with each description's true quality tags (and VQA pairs about them), the
detector with each tag's true regions. Every stage the pipeline runs on those replies is the real one:
reply parsing, detection post-processing, box refinement, fusion into grounded descriptions, VQA
generation and balancing, caching and the output files. With truthful stand-ins the fused descriptions
reproduce the bench's references exactly, which the demo checks and reports.

The output folder can be fed straight to the tiny training recipe (docs/annotate.md shows the commands).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from giqa_harness.boxes.formats.grid import GridFormat

QUALITY = "degraded"  # the quality word of every stand-in tag; VQA pairs must mention it (keyword check)
DEMO_RECORDS = 8

_GRID = GridFormat()


def truth_annotators(des_records: list[dict[str, Any]], images_dir: Path) -> tuple[Any, Any, dict[str, list[str]]]:
    """An LLM and a detector that answer with each bench record's true objects and regions, and the
    objects (plain description -> grounded phrases) they answer with."""
    from PIL import Image

    from giqa_harness.testing.scripted import (
        ScriptedDetector, ScriptedLLM, image_key, is_tag_prompt, prompt_description,
    )

    objects: dict[str, list[str]] = {}
    regions: dict[str, dict[str, list[list[float]]]] = {}
    for record in des_records:
        parsed = _GRID.parse(record["answer"], tuple(record["image_size"]))
        objects[parsed.plain] = [g.phrase for g in parsed.groundings]
        with Image.open(images_dir / record["image"]) as im:
            regions[image_key(im)] = {g.phrase.lower(): [list(b.as_tuple()) + [0.9] for b in g.boxes]
                                      for g in parsed.groundings}

    def reply(prompt: str) -> str:
        phrases = objects[_GRID.parse(prompt_description(prompt), (1, 1)).plain]
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


def demo_records(n: int = DEMO_RECORDS) -> tuple[Path, list[dict[str, Any]]]:
    """The bench folder and its first ``n`` DES records that hold boxes."""
    from giqa_harness.synth import ensure_bench

    folder = ensure_bench()
    records = [json.loads(line) for line in (folder / "data.jsonl").read_text(encoding="utf-8").splitlines()]
    return folder, [r for r in records if r["kind"] == "des" and "](<" in r["answer"]][:n]


def write_descriptions(path: Path, records: list[dict[str, Any]]) -> Path:
    """The records as annotate's input: ``{"id", "image", "description"}`` with the markup taken out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({
        "id": r["id"], "image": r["image"], "description": _GRID.parse(r["answer"], tuple(r["image_size"])).plain,
    }) + "\n" for r in records), encoding="utf-8")
    return path


def run_demo(output: Path, n: int = DEMO_RECORDS, progress: bool = True) -> dict[str, Any]:
    """Annotate ``n`` bench images into ``output``; the stats, plus how many fused descriptions came
    back equal to the bench's references (all of them, with truthful stand-ins)."""
    from .pipeline import AnnotateConfig, annotate

    folder, records = demo_records(n)
    descriptions = write_descriptions(output / "demo_inputs" / "descriptions.jsonl", records)
    llm, detector, _ = truth_annotators(records, folder)
    config = AnnotateConfig(images_dir=folder, descriptions=descriptions, output=output, llm="demo:truth",
                            detector="demo:truth", seed=0, progress=progress)
    stats = annotate(config, llm=llm, detector=detector)
    conversations = json.loads((output / "conversations.json").read_text(encoding="utf-8"))
    fused = {c["id"].removesuffix("_des"): c["conversations"][1]["value"] for c in conversations if c["kind"] == "des"}
    stats["demo"] = {"images_dir": str(folder), "records": len(records),
                     "fused_equal_to_reference": sum(fused.get(r["id"]) == r["answer"] for r in records)}
    return stats
