"""``--model openai``: an OpenAI-compatible endpoint evaluated end to end against a loopback server."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from PIL import Image

from giqa_harness.cache import ResponseCache
from giqa_harness.errors import ConfigError
from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.testing.chat_server import ChatServer, Reply, unused_port

KEY = "sk-adapter-Q7wR93KEY"
ANSWERS = {  # the served model's answer, by a piece of each question, in the grid syntax
    "Describe": "The [sky](<105, 294>) is over-exposed.",
    "Is the [sky]": "Yes.",
    "sharp?": "No.",
    "What distortion": "Over-exposure on the [sky](<105, 294>).",
    "How is the clarity": "Low.",
}


def vlm(request):
    question = request.last_user_text
    return Reply.chat(next(answer for needle, answer in ANSWERS.items() if needle in question))


def sent_image(request) -> Image.Image:
    part = request.body["messages"][-1]["content"][0]
    header, _, data = part["image_url"]["url"].partition(",")
    assert header == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def run(server, task, out, batch_size=4, **model_args):
    args = {"model": "served-vlm", "base_url": server.base_url, "box_format": "giqa_grid", "backoff": 0.01,
            **model_args}
    return evaluate(RunConfig(model="openai", model_args=args, tasks=[task], output_path=out, log_samples=True,
                              batch_size=batch_size, progress=False))


def test_answers_are_parsed_in_the_declared_format_and_the_key_stays_secret(tmp_path, tiny_task, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    task = tiny_task()
    with ChatServer(vlm) as server:
        results = run(server, task, tmp_path / "run")
    assert results["results"][task]["n_scored"] == 6 and results["results"][task]["n_failed"] == 0
    rows = {r["doc_id"]: r for r in map(json.loads, (tmp_path / "run" / f"samples_{task}.jsonl").read_text().splitlines())}
    # cells 105 and 294 are the centres (0.275, 0.275) and (0.725, 0.725) of the original image
    assert rows["d1"]["parsed"]["groundings"] == [{"phrase": "sky", "boxes": [pytest.approx([0.275, 0.275, 0.725, 0.725])]}]
    assert rows["y1"]["answer"] == "Yes."
    for request in server.requests:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        assert request.body["model"] == "served-vlm" and request.body["temperature"] == 0.0
        assert sent_image(request).size in {(64, 48), (40, 60)}  # the original frame sends the image as is
    for path in (tmp_path / "run").iterdir():
        assert KEY.encode() not in path.read_bytes(), path.name
    assert results["model"]["model_args"]["box_format"] == "giqa_grid"


def test_a_padded_frame_sends_the_padded_image_and_maps_boxes_back(tmp_path, tiny_task):
    task = tiny_task()
    with ChatServer(vlm) as server:
        run(server, task, tmp_path / "run", frame="pad_square:white")
    by_doc = {}
    for request in server.requests:
        by_doc.setdefault(request.last_user_text, sent_image(request))
    describe = next(img for text, img in by_doc.items() if text.startswith("Describe"))
    assert describe.width == describe.height
    assert {describe.getpixel((0, 0)), describe.getpixel((describe.width - 1, describe.height - 1))} <= {(255, 255, 255)}
    referring = [text for text in by_doc if text.startswith("Is the [sky]")]
    assert referring and referring != ["Is the [sky](<0, 59>) over-exposed?"]  # re-rendered for the padded frame
    rows = {r["doc_id"]: r for r in map(json.loads, (tmp_path / "run" / f"samples_{task}.jsonl").read_text().splitlines())}
    # image a is 64x48: padded to 64x64 with 8 rows above, so y = (v * 64 - 8) / 48
    assert rows["d1"]["parsed"]["groundings"][0]["boxes"] == [pytest.approx([0.275, 0.2, 0.725, 0.8])]


def test_a_failing_request_fails_its_sample_only_and_is_not_sent_twice(tmp_path, tiny_task):
    def flaky(request):
        return Reply(500, "model crashed") if "sharp?" in request.last_user_text else vlm(request)

    task = tiny_task()
    with ChatServer(flaky) as server:
        results = run(server, task, tmp_path / "run", batch_size=6, max_retries=2)
    result = results["results"][task]
    assert result["n_failed"] == 1 and result["n_scored"] == 5
    assert result["failures"][0]["doc_id"] == "y2" and "HTTP 500" in result["failures"][0]["reason"]
    asked = [r.last_user_text for r in server.requests]
    assert sum("sharp?" in q for q in asked) == 3  # 1 + max_retries, not again in the isolation pass
    assert len(asked) == 5 + 3


def test_a_model_endpoint_that_is_down_fails_the_task_at_once_with_a_non_zero_exit(tmp_path, tiny_task, capsys):
    from giqa_harness.cli import main

    task = tiny_task()
    url = f"http://127.0.0.1:{unused_port()}/v1"
    started = time.perf_counter()
    code = main(["--model", "openai", "--model_args", f"model=m,base_url={url},box_format=giqa_grid,backoff=0.01",
                 "--tasks", task, "--batch_size", "2", "--output_path", str(tmp_path / "run"), "--no_progress"])
    captured = capsys.readouterr()
    assert code == 1
    cause = f"cannot reach {url}: connection refused (3 connection attempts in a row failed)"
    assert f"{task}  FAILED: EndpointUnreachableError: {cause}" in captured.out
    assert "attempt" not in captured.err  # no retry lines
    assert cause in json.loads((tmp_path / "run" / "results.json").read_text())["results"][task]["error"]
    assert time.perf_counter() - started < 5  # not six samples times six attempts each


def test_task_generation_kwargs_are_mapped_and_model_args_override_them(tmp_path, tiny_task):
    task = tiny_task(extra="generation_kwargs: {max_new_tokens: 7, until: ['###'], do_sample: false}\n")
    with ChatServer(vlm) as server:
        run(server, task, tmp_path / "a")
        body = server.requests[0].body
        assert (body["max_tokens"], body["stop"], body["temperature"]) == (7, ["###"], 0.0)
        run(server, task, tmp_path / "b", max_tokens=20, system="Answer briefly.")
        body = server.requests[-1].body
        assert body["max_tokens"] == 20 and body["messages"][0] == {"role": "system", "content": "Answer briefly."}


def test_box_format_is_required_and_never_guessed():
    from giqa_harness.evaluator import build_adapter

    with pytest.raises(ConfigError, match="box_format=NAME.*giqa_grid"):
        build_adapter("openai", {"model": "m", "base_url": "http://127.0.0.1:1/v1"})
    with pytest.raises(ConfigError, match="needs --model_args model=NAME"):
        build_adapter("openai", {"box_format": "giqa_grid"})


def test_a_family_format_is_rendered_in_questions_and_parsed_in_answers(tmp_path, tiny_task):
    qwen_box = "<|object_ref_start|>sky<|object_ref_end|><|box_start|>(275,275),(725,725)<|box_end|>"

    def qwen(request):
        return Reply.chat(f"The {qwen_box} is over-exposed." if "Describe" in request.last_user_text else "Yes.")

    task = tiny_task()
    with ChatServer(qwen) as server:
        run(server, task, tmp_path / "run", box_format="qwen2_vl")
    questions = {r.last_user_text for r in server.requests}
    referring = next(q for q in questions if q.startswith("Is the"))
    assert "<|box_start|>" in referring and "<0, 59>" not in referring  # the question speaks Qwen's syntax
    rows = {r["doc_id"]: r for r in map(json.loads, (tmp_path / "run" / f"samples_{task}.jsonl").read_text().splitlines())}
    assert rows["d1"]["parsed"]["groundings"] == [{"phrase": "sky", "boxes": [pytest.approx([0.275, 0.275, 0.725, 0.725])]}]


def test_the_full_prompt_is_the_messages_sent_with_each_image_named_by_its_size(tmp_path, tiny_task):
    task = tiny_task()
    with ChatServer(vlm) as server:
        run(server, task, tmp_path / "run", frame="pad_square:white", system="Mark boxes.")
    rows = {r["doc_id"]: r for r in map(json.loads, (tmp_path / "run" / f"samples_{task}.jsonl").read_text().splitlines())}
    assert json.loads(rows["d1"]["full_prompt"]) == [
        {"role": "system", "content": "Mark boxes."},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "<image 64x64 png>"}},
                                     {"type": "text", "text": "Describe and evaluate the quality of the image."}]},
    ]
    assert "base64" not in (tmp_path / "run" / f"samples_{task}.jsonl").read_text()


def test_a_killed_run_keeps_every_answer_already_received_and_asks_only_for_the_rest(tmp_path):
    """The window (64 requests) is larger than the task: before per-request caching, a kill lost all."""
    from giqa_harness.testing.bench import write_bench, write_task

    answered_at_once, total = 3, 6
    write_task(tmp_path / "tasks", "held", write_bench(tmp_path / "data"), metrics=[])
    release = threading.Event()

    def first_answers_then_hold(request):
        if request.number > answered_at_once:
            release.wait(20)  # held until the client is killed
        return vlm(request)

    def cli(server, wait=True):
        args = f"model=served-vlm,base_url={server.base_url},box_format=giqa_grid,concurrency=4,backoff=0.01"
        cmd = [sys.executable, "-m", "giqa_harness", "--model", "openai", "--model_args", args, "--tasks", "held",
               "--include_path", str(tmp_path / "tasks"), "--output_path", str(tmp_path / "run"), "--log_samples"]
        if wait:
            return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60)
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    cache_file = tmp_path / "run" / "cache.sqlite"
    # One server for both runs: its URL is part of the model's identity, hence of every cache key.
    with ChatServer(first_answers_then_hold) as server:
        proc = cli(server, wait=False)
        try:
            deadline = time.time() + 10
            # Every request arrived: the client read the first answers (freeing their slots) and holds the rest.
            while time.time() < deadline and len(server.requests) < total:
                time.sleep(0.02)
            assert len(server.requests) == total
            grace = time.time() + 2  # the answers' cache writes follow their replies closely
            while time.time() < grace and (not cache_file.exists() or cached_answers(cache_file) < answered_at_once):
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)  # a real kill: no cleanup, no atexit
            proc.wait()
        finally:
            release.set()  # from now on every request is answered at once
            if proc.poll() is None:
                proc.kill()
        assert cached_answers(cache_file) == answered_at_once
        assert not (tmp_path / "run" / "results.json").exists()

        cli(server)
        assert len(server.requests) == total + (total - answered_at_once)  # the rerun asked only for the rest
    result = json.loads((tmp_path / "run" / "results.json").read_text())["results"]["held"]
    assert result["cache"] == {"reused": answered_at_once, "generated": total - answered_at_once}
    assert result["n_failed"] == 0


def cached_answers(path) -> int:
    cache = ResponseCache(path)
    try:
        return cache.count()
    finally:
        cache.close()
