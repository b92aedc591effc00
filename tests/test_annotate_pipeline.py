"""The annotation pipeline end to end with scripted models: outputs, failure isolation, resumption
(in process and after a real SIGKILL), sharding, and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

from giqa_harness.annotate.pipeline import AnnotateConfig, annotate
from giqa_harness.boxes.formats.grid import GridFormat
from giqa_harness.datasets import record_to_doc
from giqa_harness.distributed import Shard
from giqa_harness.testing.chat_server import unused_port
from giqa_harness.testing.scripted import (
    ScriptedDetector, ScriptedIQA, ScriptedLLM, is_tag_prompt, prompt_description, scripted_plugin,
)

DESCRIPTIONS = {
    "a": "The sky is over-exposed, while the dog on the grass is sharp. The image is fair overall.",
    "b": "The red car is blurry and the road is noisy.",
    "c": "A broken reply comes back for this one.",
    "d": "The tree on the left is dark.",
}
TAGS = {
    "a": [{"T_r": "The sky", "T_q": "over-exposed", "T_e": "negative"},
          {"T_r": "the dog on the grass", "T_q": "sharp", "T_e": "positive"},
          {"T_r": "The image", "T_q": "fair", "T_e": "no impact"}],
    "b": [{"T_r": "The red car", "T_q": "blurry", "T_e": "negative"},
          {"T_r": "the road", "T_q": "noisy", "T_e": "negative"}],
    "d": [{"T_r": "The tree on the left", "T_q": "dark", "T_e": "negative"}],
}
REGIONS = {"*": {
    "the sky": [[0.0, 0.0, 1.0, 0.3, 0.9]],
    # Two boxes: the IQA filter is asked about both and drops the one answered "No".
    "the dog on the grass": [[0.4, 0.5, 0.7, 0.9, 0.8], [0.0, 0.6, 0.1, 0.7, 0.5]],
    "the red car": [[0.1, 0.4, 0.5, 0.8, 0.9]],
    "the road": [[0.0, 0.8, 1.0, 1.0, 0.9]],
    "the tree on the left": [[0.0, 0.1, 0.3, 0.9, 0.9]],
}}
VQA = {
    "a": [{"type": "yes", "object": "The sky", "question": "Is the sky over-exposed?", "answer": "Yes."},
          {"type": "no", "object": "the dog on the grass", "question": "Is the dog on the grass blurry?",
           "answer": "No."},
          {"type": "what", "object": "The sky", "question": "What distortion affects the sky?",
           "answer": "Over-exposure."},
          {"type": "how", "object": "the dog on the grass", "question": "How is the clarity?",
           "answer": "The dog on the grass is sharp."}],
    "b": [{"type": "yes", "object": "The red car", "question": "Is the red car blurry?", "answer": "Yes."},
          {"type": "why", "object": "the road", "question": "Why does the road look poor?",
           "answer": "The road is noisy."},
          {"type": "what", "object": "The red car", "question": "What brand is the red car?", "answer": "A sedan."}],
    "d": [{"type": "no", "object": "The tree on the left", "question": "Is the tree on the left bright?",
           "answer": "No, it is dark."},
          {"type": "what", "object": "The tree on the left", "question": "What is wrong with the tree on the left?",
           "answer": "Under-exposure."}],
}


def reply(prompt: str) -> str:
    """Tag JSON or VQA JSON for the description the prompt carries; invalid JSON for record c."""
    description = prompt_description(prompt)
    if "broken" in description:
        return "I am not able to produce JSON today."
    plain = GridFormat().parse(description, (1, 1)).plain
    key = next(k for k, text in DESCRIPTIONS.items() if text == plain)
    return json.dumps(TAGS[key] if is_tag_prompt(prompt) else VQA[key])


def write_inputs(root: Path) -> tuple[Path, Path]:
    images = root / "images"
    images.mkdir(parents=True)
    rows = []
    for i, (key, text) in enumerate(DESCRIPTIONS.items()):
        Image.new("RGB", (80 + 10 * i, 60), (40 * i, 100, 200)).save(images / f"{key}.png")
        rows.append({"id": key, "image": f"{key}.png", "description": text})
    descriptions = root / "descriptions.jsonl"
    descriptions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return images, descriptions


def iqa_respond(request):
    # The second box of the dog is tiny: the "IQA model" says its quality is not sharp.
    return "No." if request.image.size[0] <= 10 else "Yes, it is."


def config(root: Path, **overrides) -> AnnotateConfig:
    images, descriptions = (root / "images", root / "descriptions.jsonl")
    if not images.exists():
        write_inputs(root)
    values = dict(images_dir=images, descriptions=descriptions, output=root / "out", llm="scripted:test",
                  detector="scripted", iqa_model="scripted_iqa", seed=0, batch_size=2, progress=False)
    values.update(overrides)
    return AnnotateConfig(**values)


def run(root: Path, **overrides):
    llm, detector, iqa = ScriptedLLM(reply), ScriptedDetector(REGIONS), ScriptedIQA(respond=iqa_respond)
    stats = annotate(config(root, **overrides), llm=llm, detector=detector, iqa=iqa)
    return stats, llm, detector, iqa


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_end_to_end_outputs(tmp_path):
    stats, llm, detector, iqa = run(tmp_path)
    out = tmp_path / "out"
    samples = read_jsonl(out / "annotations.jsonl")
    des = {s["id"]: s for s in samples if s["kind"] == "des"}
    assert set(des) == {"a_des", "b_des", "d_des"}
    assert des["a_des"]["answer"] == (
        "[The sky](<0, 139>) is over-exposed, while [the dog on the grass](<208, 374>) is sharp. "
        "The image is fair overall.")
    assert des["a_des"]["groundings"][1] == {"phrase": "the dog on the grass",
                                             "boxes": [[0.425, 0.525, 0.725, 0.925]]}
    # Record c fails alone, at the tag stage, after every attempt; the others go on.
    failures = read_jsonl(out / "failures.jsonl")
    assert [(f["id"], f["stage"]) for f in failures] == [("c", "tags")]
    assert "attempt 3: not valid JSON" in failures[0]["reason"]
    # The IQA model was asked only about the object with two boxes.
    assert [r.question for r in iqa.requests] == ["Is the image quality sharp?"] * 2
    # VQA: one pair dropped (no quality keyword), then balanced to 2 yes/no... see stats.
    assert stats["vqa_before_balancing"] == {"how": 1, "no": 2, "what": 2, "why": 1, "yes": 2}
    vqa = [s for s in samples if s["kind"] != "des"]
    assert sorted(s["qtype"] for s in vqa if s["kind"] == "vqa_yn") == ["no", "no", "yes", "yes"]
    assert sum(s["kind"] == "vqa_w" for s in vqa) == 4
    assert stats["samples"] == {"total": 11, "des": 3, "vqa_yn": 4, "vqa_w": 4}
    assert stats["records"] == {"total": 4, "finished": 3, "failed": 1, "failed_by_stage": {"tags": 1},
                                "ungrounded": 0}
    assert stats["boxes"]["count"] == 5 and sum(stats["box_area_histogram"]["counts"]) == 5
    # Every sample is a valid benchmark record whose boxes the grid parser reads back.
    for row in samples:
        doc = record_to_doc(row, tmp_path / "images", "annotations.jsonl")
        text = doc.answer if row["kind"] == "des" or row["mode"] == "grounding" else doc.question
        parsed = GridFormat().parse(text, (1, 1))
        assert [g.to_json() for g in parsed.groundings] == row["groundings"] and row["groundings"]
    conversations = json.loads((out / "conversations.json").read_text())
    assert len(conversations) == len(samples)
    first = conversations[0]
    assert set(first) == {"id", "image", "kind", "conversations"}
    assert first["conversations"][0] == {"from": "human", "value": f"<image>\n{samples[0]['question']}"}
    assert first["conversations"][1] == {"from": "gpt", "value": samples[0]["answer"]}
    assert json.loads((out / "stats.json").read_text())["samples"]["total"] == 11
    assert (out / "box_area_hist.png").read_bytes()[:4] == b"\x89PNG"
    records = read_jsonl(out / "records.jsonl")
    assert records[0]["outputs"]["refine"]["objects"][1]["iqa_answers"] == ["Yes, it is.", "No."]


def test_a_second_run_recomputes_nothing_and_a_changed_option_only_what_it_affects(tmp_path):
    first, *_ = run(tmp_path)
    second, llm, detector, iqa = run(tmp_path)
    # Only the failed record is asked again (failures are not cached).
    assert [prompt_description(p) for p in llm.prompts] == [DESCRIPTIONS["c"]] * 3
    assert detector.calls == [] and iqa.requests == []
    assert second["stages"]["tags"] == {"reused": 3, "computed": 0, "failed": 1}
    assert (tmp_path / "out" / "annotations.jsonl").read_text()
    assert {k: v for k, v in second.items() if k not in ("stages",)} == {
        k: v for k, v in first.items() if k not in ("stages",)}
    # A new merge threshold reruns refinement (and what follows), never the LLM tags or the detector.
    third, llm, detector, iqa = run(tmp_path, t_cover=0.5)
    assert third["stages"]["refine"]["computed"] == 3 and third["stages"]["detect"]["reused"] == 3
    assert detector.calls == [] and len(iqa.requests) == 2


def test_a_batch_that_raises_costs_only_the_record_that_caused_it(tmp_path):
    class Flaky(ScriptedDetector):
        def detect(self, image, phrases):
            if "the road" in phrases:
                raise RuntimeError("detector crashed")
            return super().detect(image, phrases)

    stats = annotate(config(tmp_path, batch_size=4), llm=ScriptedLLM(reply), detector=Flaky(REGIONS),
                     iqa=ScriptedIQA(respond=iqa_respond))
    failures = {f["id"]: (f["stage"], f["reason"]) for f in read_jsonl(tmp_path / "out" / "failures.jsonl")}
    assert failures["b"] == ("detect", "RuntimeError: detector crashed")
    assert set(failures) == {"b", "c"}
    assert stats["records"]["finished"] == 2


def test_sharded_ranks_split_the_records_and_rank_zero_merges(tmp_path):
    class FakeBarrierShard(Shard):
        def barrier(self):  # both ranks run one after the other in this process
            pass

    llm1 = ScriptedLLM(reply)
    assert annotate(config(tmp_path), llm=llm1, detector=ScriptedDetector(REGIONS),
                    iqa=ScriptedIQA(respond=iqa_respond), shard=FakeBarrierShard(rank=1, world_size=2)) is None
    llm0 = ScriptedLLM(reply)
    stats = annotate(config(tmp_path), llm=llm0, detector=ScriptedDetector(REGIONS),
                     iqa=ScriptedIQA(respond=iqa_respond), shard=FakeBarrierShard(rank=0, world_size=2))
    asked = lambda llm: {prompt_description(p) for p in llm.prompts if is_tag_prompt(p)}  # noqa: E731
    assert asked(llm0) == {DESCRIPTIONS["a"], DESCRIPTIONS["c"]}
    assert asked(llm1) == {DESCRIPTIONS["b"], DESCRIPTIONS["d"]}
    single, *_ = run(tmp_path / "single")
    assert stats["samples"] == single["samples"] and stats["records"] == single["records"]
    merged = read_jsonl(tmp_path / "out" / "annotations.jsonl")
    assert merged == read_jsonl(tmp_path / "single" / "out" / "annotations.jsonl")


def test_command_line_writes_the_training_files(tmp_path, plugin, capsys):
    from giqa_harness.cli import main

    plugin(scripted_plugin(reply), name="scripted_annotate")
    write_inputs(tmp_path)
    code = main(["annotate", str(tmp_path / "images"), str(tmp_path / "descriptions.jsonl"), "-o",
                 str(tmp_path / "out"), "--llm", "scripted:test", "--detector", "scripted",
                 "--detector_args", f"path={_regions_file(tmp_path)}", "--iqa_model", "scripted_iqa",
                 "--iqa_model_args", "answer='Yes, it is clear'", "--no_progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "records: 4 (3 annotated, 1 failed: tags 1, 0 without a box)" in out
    assert (tmp_path / "out" / "conversations.json").is_file()


def test_a_dead_llm_endpoint_stops_annotation_writes_what_it_has_and_exits_non_zero(tmp_path, plugin, capsys):
    from giqa_harness.cli import main

    plugin(scripted_plugin(), name="scripted_annotate")
    write_inputs(tmp_path)
    url = f"http://127.0.0.1:{unused_port()}/v1"
    started = time.perf_counter()
    code = main(["annotate", str(tmp_path / "images"), str(tmp_path / "descriptions.jsonl"), "-o",
                 str(tmp_path / "out"), "--llm", f"openai:m@{url}", "--llm_args", "backoff=0.01",
                 "--detector", "scripted", "--batch_size", "1", "--no_progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith(
        f"giqa-harness annotate: error: cannot reach {url}: connection refused (3 connection attempts in a row failed)")
    assert "4 of 4 records failed" in err[0]
    assert time.perf_counter() - started < 5  # the first record's attempts, not every record's
    failures = read_jsonl(tmp_path / "out" / "failures.jsonl")
    assert [(f["id"], f["stage"]) for f in failures] == [(k, "tags") for k in DESCRIPTIONS]
    assert all("cannot reach" in f["reason"] for f in failures)


def test_command_line_errors_are_actionable(tmp_path, plugin, capsys):
    from giqa_harness.cli import main

    plugin(scripted_plugin(reply), name="scripted_annotate")
    write_inputs(tmp_path)
    base = ["annotate", str(tmp_path / "images"), str(tmp_path / "descriptions.jsonl"), "-o", str(tmp_path / "o"),
            "--llm", "scripted:test"]
    assert main(base + ["--detector", "grounding_din0"]) == 2
    assert "unknown detector 'grounding_din0'. Did you mean: grounding_dino?" in capsys.readouterr().err
    (tmp_path / "descriptions.jsonl").write_text('{"image": "a.png"}\n')
    assert main(base + ["--detector", "scripted"]) == 2
    assert "descriptions.jsonl:1: field 'description' must be a non-empty string" in capsys.readouterr().err


def _regions_file(root: Path) -> Path:
    path = root / "regions.json"
    path.write_text(json.dumps(REGIONS), encoding="utf-8")
    return path


KILLED_RUN = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from giqa_harness.plugins import register_plugin
    from giqa_harness.testing.scripted import prompt_description, scripted_plugin
    from test_annotate_pipeline import reply

    marker = Path({marker!r})

    def hanging_reply(prompt):
        if prompt_description(prompt).startswith("The red car"):
            marker.write_text("asked")
            time.sleep(600)  # killed here, with the tags of record a already committed
        return reply(prompt)

    register_plugin(scripted_plugin(hanging_reply), name="scripted_annotate")
    from giqa_harness.cli import main
    sys.exit(main({argv!r}))
""")


