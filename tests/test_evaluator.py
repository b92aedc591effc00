"""The evaluator: batching, caching, failures that lose nothing, outputs."""

from __future__ import annotations

import json

from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.hookspecs import hookimpl
from giqa_harness.metrics.base import Metric
from giqa_harness.models import ModelAdapter


def write_replay(path, answers):
    path.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in answers.items()))
    return path


def test_replay_run_writes_results_and_samples(tmp_path, tiny_task):
    task = tiny_task()
    answers = write_replay(tmp_path / "answers.jsonl", {
        "d1": "The [sky](<0, 59>) is bright.", "d2": "Blurry.", "y1": "Yes", "y2": "No", "w1": "Noise", "w2": "Low",
    })
    out = tmp_path / "run"
    results = evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task],
                                 output_path=out, log_samples=True, progress=False))
    assert results["results"][task]["n_scored"] == 6
    assert results["results"][task]["n_failed"] == 0
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["results"][task]["n_samples"] == 6
    rows = [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]
    assert [r["doc_id"] for r in rows] == ["d1", "d2", "y1", "y2", "w1", "w2"]
    first = rows[0]
    assert first["parsed"]["groundings"][0]["phrase"] == "sky"
    assert first["reference"].startswith("The [sky]")


class FlakyAdapter(ModelAdapter):
    """Raises on one doc: the evaluator must isolate it and lose nothing else."""

    name = "flaky"

    def __init__(self, bad="y2", api_key=None):
        from giqa_harness.boxes.formats import get_format

        self.box_format = get_format("giqa_grid")
        self.bad = bad
        self.model_args = {"bad": bad, "api_key": api_key}
        self.calls = []

    def generate(self, requests):
        self.calls.append([r.doc_id for r in requests])
        if any(r.doc_id == self.bad for r in requests):
            raise RuntimeError(f"cannot answer {self.bad}")
        return [f"Yes, the [sky](<0, 59>) for {r.doc_id}" for r in requests]


class _FlakyPlugin:
    @hookimpl
    def register_models(self, register):
        register(FlakyAdapter)


def test_model_error_fails_only_that_sample_and_is_reported(tmp_path, tiny_task, plugin):
    plugin(_FlakyPlugin(), name="flaky")
    task = tiny_task()
    adapter = FlakyAdapter()
    results = evaluate(RunConfig(model="flaky", tasks=[task], batch_size=4, output_path=tmp_path / "o",
                                 progress=False), adapter=adapter)
    res = results["results"][task]
    assert res["n_failed"] == 1 and res["n_scored"] == 5
    assert res["failures"] == [{"doc_id": "y2", "reason": "model error: RuntimeError: cannot answer y2"}]
    # The batch holding the bad doc was retried one request at a time.
    assert ["d1", "d2", "y1", "y2"] in adapter.calls and ["y1"] in adapter.calls


def test_missing_and_unreadable_images_are_recorded_not_fatal(tmp_path, tiny_task):
    from giqa_harness.testing.bench import default_records

    records = default_records()
    records[0] = {**records[0], "image": "images/missing.png"}
    records[1] = {**records[1], "image": "images/broken.png"}
    task = tiny_task(records=records)
    (tmp_path / f"data_{task}" / "images" / "missing.png").unlink()
    (tmp_path / f"data_{task}" / "images" / "broken.png").write_bytes(b"not a png")
    answers = write_replay(tmp_path / "a.jsonl", {r["id"]: "Yes" for r in records})
    res = evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task],
                             progress=False))["results"][task]
    reasons = {f["doc_id"]: f["reason"] for f in res["failures"]}
    assert set(reasons) == {"d1", "d2"}
    assert "missing.png" in reasons["d1"] and "FileNotFoundError" in reasons["d1"]
    assert "broken.png" in reasons["d2"] and "UnidentifiedImageError" in reasons["d2"]
    assert res["n_scored"] == 4


def test_results_do_not_depend_on_batch_size(tmp_path, tiny_task):
    task = tiny_task()
    answers = write_replay(tmp_path / "a.jsonl", {i: "Yes, the [sky](<0, 59>)." for i in
                                                   ["d1", "d2", "y1", "y2", "w1", "w2"]})
    outs = []
    for bs in (1, 4):
        out = tmp_path / f"bs{bs}"
        evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], batch_size=bs,
                           output_path=out, log_samples=True, progress=False))
        outs.append((out / f"samples_{task}.jsonl").read_text())
    assert outs[0] == outs[1]


