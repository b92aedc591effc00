"""The ``hf:PATH`` backend on a tiny random causal LM built offline."""

from __future__ import annotations

import pytest

from giqa_harness.errors import ConfigError, JudgeError
from giqa_harness.llm import build_backend
from giqa_harness.llm.chat import render_chat

pytestmark = pytest.mark.slow

PROMPTS = [
    "Rate the answer from 0 to 4.",
    "Is the dog sharp?",
    "Describe and evaluate the quality of the image in detail, with every distortion you see.",
    "Noise",
    "The sky is over-exposed. Score:",
]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from giqa_harness.testing.tiny_lm import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="module")
def backend(tiny_lm):
    judge = build_backend(f"hf:{tiny_lm}", device="cpu", max_new_tokens=8, batch_size=4)
    yield judge
    judge.close()


def test_batched_replies_equal_one_by_one_replies(backend):
    batched = backend.complete(PROMPTS, system="You are a strict judge.")
    backend.batch_size = 1
    try:
        single = [backend.complete([p], system="You are a strict judge.")[0] for p in PROMPTS]
    finally:
        backend.batch_size = 4
    assert batched == single
    assert all(isinstance(r, str) for r in batched)


def test_replies_keep_prompt_order_and_respect_max_new_tokens(backend, monkeypatch):
    generate = backend.model.generate
    new_tokens = []

    def counting_generate(**kwargs):
        output = generate(**kwargs)
        new_tokens.append(output.shape[1] - kwargs["input_ids"].shape[1])
        return output

    monkeypatch.setattr(backend.model, "generate", counting_generate)
    replies = backend.complete(list(reversed(PROMPTS)), max_new_tokens=3)
    again = backend.complete(PROMPTS, max_tokens=3)  # the OpenAI spelling is accepted too
    assert replies == list(reversed(again))
    assert new_tokens and max(new_tokens) <= 3


def test_chat_template_is_used_and_plain_text_without_one(backend):
    text, templated = render_chat(backend.tokenizer, "Is it sharp?", system="Judge.")
    assert templated and text == "<|system|>Judge.<|end|><|user|>Is it sharp?<|end|><|assistant|>"

    class Plain:
        chat_template = None

    assert render_chat(Plain(), "Is it sharp?", system="Judge.") == ("Judge.\n\nIs it sharp?", False)


def test_a_template_that_refuses_system_turns_gets_the_system_text_in_the_user_turn():
    class NoSystem:
        chat_template = "..."

        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            if any(m["role"] == "system" for m in messages):
                raise ValueError("System role not supported")
            return f"<user>{messages[0]['content']}</user>"

    assert render_chat(NoSystem(), "Q?", system="Be brief.") == ("<user>Be brief.\n\nQ?</user>", True)


def test_identity_names_the_checkpoint_and_changes_when_it_is_rewritten(tmp_path):
    from giqa_harness.testing.tiny_lm import build_tiny_causal_lm

    folder = build_tiny_causal_lm(tmp_path / "lm")
    first = build_backend(f"hf:{folder}", device="cpu").identity()
    assert first["backend"] == f"hf:{folder}" and first["dtype"] == "float32"
    build_tiny_causal_lm(folder, seed=1)
    assert build_backend(f"hf:{folder}", device="cpu").identity()["fingerprint"] != first["fingerprint"]


def test_unknown_option_names_the_accepted_ones(tiny_lm):
    with pytest.raises(ConfigError, match="accepts: device, dtype, max_new_tokens, batch_size, trust_remote_code"):
        build_backend(f"hf:{tiny_lm}", temprature=0)


def test_missing_checkpoint_is_a_judge_error(tmp_path):
    with pytest.raises(JudgeError, match="nowhere: the folder .* does not exist"):  # not a hub "Repo id" error
        build_backend(f"hf:{tmp_path / 'nowhere'}", device="cpu")


def test_a_run_judged_by_the_local_model_caches_only_the_replies_that_held_a_score(
        tmp_path, tiny_lm, tiny_task, monkeypatch):
    import json

    from giqa_harness.cache import ResponseCache
    from giqa_harness.evaluator import RunConfig, evaluate
    from giqa_harness.llm.hf import HFBackend

    generated = []
    original = HFBackend._generate
    monkeypatch.setattr(HFBackend, "_generate", lambda self, batch, settings: generated.extend(batch) or
                        original(self, batch, settings))
    task = tiny_task(metrics=("llm_score",))
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"doc_id": d, "answer": "Blurry."}) + "\n"
                               for d in ("d1", "d2", "y1", "y2", "w1", "w2")))
    config = RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task], output_path=tmp_path / "run",
                       judge=f"hf:{tiny_lm}", judge_args={"device": "cpu", "max_new_tokens": 4}, progress=False)
    first = evaluate(config)
    asked = len(generated)
    cache = ResponseCache(tmp_path / "run" / "cache.sqlite")
    kept = cache.count("judge")
    cache.close()
    evaluate(config)
    assert first["judge"]["backend"] == f"hf:{tiny_lm}"
    assert asked >= 2  # both descriptions (a random model's replies rarely hold a score, so retries follow)
    # Greedy decoding repeats the first run's replies: the second run asks again exactly the prompts
    # whose reply held no score; the rest came from the cache.
    assert len(generated) - asked == asked - kept
