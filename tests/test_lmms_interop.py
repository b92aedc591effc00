"""The same answers give the same GIQA metrics through lmms-eval and through giqa-harness, both ways.

Runs only where lmms-eval is installed: it pins packages that conflict with the core environment, so
`scripts/check_lmms_interop.sh` builds its own virtual environment and runs this file there.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lmms_eval", reason="lmms-eval is not installed here; run scripts/check_lmms_interop.sh")

from giqa_harness.testing.bench import write_bench, write_task  # noqa: E402
from giqa_harness.testing.distributions import make_distribution  # noqa: E402

TASK = "giqa_interop_vqa"
METRICS = ["miou", "tag_recall", "acc_y"]

TASK_PLUGIN = """
from pathlib import Path
from giqa_harness.hookspecs import hookimpl

@hookimpl
def register_tasks(register):
    register(Path(__file__).with_name("interop_tasks"))
"""

# An lmms-eval model, registered through lmms-eval's own entry-point group, that answers with boxes in
# the LLaVA-1.5 syntax, so that the compared metrics are not all zero.
SCRIPTED_LMMS_MODEL = """
from lmms_eval.api.model import lmms
from lmms_eval.models.registry_v2 import ModelManifest


class Scripted(lmms):
    is_simple = True

    def __init__(self, **kwargs):
        super().__init__()
        self._rank, self._world_size = 0, 1

    def generate_until(self, requests):
        out = []
        for request in requests:
            context = request.args[0]
            if context.startswith("Is"):
                out.append("Yes, the sky [0.00, 0.00, 1.00, 0.30] is.")
            else:
                out.append("The sky [0.05, 0.00, 0.95, 0.20] is over-exposed.")
        return out

    def generate_until_multi_round(self, requests):
        raise NotImplementedError

    def loglikelihood(self, requests):
        raise NotImplementedError


MANIFEST = ModelManifest(model_id="giqa_scripted", simple_class_path="giqa_scripted_lmms.Scripted")
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("lmms")
    site = root / "site"
    site.mkdir()
    make_distribution(site, "giqa-interop-tasks", TASK_PLUGIN, {"interop": "giqa_interop_tasks"})
    make_distribution(site, "giqa-scripted-lmms", SCRIPTED_LMMS_MODEL, {},
                      other_groups={"lmms_eval.models": {"giqa_scripted": "giqa_scripted_lmms:MANIFEST"}})
    data = write_bench(root / "data")
    write_task(site / "interop_tasks", TASK, data, METRICS,
               extra="filter: {kind: [vqa_yn, vqa_w]}\ngeneration_kwargs: {max_new_tokens: 8, do_sample: false}\n")
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_CACHE": str(root / "hf_datasets")}
    export = root / "exported"
    subprocess.run([sys.executable, "-m", "giqa_harness", "export-lmms-tasks", str(export), "--tasks", TASK,
                    "--model_format", "giqa_scripted=llava15:original"], env=env, check=True, capture_output=True)
    from giqa_harness.testing.tiny_models import build_tiny_llava

    return {"root": root, "site": site, "env": env, "export": export, "tiny": build_tiny_llava(root / "tiny_llava")}


def run_lmms_eval(world, model, model_args, name):
    out = world["root"] / f"lmms_{name}"
    cmd = [sys.executable, "-m", "lmms_eval", "--model", model, "--model_args", model_args, "--tasks", TASK,
           "--include_path", str(world["export"]), "--output_path", str(out), "--log_samples", "--batch_size", "1"]
    done = subprocess.run(cmd, env=world["env"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(next(out.rglob("*_results.json")).read_text())["results"][TASK]
    metrics = {m: results[f"{m},none"] for m in METRICS}
    answers = {}
    for line in next(out.rglob(f"*_samples_{TASK}.jsonl")).read_text().splitlines():
        row = json.loads(line)
        answers[row[METRICS[0]]["doc_id"]] = row[METRICS[0]]["answer"]
    return metrics, answers


def giqa_metrics(world, model, model_args):
    sys.path.insert(0, str(world["site"]))
    try:
        from giqa_harness import plugins
        from giqa_harness.evaluator import RunConfig, evaluate

        plugins._manager, plugins._registry, plugins._infos = None, None, {}
        results = evaluate(RunConfig(model=model, model_args=model_args, tasks=[TASK], bootstrap=0,
                                     progress=False, log_samples=False))
    finally:
        sys.path.remove(str(world["site"]))
    return {m: results["results"][TASK]["metrics"][m]["value"] for m in METRICS}


def replay(world, answers, name):
    path = world["root"] / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in answers.items()))
    return path


def same(lmms_value, giqa_value):
    if giqa_value is None:
        return isinstance(lmms_value, float) and math.isnan(lmms_value) or lmms_value in ("N/A", None)
    return lmms_value == pytest.approx(giqa_value, abs=1e-12)


def test_scripted_model_scores_identically_both_ways(world, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(world["site"]))
    lmms_metrics, answers = run_lmms_eval(world, "giqa_scripted", "x=1", "scripted")
    assert lmms_metrics["acc_y"] == 0.5 and lmms_metrics["miou"] > 0  # a non-trivial comparison
    # Direction 1: lmms-eval ran the model; giqa-harness scores the same answers.
    ours = giqa_metrics(world, "replay", {"path": str(replay(world, answers, "scripted")),
                                          "box_format": "llava15", "frame": "original"})
    assert all(same(lmms_metrics[m], ours[m]) for m in METRICS), (lmms_metrics, ours)
    # Direction 2: giqa-harness runs the lmms-eval model through the `lmms` adapter.
    through_adapter = giqa_metrics(world, "lmms", {"model": "giqa_scripted", "box_format": "llava15",
                                                   "frame": "original"})
    assert through_adapter == ours


def test_tiny_llava_scores_identically_both_ways(world):
    args = f"pretrained={world['tiny']},device=cpu,device_map=cpu,dtype=float32"
    lmms_metrics, answers = run_lmms_eval(world, "llava_hf", args, "llava")
    ours = giqa_metrics(world, "replay", {"path": str(replay(world, answers, "llava")), "box_format": "llava15",
                                          "frame": "center_crop"})
    assert all(same(lmms_metrics[m], ours[m]) for m in METRICS), (lmms_metrics, ours)
    through_adapter = giqa_metrics(world, "lmms", {"model": "llava_hf", "pretrained": str(world["tiny"]),
                                                   "device": "cpu", "device_map": "cpu", "dtype": "float32"})
    assert through_adapter == ours
