"""``full_prompt`` in every sample row: what the adapter says it sent, kept through the response cache
and rescoring; the contract's defaults; and the ids-to-text decoding the transformers adapters use."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.boxes.formats import get_format
from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.hookspecs import hookimpl
from giqa_harness.model_adapters.prompt_text import decode_prompt
from giqa_harness.models import ModelAdapter, Request


class EchoAdapter(ModelAdapter):
    """Says it sent ``SENT|question``; rendering without generating gives ``RENDERED|question``."""

    name = "echo"

    def __init__(self, broken_render: bool = False):
        self.box_format = get_format("giqa_grid")
        self.model_args = {}
        self.broken_render = broken_render
        self.generated = 0

    def generate(self, requests):
        self.generated += len(requests)
        self.record_prompts(requests, [f"SENT|{r.question}" for r in requests])
        return ["Yes." for _ in requests]

    def render_prompts(self, requests):
        if self.broken_render:
            raise RuntimeError("no tokenizer")
        return [f"RENDERED|{r.question}" for r in requests]


class _EchoPlugin:
    @hookimpl
    def register_models(self, register):
        register(EchoAdapter)


def rows(folder, task):
    return [json.loads(line) for line in (folder / f"samples_{task}.jsonl").read_text().splitlines()]


def run(task, out, adapter, **extra):
    return evaluate(RunConfig(model="echo", tasks=[task], batch_size=4, output_path=out, log_samples=True,
                              progress=False, bootstrap=0, **extra), adapter=adapter)


def test_rows_hold_what_was_sent_and_a_cached_rerun_shows_the_same(tmp_path, tiny_task, plugin):
    plugin(_EchoPlugin(), name="echo")
    task = tiny_task()
    run(task, tmp_path / "o", EchoAdapter())
    first = {r["doc_id"]: r["full_prompt"] for r in rows(tmp_path / "o", task)}
    assert first["y1"] == "SENT|Is the [sky](<0, 59>) over-exposed?" and len(first) == 6
    again = EchoAdapter()
    results = run(task, tmp_path / "o", again)
    assert again.generated == 0 and results["results"][task]["cache"]["reused"] == 6
    assert {r["doc_id"]: r["full_prompt"] for r in rows(tmp_path / "o", task)} == first  # from the cache


def test_rescoring_keeps_the_full_prompts(tmp_path, tiny_task, plugin):
    from giqa_harness.rescore import rescore_run

    plugin(_EchoPlugin(), name="echo")
    task = tiny_task()
    run(task, tmp_path / "o", EchoAdapter())
    rescore_run(tmp_path / "o", output=tmp_path / "r")
    assert [r["full_prompt"] for r in rows(tmp_path / "r", task)] == [r["full_prompt"] for r in rows(tmp_path / "o", task)]


def test_a_prompt_that_cannot_be_rendered_costs_the_sample_nothing(tmp_path, tiny_task, plugin):
    plugin(_EchoPlugin(), name="echo")
    task = tiny_task()

    class ForgetsToRecord(EchoAdapter):
        def generate(self, requests):
            return ["Yes." for _ in requests]

    results = run(task, tmp_path / "o", ForgetsToRecord(broken_render=True), use_cache=False)
    assert results["results"][task]["n_failed"] == 0
    assert {r["full_prompt"] for r in rows(tmp_path / "o", task)} == {
        "(full prompt unavailable: RuntimeError: no tokenizer)"}


def test_an_adapter_that_cannot_say_leaves_the_field_empty(tmp_path, tiny_task):
    task = tiny_task()
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"doc_id": "d1", "answer": "Fine."}) + "\n")
    evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], output_path=tmp_path / "o",
                       log_samples=True, progress=False, bootstrap=0))
    assert {r["full_prompt"] for r in rows(tmp_path / "o", task)} == {None}


def test_full_prompts_hand_back_recorded_text_once_then_render():
    from PIL import Image

    adapter = EchoAdapter()
    requests = [Request(doc_id=str(i), task="t", question=f"q{i}", image=Image.new("RGB", (4, 4)), image_size=(4, 4))
                for i in range(3)]
    adapter.generate(requests[:2])
    assert adapter.full_prompts(requests) == ["SENT|q0", "SENT|q1", "RENDERED|q2"]
    assert adapter.full_prompts(requests[:1]) == ["RENDERED|q0"]  # handed back once, not kept


class CharTokenizer:
    """One id per character (ids are code points), enough to check the decoding rules."""

    def decode(self, ids, skip_special_tokens=False):
        return "".join(chr(i) for i in ids)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([ord("a"), ord(" "), -200, 9000]), max_size=30))
def test_each_run_of_a_placeholder_id_is_shown_once_and_other_text_unchanged(ids):
    markers = {-200: "<|image|>", 9000: "<image>"}
    text = decode_prompt(CharTokenizer(), ids, markers)
    expected, previous = "", None
    for token in ids:
        if token in markers:
            expected += markers[token] if token != previous else ""
        else:
            expected += chr(token)
        previous = token
    assert text == expected


@pytest.mark.parametrize("ids, text", [([97, 9000, 9000, 9000, 98], "a<image>b"), ([-200, 97], "<|image|>a")])
def test_decoding_examples(ids, text):
    assert decode_prompt(CharTokenizer(), ids, {-200: "<|image|>", 9000: "<image>"}) == text