def test_secrets_never_reach_results(tmp_path, tiny_task, plugin):
    plugin(_FlakyPlugin(), name="flaky")
    task = tiny_task()
    evaluate(RunConfig(model="flaky", model_args={"bad": "none", "api_key": "sk-SECRET123"}, tasks=[task],
                       output_path=tmp_path / "o", log_samples=True, progress=False))
    for file in (tmp_path / "o").iterdir():
        if file.suffix in (".json", ".jsonl"):
            assert "sk-SECRET123" not in file.read_text(), file


def test_questions_are_rerendered_in_the_model_syntax(tmp_path, tiny_task, plugin):
    """The echo of a referring question shows the box as the model's own format would write it."""
    plugin(_FlakyPlugin(), name="flaky")
    task = tiny_task()
    adapter = FlakyAdapter(bad="none")
    seen = []
    original = adapter.generate
    adapter.generate = lambda reqs: (seen.extend(reqs), original(reqs))[1]
    evaluate(RunConfig(model="flaky", tasks=[task], progress=False), adapter=adapter)
    y1 = next(r for r in seen if r.doc_id == "y1")
    assert y1.question == "Is the [sky](<0, 59>) over-exposed?"  # giqa_grid renders itself unchanged
    assert y1.referring[0].phrase == "sky" and y1.image_size == (64, 48)


def test_outputs_are_written_with_the_usual_permissions(tmp_path):
    import os
    import stat

    from giqa_harness.output import atomic_write_json

    atomic_write_json(tmp_path / "r.json", {"a": 1})
    mode = stat.S_IMODE(os.stat(tmp_path / "r.json").st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    assert not list(tmp_path.glob(".r.json.*.tmp"))  # no temporary file left behind


def test_a_negative_limit_is_refused_not_read_as_all_but_the_last(tmp_path, tiny_task):
    import pytest

    from giqa_harness.errors import ConfigError

    task = tiny_task()
    answers = write_replay(tmp_path / "a.jsonl", {"d1": "Yes"})
    with pytest.raises(ConfigError, match="--limit"):
        evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], limit=-1,
                           progress=False))


def test_redaction_hides_secrets_but_keeps_settings_that_merely_mention_tokens():
    """``max_new_tokens`` and ``tokenizer`` change answers and must stay readable in results.json;
    ``api_key_env`` names a variable (not its value), which a rescore needs to rebuild the judge."""
    from giqa_harness.output import redact

    secrets = {"api_key": "a", "hf_token": "b", "token": "c", "auth-token": "d", "password": "e",
               "client_secret": "f", "Authorization": "g"}
    settings = {"max_new_tokens": 512, "tokenizer": "gpt2", "num_tokens": 3, "api_key_env": "MY_KEY"}
    assert redact({**secrets, **settings}) == {**{k: "***" for k in secrets}, **settings}


def test_the_cache_never_hands_one_datasets_answers_to_another(tmp_path, tiny_task, plugin):
    """Same task name, version and doc ids over other images (GIQA_BENCH_DIR pointed elsewhere, another
    synth seed): the answers are generated again; the same data again reuses every one."""
    import shutil

    from giqa_harness.testing.bench import write_task

    plugin(_FlakyPlugin(), name="flaky")
    task = tiny_task()
    other = shutil.copytree(tmp_path / f"data_{task}", tmp_path / "other_data")
    out = tmp_path / "o"

    def run():
        adapter = FlakyAdapter(bad="none")
        evaluate(RunConfig(model="flaky", tasks=[task], output_path=out, progress=False), adapter=adapter)
        return sorted(doc for batch in adapter.calls for doc in batch)

    first = run()
    write_task(tmp_path / f"tasks_{task}", task, other)
    assert run() == first
    assert run() == []


def test_only_rank_zero_of_a_data_parallel_run_builds_the_judge(tmp_path, tiny_task, plugin):
    """Only rank 0 scores; a judge on every rank (an hf: judge is a whole LLM per GPU) is wasted memory."""
    from types import SimpleNamespace

    from giqa_harness.distributed import Shard
    from giqa_harness.evaluator import Evaluator

    from giqa_harness.llm.base import LLMBackend

    built = []

    class CountingJudge(LLMBackend):
        def __init__(self, spec):
            super().__init__(spec)
            built.append(spec)

        def complete(self, prompts, system=None, **generation):
            return ["Score: 3"] * len(prompts)

    @hookimpl
    def register_judges(register):
        register("counting", lambda rest, **options: CountingJudge(f"counting:{rest}"))

    plugin(SimpleNamespace(register_judges=register_judges), name="counting_judge")
    plugin(_FlakyPlugin(), name="flaky")
    task = tiny_task()
    config = RunConfig(model="flaky", tasks=[task], output_path=tmp_path / "o", judge="counting:j", progress=False)
    assert Evaluator(config, FlakyAdapter(), shard=Shard(rank=1, world_size=2)).judge is None
    assert built == []
    Evaluator(config, FlakyAdapter(), shard=Shard(rank=0, world_size=2))
    assert built == ["counting:j"]


