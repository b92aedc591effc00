"""Image prefetching and request windows: bounded look-ahead, order kept, identical answers and samples."""

from __future__ import annotations

import json
import threading

import pytest

from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.prefetch import LoadedImage, image_loader, prefetched_batches, request_window
from giqa_harness.testing.chat_server import ChatServer, Reply
from giqa_harness.testing.fake_vllm import install_fake_vllm


def test_batches_come_in_order_and_look_ahead_at_most_depth_batches():
    items = list(range(23))
    started: list[int] = []
    lock = threading.Lock()

    def load(path: str) -> LoadedImage:
        with lock:
            started.append(int(path))
        return LoadedImage(image=int(path) * 10)

    for depth in (0, 1, 3):
        started.clear()
        seen = []
        for k, (batch, loaded) in enumerate(prefetched_batches(items, 5, str, load, depth=depth)):
            assert [got.image for got in loaded] == [i * 10 for i in batch]
            # while batch k is being generated, nothing beyond batch k + depth has been asked for
            with lock:
                assert max(started) // 5 <= k + depth
            seen += batch
        assert seen == items


def test_an_unreadable_image_is_an_error_value_and_a_failing_prepare_is_left_to_the_adapter(tmp_path):
    from PIL import Image

    Image.new("RGB", (4, 3), (1, 2, 3)).save(tmp_path / "ok.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")

    def prepare(image):
        raise RuntimeError("framing failed")

    ok, broken = (image_loader(prepare)(str(tmp_path / name)) for name in ("ok.png", "broken.png"))
    assert ok.image.size == (4, 3) and ok.prepared is None and ok.error is None
    assert broken.image is None and broken.error is not None


def test_the_window_is_the_adapters_own_when_it_declares_one():
    class Plain:
        request_window = None

    class Engine:
        request_window = 256

    assert request_window(Plain(), 8) == 8 and request_window(Engine(), 8) == 256


def _rows(folder, task):
    rows = [json.loads(line) for line in (folder / f"samples_{task}.jsonl").read_text().splitlines()]
    return rows


def _results(document, task):
    result = dict(document["results"][task])
    result.pop("timings")
    return result


def grid_answers(item):
    image = item["multi_modal_data"]["image"]  # the answer depends on the framed image it was given
    return f"The [sky](<105, 294>) is over-exposed at {image.size}." if "Describe" in item["prompt"] else "Yes."


def test_vllm_answers_and_samples_are_the_same_for_every_window_and_prefetch_depth(tmp_path, tiny_task, monkeypatch):
    from giqa_harness.model_adapters.vllm_engine import VLLMAdapter

    records = [{"id": f"r{i}", "image": f"images/{'a' if i % 2 else 'b'}.png", "kind": "des",
                "question": "Describe and evaluate the quality of the image.", "answer": "The sky is fine."}
               for i in range(9)]
    records.append({"id": "gone", "image": "images/missing.png", "kind": "des",
                    "question": "Describe and evaluate the quality of the image.", "answer": "None."})
    task = tiny_task(metrics=("bleu4",), records=records)
    (tmp_path / "data_tiny" / "images" / "missing.png").unlink(missing_ok=True)
    args = {"pretrained": str(tmp_path), "preset": "llava-1.5", "box_format": "giqa_grid"}
    runs = []
    for window in (1, 4, 1000):
        for depth in (0, 2):
            monkeypatch.setattr(VLLMAdapter, "request_window", window)
            engines = install_fake_vllm(monkeypatch, grid_answers)
            out = tmp_path / f"run_{window}_{depth}"
            document = evaluate(RunConfig(model="vllm", model_args=args, tasks=[task], output_path=out,
                                          log_samples=True, batch_size=2, progress=False, prefetch=depth,
                                          use_cache=False))
            runs.append((_results(document, task), _rows(out, task)))
            # windows of the adapter's size, not --batch_size; the missing image never reaches the engine
            assert [len(inputs) for inputs, _ in engines[0].calls] == [min(window, 9 - s) for s in range(0, 9, window)]
    assert all(run == runs[0] for run in runs)
    result, rows = runs[0]
    assert result["n_failed"] == 1 and rows[-1]["failed"].startswith("image ")
    assert rows[0]["answer"] == "The [sky](<105, 294>) is over-exposed at (60, 60)."  # b.png, 40x60, framed square


def test_openai_windows_send_each_request_once_with_the_same_answers(tmp_path, tiny_task, monkeypatch):
    from giqa_harness.model_adapters.openai_api import OpenAIChatAdapter

    task = tiny_task()

    def reply(request):
        return Reply.chat(f"Yes, {len(request.body['messages'][-1]['content'][0]['image_url']['url'])}.")

    answers = {}
    for window in (1, 64):
        monkeypatch.setattr(OpenAIChatAdapter, "request_window", window)
        with ChatServer(reply) as server:
            args = {"model": "m", "base_url": server.base_url, "box_format": "giqa_grid", "backoff": 0.01}
            evaluate(RunConfig(model="openai", model_args=args, tasks=[task], output_path=tmp_path / f"w{window}",
                               log_samples=True, progress=False, use_cache=False))
            assert len(server.requests) == 6
        answers[window] = [row["answer"] for row in _rows(tmp_path / f"w{window}", task)]
    assert answers[1] == answers[64]


@pytest.mark.slow
def test_llava_samples_are_identical_with_and_without_prefetch(tmp_path, tiny_task):
    import torch

    from giqa_harness.testing.tiny_models import build_tiny_llava

    torch.manual_seed(0)
    folder = build_tiny_llava(tmp_path / "llava")
    task = tiny_task(extra="generation_kwargs: {max_new_tokens: 6}\n")
    rows = {}
    for depth in (0, 2):
        out = tmp_path / f"run_{depth}"
        evaluate(RunConfig(model="llava", model_args={"pretrained": str(folder)}, tasks=[task], output_path=out,
                           log_samples=True, batch_size=2, progress=False, prefetch=depth, use_cache=False))
        rows[depth] = _rows(out, task)
    assert rows[0] == rows[2] and all(row["failed"] is None for row in rows[0])
