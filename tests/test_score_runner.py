"""Score and multiple-choice tasks run end to end: likelihood or generation, labelled; failures counted;
choice scores cached; a tiny LLaVA gives identical results at batch 1 and 8; classical beats chance."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest
from PIL import Image

from giqa_harness.boxes.formats import get_format
from giqa_harness.errors import ConfigError, EndpointUnreachableError
from giqa_harness.evaluator import Evaluator, RunConfig, evaluate
from giqa_harness.models import ChoiceRequest, ModelAdapter, Request
from giqa_harness.testing.bench import task_plugin

BRIGHTNESS = [30, 60, 90, 120, 150, 180]


def _brightness(request: Request) -> float:
    return float(np.asarray(request.image).mean())


class Words(ModelAdapter):
    """Generation only: brighter images are "better"; image 0 gets an answer with no level in it."""

    name = "score_words"

    def __init__(self) -> None:
        self.box_format = get_format("giqa_grid")

    def generate(self, requests: Sequence[Request]) -> list[str]:
        words = ["bad", "poor", "fair", "good", "excellent"]
        return ["I cannot tell." if _brightness(r) < 40 else f"It is {words[min(4, int((_brightness(r) - 40) // 30))]}."
                for r in requests]


class Likely(Words):
    """Also scores choices: the log-probability of level k grows with brightness (fails on one doc)."""

    name = "score_likely"
    calls = 0

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        type(self).calls += len(requests)
        out = []
        for choice in requests:
            if choice.request.doc_id == "img_3.png":
                raise RuntimeError("out of memory")
            b = _brightness(choice.request) / 255
            n = len(choice.candidates)
            out.append([-abs((n - 1 - k) / (n - 1) - b) * 10 for k in range(n)])
        return out


@pytest.fixture
def score_task(tmp_path, plugin):
    """A KADID-10k-layout folder of six grey images (MOS rising with brightness) and tasks reading it."""
    data = tmp_path / "kadid"
    (data / "images").mkdir(parents=True)
    rows = ["dist_img,ref_img,dmos,var"]
    for i, value in enumerate(BRIGHTNESS):
        Image.new("RGB", (16, 12), (value, value, value)).save(data / "images" / f"img_{i}.png")
        rows.append(f"img_{i}.png,ref.png,{1 + i * 0.7:.2f},0.1")
    (data / "dmos.csv").write_text("\n".join(rows) + "\n")
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    for name, method in (("tiny_score", "auto"), ("tiny_score_likelihood", "likelihood")):
        (tasks / f"{name}.yaml").write_text(
            f"task: {name}\nversion: 1\ndataset: {{path: {data}}}\nscoring: {{kind: level, loader: kadid10k, "
            f"method: {method}, plcc_logistic: true}}\n")
    plugin(task_plugin(tasks), name="score_tasks")
    return tmp_path


def _run(adapter: ModelAdapter, task: str, **config: Any) -> dict[str, Any]:
    return Evaluator(RunConfig(model=adapter.name, tasks=[task], progress=False, bootstrap=50, **config),
                     adapter=adapter).run()["results"][task]


def test_without_choice_scoring_the_task_is_answered_by_generation_and_says_so(score_task):
    result = _run(Words(), "tiny_score")
    assert result["scoring"]["method_used"] == "generated"
    assert result["metrics"]["srcc"]["label"] == "SRCC (generated)"
    # the unreadable answer is a counted failure, not a score: 5 pairs, rising with the MOS
    assert result["n_failed"] == 1 and result["unreadable"] == 1 and result["metrics"]["srcc"]["n"] == 5
    assert result["metrics"]["srcc"]["value"] == pytest.approx(1.0)
    coverage = result["metrics"]["srcc"]["coverage"]
    assert (coverage["applicable"], coverage["scored"], coverage["failed_metric"]) == (6, 5, 1)
    assert not coverage["complete"] and result["metrics"]["srcc"]["notes"][0]["kind"] == "incomplete"
    assert "plcc_logistic" in result["metrics"]
    assert set(result["timings"]) == {"prepare_s", "generate_s", "score_s"}  # as a grounding task's


class Unreachable(Words):
    """An endpoint that cannot be reached: its client's breaker has tripped."""

    name = "score_unreachable"
    calls = 0

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        type(self).calls += 1
        raise EndpointUnreachableError("cannot reach http://127.0.0.1:9/v1: connection refused")


def test_a_dead_endpoint_fails_the_task_once_instead_of_failing_every_request(score_task):
    Unreachable.calls = 0
    result = _run(Unreachable(), "tiny_score", batch_size=2)
    # as a grounding task records it: the task failed, with the cause; no request-by-request retries
    assert "EndpointUnreachableError: cannot reach http://127.0.0.1:9/v1" in result["error"]
    assert Unreachable.calls == 1


def test_asking_for_likelihood_from_a_generation_only_model_is_an_error(score_task):
    with pytest.raises(ConfigError, match="does not score choices; use method: auto"):
        _run(Words(), "tiny_score_likelihood")