def test_an_unknown_metric_stops_the_run_before_any_generation_and_names_the_task_file(tmp_path, tiny_task,
                                                                                      plugin):
    import pytest

    from giqa_harness.errors import TaskError

    plugin(_FlakyPlugin(), name="flaky")
    task = tiny_task(metrics=["mioux"])
    adapter = FlakyAdapter(bad="none")
    with pytest.raises(TaskError, match=rf"{task}\.yaml.*unknown metric 'mioux'.*miou"):
        evaluate(RunConfig(model="flaky", tasks=[task], progress=False), adapter=adapter)
    assert adapter.calls == []


def test_a_none_answer_is_a_failed_sample_not_the_text_None(tmp_path, tiny_task, plugin):
    """An adapter that signals a failed request with None: the sample fails (and a rerun asks again);
    the string "None" is never cached or scored as the model's answer."""
    plugin(_FlakyPlugin(), name="flaky")
    task = tiny_task()

    class NoneOnY2(FlakyAdapter):
        def generate(self, requests):
            self.calls.append([r.doc_id for r in requests])
            return [None if r.doc_id == "y2" else "Yes." for r in requests]

    out = tmp_path / "o"
    for _ in range(2):
        adapter = NoneOnY2()
        res = evaluate(RunConfig(model="flaky", tasks=[task], batch_size=3, output_path=out, log_samples=True,
                                 progress=False), adapter=adapter)["results"][task]
        assert res["n_failed"] == 1 and res["failures"][0]["doc_id"] == "y2"
        assert "None" in res["failures"][0]["reason"]
    assert adapter.calls == [["y2"], ["y2"]]  # the rerun asked only for the failed sample (batch, then alone)


def test_a_rotated_api_key_does_not_invalidate_the_cache(tmp_path, tiny_task, plugin):
    """The default identity leaves secrets out (as it promises): a new key changes no answer, so a rerun
    with it regenerates nothing, and the key's value is in no key material at all."""
    plugin(_FlakyPlugin(), name="flaky")
    task = tiny_task()
    out = tmp_path / "o"
    first = FlakyAdapter(bad="none", api_key="sk-OLD")
    assert "sk-OLD" not in json.dumps(first.identity())
    evaluate(RunConfig(model="flaky", tasks=[task], output_path=out, progress=False), adapter=first)
    again = FlakyAdapter(bad="none", api_key="sk-NEW")
    evaluate(RunConfig(model="flaky", tasks=[task], output_path=out, progress=False), adapter=again)
    assert first.calls and again.calls == []


def test_a_misspelt_metric_option_fails_before_any_generation(tmp_path, tiny_task):
    import pytest

    from giqa_harness.errors import TaskError

    task = tiny_task(extra="", metrics=[])
    yaml_path = tmp_path / f"tasks_{task}" / f"{task}.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("metrics: []", "metrics: [{name: bleu4, options: {tokeniser: ptb}}]"))
    answers = write_replay(tmp_path / "a.jsonl", {})  # no answers: scoring would never be reached
    with pytest.raises(TaskError, match=r"tiny\.yaml: .*unknown option\(s\) \['tokeniser'\]"):
        evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], progress=False))


def test_replay_refuses_an_emits_boxes_value_that_is_not_a_boolean(tmp_path):
    import pytest

    from giqa_harness.errors import ConfigError
    from giqa_harness.evaluator import build_adapter

    answers = write_replay(tmp_path / "a.jsonl", {"d1": "Yes"})
    with pytest.raises(ConfigError, match="'emits_boxes' must be true or false, got 'false'"):
        build_adapter("replay", {"path": str(answers), "emits_boxes": "false"})
    assert build_adapter("replay", {"path": str(answers), "emits_boxes": False}).emits_boxes is False


class _CountingAdapter(FlakyAdapter):
    """Counts how often it was built: a model that took minutes to load."""

    name = "counting"
    built = 0

    def __init__(self, **kwargs):
        type(self).built += 1
        super().__init__(bad="none")


class _CountingPlugin:
    @hookimpl
    def register_models(self, register):
        register(_CountingAdapter)


