"""Re-scoring a logged run without any model gives the run's own numbers; logs turn back into replays."""

from __future__ import annotations

import json

from giqa_harness.cli import main
from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.rescore import log_to_replay, rescore_run

ANSWERS = {"d1": "The [sky](<0, 59>) is over-exposed and the [dog](<250, 293>) is sharp.",
           "d2": "It is blurry, mostly the [car](<121, 187>).", "y1": "Yes.", "y2": "Yes, it is sharp.",
           "w1": "Over-exposure of the [sky](<0, 39>).", "w2": "Low."}
METRICS = ["miou", "tag_recall", "bleu4", "acc_y"]


def logged_run(tmp_path, tiny_task):
    task = tiny_task(metrics=METRICS)
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in ANSWERS.items()))
    out = tmp_path / "run"
    results = evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], output_path=out,
                                 log_samples=True, progress=False, bootstrap=200))
    return task, out, results


def test_rescore_reproduces_every_metric_without_a_model(tmp_path, tiny_task):
    task, out, original = logged_run(tmp_path, tiny_task)
    rescored = rescore_run(out, output=tmp_path / "rescored")
    assert rescored["results"][task]["metrics"] == original["results"][task]["metrics"]
    assert (tmp_path / "rescored" / f"samples_{task}.jsonl").read_text() == \
        (out / f"samples_{task}.jsonl").read_text()


def test_logs_turn_back_into_a_replay_file_that_gives_the_same_results(tmp_path, tiny_task):
    task, out, original = logged_run(tmp_path, tiny_task)
    replay = tmp_path / "replayed.jsonl"
    assert log_to_replay(out, replay) == (6, 0)
    again = evaluate(RunConfig(model="replay", model_args={"path": str(replay)}, tasks=[task], progress=False,
                               bootstrap=200))
    assert again["results"][task]["metrics"] == original["results"][task]["metrics"]


def test_likelihood_rows_stay_out_of_a_replay_and_the_command_names_the_declared_format(tmp_path, tiny_task,
                                                                                        capsys):
    task, out, _ = logged_run(tmp_path, tiny_task)
    # a multiple-choice log answered by likelihood: its "answer" only summarizes the log-probabilities
    summary = {"task": "mcq", "doc_id": "q1", "method": "likelihood", "answer": "B (A -2.30, B -0.10)",
               "log_probs": [-2.3, -0.1]}
    (out / "samples_mcq.jsonl").write_text(json.dumps(summary) + "\n")
    replay = tmp_path / "replayed.jsonl"
    assert main(["rescore", str(out), "--to_replay", str(replay)]) == 0
    printed = capsys.readouterr().out
    assert f"path={replay},box_format=giqa_grid)" in printed
    assert "left out 1 answers given by choice likelihood" in printed
    assert all(json.loads(line)["task"] == task for line in replay.read_text().splitlines())


def test_rescore_command_prints_the_table(tmp_path, tiny_task, capsys):
    task, out, _ = logged_run(tmp_path, tiny_task)
    assert main(["rescore", str(out), "--output_path", str(tmp_path / "r2")]) == 0
    assert f"{task}  (6 of 6 docs answered, 0 failed)" in capsys.readouterr().out


def test_rescore_keeps_the_runs_judge_and_reuses_its_replies(tmp_path, tiny_task, plugin):
    """Without --judge, a rescore scores judged metrics with the run's own judge (not 'not computed'),
    from the replies the run already cached, and records the judge arguments it used (a redacted secret
    cannot be reused: the judge reads it from its environment again)."""
    from types import SimpleNamespace

    from giqa_harness.hookspecs import hookimpl
    from giqa_harness.llm.base import LLMBackend

    asked = []

    class CountingJudge(LLMBackend):
        def complete(self, prompts, system=None, **generation):
            asked.extend(prompts)
            return ["Score: 3"] * len(prompts)

    @hookimpl
    def register_judges(register):
        register("counting", lambda rest, **options: CountingJudge(f"counting:{rest}"))

    plugin(SimpleNamespace(register_judges=register_judges), name="counting_judge")
    task = tiny_task(metrics=["llm_score", "acc_w", "acc_y"])
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in ANSWERS.items()))
    out = tmp_path / "run"
    original = evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], output_path=out,
                                  log_samples=True, progress=False, bootstrap=200, judge="counting:j",
                                  judge_args={"api_key": "sk-secret", "temperature": 0}))
    assert original["results"][task]["metrics"]["llm_score"]["value"] is not None
    n_asked = len(asked)
    rescored = rescore_run(out, output=tmp_path / "rescored")
    assert rescored["results"][task]["metrics"] == original["results"][task]["metrics"]
    assert len(asked) == n_asked
    assert rescored["config"]["judge"] == "counting:j"
    assert rescored["config"]["judge_args"] == {"temperature": 0}
    assert "sk-secret" not in (tmp_path / "rescored" / "results.json").read_text()


def test_rescore_gives_the_coverage_of_the_live_run(tmp_path, tiny_task, plugin):
    from giqa_harness.testing.faults import faulty_run

    task, out, live = faulty_run(tmp_path, tiny_task, plugin, missing=["d2", "y1"], unjudged=["w1"])
    rescored = rescore_run(out, output=tmp_path / "rescored")
    assert rescored["results"][task]["metrics"] == live["results"][task]["metrics"]
    assert rescored["results"][task]["metrics"]["bleu4"]["coverage"]["failed_generation"] == 1
    assert rescored["problems"] == live["problems"]


def test_rescore_keeps_a_task_that_failed_in_the_run(tmp_path, tiny_task):
    task, out, _ = logged_run(tmp_path, tiny_task)
    results = json.loads((out / "results.json").read_text())
    results["results"]["gone"] = {"error": "RuntimeError: boom", "metrics": {}, "n_samples": 2, "n_scored": 0,
                                  "n_failed": 0, "failures": []}
    (out / "results.json").write_text(json.dumps(results))
    rescored = rescore_run(out, output=tmp_path / "rescored")
    assert rescored["results"]["gone"]["error"] == "RuntimeError: boom"
    assert rescored["problems"] == [{"task": "gone", "metric": None, "problem": "task failed: RuntimeError: boom"}]
