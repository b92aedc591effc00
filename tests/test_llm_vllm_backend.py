"""The ``vllm:PATH`` judge backend. Without vLLM installed, a recording stand-in checks what the backend
hands to the engine; the real engine runs only where vLLM and a GPU are present."""

from __future__ import annotations

import importlib.util

import pytest

from giqa_harness.errors import ConfigError, MissingDependencyError
from giqa_harness.llm import build_backend
from giqa_harness.testing.fake_vllm import install_fake_vllm

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.fixture(scope="module")
def tokenizer():
    from giqa_harness.testing.tiny_lm import build_tiny_tokenizer

    return build_tiny_tokenizer()


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed here, so its absence cannot be tested")
def test_without_vllm_the_error_says_what_to_install():
    with pytest.raises(MissingDependencyError, match=r'pip install "giqa-harness\[vllm\]"'):
        build_backend("vllm:/models/judge")


def test_prompts_go_through_the_chat_template_as_token_ids_and_decode_greedily(monkeypatch, tokenizer):
    engines = install_fake_vllm(monkeypatch, lambda item: " Score: 3 ", tokenizer)
    backend = build_backend("vllm:/models/judge", max_new_tokens=16, tensor_parallel_size=2)
    assert backend.complete(["Rate A.", "Rate B."], system="Be strict.") == ["Score: 3", "Score: 3"]
    (engine,) = engines
    assert engine.options["tensor_parallel_size"] == 2 and engine.options["trust_remote_code"] is False
    inputs, params = engine.calls[0]
    text = tokenizer.decode(inputs[0]["prompt_token_ids"])
    assert text == "<|system|>Be strict.<|end|><|user|>Rate A.<|end|><|assistant|>"  # no BOS added twice
    assert (params.temperature, params.max_tokens) == (0.0, 16)
    backend.complete(["Rate C."], max_new_tokens=4, until=["\n"])
    assert (engine.calls[-1][1].max_tokens, engine.calls[-1][1].stop) == (4, ["\n"])
    assert backend.identity() == {"backend": "vllm:/models/judge", "dtype": "auto", "max_new_tokens": 16}


def test_a_failing_batch_is_retried_prompt_by_prompt(monkeypatch, tokenizer):
    def answer(item):
        if tokenizer.decode(item["prompt_token_ids"]).count("poison"):
            raise RuntimeError("CUDA out of memory")
        return "2"

    install_fake_vllm(monkeypatch, answer, tokenizer)
    backend = build_backend("vllm:/models/judge")
    assert backend.complete(["fine", "poison", "fine too"]) == ["2", None, "2"]


def test_options_are_checked_before_loading(monkeypatch, tokenizer):
    install_fake_vllm(monkeypatch, lambda item: "", tokenizer)
    with pytest.raises(ConfigError, match="gpu_memory_utilization must be in"):
        build_backend("vllm:/models/judge", gpu_memory_utilization=1.5)
    with pytest.raises(ConfigError, match="unknown --judge_args temperature"):
        build_backend("vllm:/models/judge", temperature=0)
    backend = build_backend("vllm:/models/judge")
    with pytest.raises(ConfigError, match="not all vLLM SamplingParams fields"):
        backend.complete(["x"], beam_width=3)


@pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed (an optional extra for GPU machines)")
def test_real_vllm_judges_with_a_tiny_model(tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a GPU here")
    from giqa_harness.testing.tiny_lm import build_tiny_causal_lm

    backend = build_backend(f"vllm:{build_tiny_causal_lm(tmp_path / 'lm')}", max_new_tokens=4,
                            gpu_memory_utilization=0.3)
    replies = backend.complete(["Rate it.", "Rate that."])
    assert len(replies) == 2 and all(isinstance(r, str) for r in replies)