def test_every_tasks_data_is_checked_before_the_model_is_built(tmp_path, tiny_task, plugin):
    import pytest

    from giqa_harness.errors import DatasetError

    plugin(_CountingPlugin(), name="counting")
    good, bad = tiny_task(name="good"), tiny_task(name="bad")
    (tmp_path / "data_bad" / "data.jsonl").unlink()  # the second task's records are missing
    _CountingAdapter.built = 0
    with pytest.raises(DatasetError, match="not found"):
        evaluate(RunConfig(model="counting", tasks=[good, bad], progress=False))
    assert _CountingAdapter.built == 0


class _BrokenMetric(Metric):
    """A metric plugin that crashes while scoring (a bug, or a judge that stopped answering)."""

    name = "broken"
    kinds = ("des",)

    def score(self, samples, context):
        raise RuntimeError("the scorer fell over")

    def aggregate(self, values):
        return None


class _BrokenMetricPlugin:
    @hookimpl
    def register_metrics(self, register):
        register(_BrokenMetric())


def test_a_task_that_fails_mid_run_is_recorded_and_the_finished_tasks_are_written(tmp_path, tiny_task, plugin):
    plugin(_BrokenMetricPlugin(), name="broken_metric")
    first, failing, last = tiny_task(metrics=["acc_y"], name="first"), tiny_task(metrics=["broken"], name="failing"), \
        tiny_task(metrics=["acc_y"], name="last")
    out = tmp_path / "o"
    results = evaluate(RunConfig(model="flaky", tasks=[first, failing, last], output_path=out, log_samples=True,
                                 progress=False), adapter=FlakyAdapter(bad="none"))
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["results"][first]["metrics"]["acc_y"]["value"] == 0.5
    assert on_disk["results"][last]["metrics"]["acc_y"]["value"] == 0.5  # the run went on
    assert on_disk["results"][failing]["error"] == "RuntimeError: the scorer fell over"
    assert on_disk["results"][failing]["metrics"] == {}
    assert (out / f"samples_{first}.jsonl").is_file() and not (out / f"samples_{failing}.jsonl").exists()
    assert on_disk["problems"] == results["problems"] == [
        {"task": failing, "metric": None, "problem": "task failed: RuntimeError: the scorer fell over"}]


NO_SCORE_REASON = ("no single 0-4 score in the judge's reply after 3 attempt(s) (the last one held no number); "
          "last reply: 'I cannot tell.'")


def test_partly_failed_answers_and_judgements_are_counted_in_results_json(tmp_path, tiny_task, plugin):
    from giqa_harness.testing.faults import faulty_run

    task, out, _ = faulty_run(tmp_path, tiny_task, plugin, missing=["d2"], unjudged=["w1"])
    metrics = json.loads((out / "results.json").read_text())["results"][task]["metrics"]
    # d2 never got an answer: every DES metric applies to it and did not score it.
    for name in ("miou", "tag_recall", "bleu4", "llm_score"):
        cov = metrics[name]["coverage"]
        assert cov["failed_generation"] == 1 and not cov["complete"], name
        assert "no answer for task" in cov["causes"][0]["reason"]
    assert metrics["miou"]["coverage"]["applicable"] == 3  # d1, d2 and w1 have reference boxes
    acc_w = metrics["acc_w"]
    assert acc_w["value"] == 0.75 and acc_w["coverage"] == {
        "applicable": 2, "scored": 1, "failed": 1, "complete": False, "failed_generation": 0, "failed_metric": 1,
        "causes": [{"stage": "metric", "count": 1, "reason": NO_SCORE_REASON}]}
    assert acc_w["notes"] == [{"kind": "incomplete", "text": f"1 of 2 failed: 1 in the metric ({NO_SCORE_REASON})"}]
    assert metrics["acc_y"]["coverage"]["complete"] and metrics["acc_y"]["notes"] == []
    assert metrics["acc_total"]["value"] is None  # never Acc(Y) with part of the W half


def test_out_of_range_boxes_are_counted_in_boxes_dropped_by_parser(tmp_path, tiny_task):
    task = tiny_task()
    answers = write_replay(tmp_path / "answers.jsonl", {
        "d1": "The sky [500, 600, 1700, 800] is bright.", "d2": "The dog [100, 100, 200, 200] is sharp.",
        "y1": "Yes", "y2": "No", "w1": "Noise", "w2": "Low",
    })
    results = evaluate(RunConfig(model="replay", model_args={"path": str(answers), "box_format": "ferret"},
                                 tasks=[task], progress=False))
    assert results["results"][task]["boxes_dropped_by_parser"] == 1
