"""GIQA tasks exported for lmms-eval score exactly as giqa-harness does (no lmms-eval needed here:
the test calls the exported functions the way lmms-eval does)."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from giqa_harness.errors import ConfigError
from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.interop import lmms_tasks
from giqa_harness.interop.lmms_tasks import export_lmms_tasks

ANSWERS = {  # llava15 syntax: floats 0-1 on the padded or cropped square
    "d1": "The sky [0.00, 0.00, 1.00, 0.30] is over-exposed and the dog [0.60, 0.70, 0.75, 0.90] is sharp.",
    "d2": "The whole picture is blurry.",
    "y1": "Yes, it is.", "y2": "Yes.", "w1": "Over-exposure on the sky [0.00, 0.00, 1.00, 0.25].", "w2": "Low.",
}


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!function", lambda loader, node: ("function", loader.construct_scalar(node)))


def test_export_writes_an_lmms_task_folder(tmp_path, tiny_task):
    task = tiny_task(metrics=["miou", "acc_y"], name="giqa_small")
    written = export_lmms_tasks(tmp_path / "lmms", [task])
    config = yaml.load(written[0].read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    assert config["task"] == "giqa_small" and config["output_type"] == "generate_until"
    assert config["process_results"] == ("function", "giqa_utils.process_results")
    assert [m["metric"] for m in config["metric_list"]] == ["miou", "acc_y"]
    assert config["lmms_eval_specific_kwargs"]["llava_hf"] == {"box_format": "llava15", "frame": "center_crop",
                                                               "emits_boxes": True}
    rows = [json.loads(x) for x in (tmp_path / "lmms" / "data" / "giqa_small.jsonl").read_text().splitlines()]
    assert [r["doc_id"] for r in rows] == ["d1", "d2", "y1", "y2", "w1", "w2"]
    assert "giqa_harness.interop.lmms_tasks" in (tmp_path / "lmms" / "giqa_utils.py").read_text()


def test_prefix_keeps_builtin_lmms_tasks_from_being_shadowed(tmp_path, tiny_task):
    task = tiny_task(name="small")
    assert export_lmms_tasks(tmp_path / "lmms", [task])[0].name == "giqa_small.yaml"


def test_questions_are_rendered_per_lmms_model_name(tmp_path, tiny_task):
    task = tiny_task(name="giqa_small")
    export_lmms_tasks(tmp_path / "lmms", [task])
    rows = [json.loads(x) for x in (tmp_path / "lmms" / "data" / "giqa_small.jsonl").read_text().splitlines()]
    y1 = next(r for r in rows if r["doc_id"] == "y1")
    kwargs = {"box_format": "llava15", "frame": "pad_square:mean"}
    assert lmms_tasks.doc_to_text(y1, kwargs) == "Is the sky [0.03, 0.14, 0.97, 0.22] over-exposed?"  # cell centres, padded frame
    assert lmms_tasks.doc_to_text(y1, None) == y1["question"]  # unmapped models get the canonical syntax


def test_lmms_scoring_equals_giqa_harness_on_the_same_answers(tmp_path, tiny_task):
    task = tiny_task(name="giqa_small", metrics=["miou", "tag_recall", "bleu4", "acc_y"])
    export_lmms_tasks(tmp_path / "lmms", [task])
    rows = [json.loads(x) for x in (tmp_path / "lmms" / "data" / "giqa_small.jsonl").read_text().splitlines()]
    # What lmms-eval does: doc_to_text, the model, process_results per doc, then each aggregation.
    kwargs = {"box_format": "llava15", "frame": "center_crop", "emits_boxes": True}
    per_metric: dict[str, list] = {}
    for row in rows:
        lmms_tasks.doc_to_text(row, kwargs)
        for metric, payload in lmms_tasks.process_results(row, [ANSWERS[row["doc_id"]]]).items():
            per_metric.setdefault(metric, []).append(json.loads(json.dumps(payload)))
    lmms_values = {m: getattr(lmms_tasks, f"aggregate_{m}")(p) for m, p in per_metric.items()}

    replay = tmp_path / "answers.jsonl"
    replay.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in ANSWERS.items()))
    ours = evaluate(RunConfig(model="replay", tasks=[task], progress=False, bootstrap=0, model_args={
        "path": str(replay), "box_format": "llava15", "frame": "center_crop"}))["results"][task]["metrics"]
    for metric, value in lmms_values.items():
        expected = ours[metric]["value"]
        assert (math.isnan(value) and expected is None) or value == expected, metric
    assert lmms_values["acc_y"] == 0.5 and lmms_values["miou"] > 0


def test_a_score_task_is_refused_rather_than_exported_as_grounding_questions(tmp_path):
    with pytest.raises(ConfigError, match="giqa_synth_score, giqa_synth_mcq: score and multiple-choice tasks"):
        export_lmms_tasks(tmp_path / "lmms", ["giqa_synth_score", "giqa_synth_mcq"])
    assert not (tmp_path / "lmms").exists()  # nothing half-written