def test_a_killed_run_resumes_without_recomputing(tmp_path, plugin):
    write_inputs(tmp_path)
    regions = _regions_file(tmp_path)
    argv = ["annotate", str(tmp_path / "images"), str(tmp_path / "descriptions.jsonl"), "-o", str(tmp_path / "out"),
            "--llm", "scripted:test", "--detector", "scripted", "--detector_args", f"path={regions}",
            "--iqa_model", "scripted_iqa", "--batch_size", "1", "--no_progress"]
    marker = tmp_path / "marker"
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN.format(tests=str(Path(__file__).parent), marker=str(marker), argv=argv))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"the run ended before it was killed: {proc.communicate()}")
            if time.monotonic() > deadline:
                pytest.fail("the run never reached the second record")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (tmp_path / "out" / "annotations.jsonl").exists()

    asked: list[str] = []

    def counting_reply(prompt):
        asked.append(prompt)
        return reply(prompt)

    plugin(scripted_plugin(counting_reply), name="scripted_annotate")
    from giqa_harness.cli import main

    assert main(argv) == 0
    tag_prompts = [prompt_description(p) for p in asked if is_tag_prompt(p)]
    # Record a's tags survived the kill; b (interrupted), c (three attempts) and d are asked.
    assert tag_prompts == [DESCRIPTIONS["b"], DESCRIPTIONS["c"], DESCRIPTIONS["c"], DESCRIPTIONS["c"],
                           DESCRIPTIONS["d"]]
    assert len(read_jsonl(tmp_path / "out" / "annotations.jsonl")) == 11