def test_likelihood_scores_are_labelled_cached_and_a_failing_request_is_isolated(score_task):
    Likely.calls = 0
    cache = score_task / "cache.sqlite"
    first = _run(Likely(), "tiny_score", cache_path=cache, batch_size=4)
    assert first["scoring"]["method_used"] == "likelihood" and first["metrics"]["srcc"]["label"] == "SRCC (likelihood)"
    assert first["n_failed"] == 1 and "out of memory" in first["failures"][0]["reason"]
    assert first["metrics"]["srcc"]["coverage"]["failed_generation"] == 1
    assert first["metrics"]["srcc"]["value"] == pytest.approx(1.0) and first["metrics"]["srcc"]["n"] == 5
    calls = Likely.calls
    again = _run(Likely(), "tiny_score", cache_path=cache, batch_size=2)
    assert Likely.calls - calls == 2  # only the failed request is asked again (in its batch, then alone)
    assert again["metrics"] == first["metrics"] and again["cache"]["reused"] == 5


def test_multiple_choice_counts_unreadable_answers_as_wrong(tmp_path, plugin):
    data = tmp_path / "qb"
    (data / "images_llvisionqa").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(data / "images_llvisionqa" / "a.png")
    questions = [{"img_path": "a.png", "question": f"Q{i}?", "candidates": ["Yes", "No"], "correct_ans": c,
                  "type": t, "concern": 0} for i, (c, t) in enumerate([("Yes", 0), ("No", 0), ("Yes", 1)])]
    (data / "llvisionqa_dev.json").write_text(json.dumps(questions))
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tiny_mcq.yaml").write_text(
        f"task: tiny_mcq\ndataset: {{path: {data}}}\nscoring: {{kind: mcq, loader: qbench_a1}}\n")
    plugin(task_plugin(tmp_path / "tasks"), name="mcq_tasks")


    class Scripted(Words):
        name = "mcq_scripted"

        def generate(self, requests):
            return [{"Q0": "A.", "Q1": "A", "Q2": "Hmm."}[r.question.split("?")[0]] for r in requests]

    result = _run(Scripted(), "tiny_mcq")
    assert result["metrics"]["accuracy"]["value"] == pytest.approx(1 / 3) and result["metrics"]["accuracy"]["n"] == 3
    assert result["unreadable"] == 1 and result["n_failed"] == 0
    assert result["breakdown"]["type"]["yes-or-no"]["value"] == 0.5 and result["breakdown"]["type"]["what"]["value"] == 0


def test_classical_beats_random_on_giqa_synth_score_with_intervals_apart(tmp_path):
    from giqa_harness.score.baselines import evaluate_score_baselines

    results = evaluate_score_baselines(tmp_path, bootstrap=1000)
    classical = results["classical"]["results"]["giqa_synth_score_generate"]["metrics"]["srcc"]
    chance = results["random"]["results"]["giqa_synth_score_generate"]["metrics"]["srcc"]
    constant = results["constant"]["results"]["giqa_synth_score_generate"]["metrics"]["srcc"]
    assert classical["n"] == chance["n"] == 100
    assert classical["ci95"][0] > chance["ci95"][1]
    assert constant["value"] is None and "constant" in constant["reason"]


@pytest.mark.slow
@pytest.mark.parametrize("task", ["giqa_synth_score", "giqa_synth_score_generate", "giqa_synth_mcq"])
def test_a_tiny_llava_gives_identical_results_at_batch_1_and_8(tmp_path, task):
    from giqa_harness.testing.tiny_models import build_tiny_llava

    checkpoint = build_tiny_llava(tmp_path / "llava")
    runs = []
    for batch in (1, 8):
        out = tmp_path / f"run{batch}"
        evaluate(RunConfig(model="llava", model_args={"pretrained": str(checkpoint)}, tasks=[task], limit=10,
                           batch_size=batch, output_path=out, log_samples=True, progress=False, bootstrap=50,
                           use_cache=False))
        results = json.loads((out / "results.json").read_text())["results"][task]
        rows = [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]
        runs.append((results["metrics"], rows))
    (metrics_1, rows_1), (metrics_8, rows_8) = runs
    assert metrics_1 == metrics_8
    keys = ("log_probs", "answer", "score", "chosen", "failed")
    assert [{k: r.get(k) for k in keys} for r in rows_1] == [{k: r.get(k) for k in keys} for r in rows_8]
    method = "generated" if task.endswith("generate") else "likelihood"
    assert all(r["method"] == method for r in rows_1) and len(rows_1) == 10
    if method == "likelihood":
        assert all(len(r["log_probs"]) >= 2 and all(math.isfinite(v) for v in r["log_probs"]) for r in rows_1)


@pytest.mark.parametrize("task", ["giqa_synth_score_generate", "giqa_synth_mcq"])
def test_rescoring_a_logged_run_gives_the_same_numbers_and_the_report_renders_it(tmp_path, task):
    from giqa_harness.report.build import build_report, load_run
    from giqa_harness.rescore import rescore_run

    out = tmp_path / "run"
    live = evaluate(RunConfig(model="classical", tasks=[task], limit=12, output_path=out, log_samples=True,
                              progress=False, bootstrap=100))["results"][task]
    again = rescore_run(out, output=tmp_path / "again")["results"][task]
    assert again["metrics"] == live["metrics"] and again["n_failed"] == live["n_failed"]
    html = build_report([load_run(out)])
    assert html.count('class="card"') == 12 and ("MOS " in html or "Reference" in html)
