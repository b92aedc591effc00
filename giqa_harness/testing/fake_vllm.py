"""A stand-in for the ``vllm`` module that records what the harness hands to vLLM, so that the code
around vLLM (prompts, images, sampling settings, engine options) is tested on machines without it.

It implements only the surface the harness uses: ``LLM(**engine_options)``, ``LLM.generate(inputs,
params, use_tqdm=...)``, ``LLM.get_tokenizer()`` and ``SamplingParams(**fields)`` (unknown fields raise
``TypeError``, as vLLM's own does). The real engine is exercised by the tests that run when vLLM is
installed.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable

SAMPLING_FIELDS = {"temperature", "max_tokens", "stop", "top_p", "top_k", "seed", "repetition_penalty",
                   "prompt_logprobs"}


def toy_logprob(prompt: str, position: int, token: int) -> float:
    """A deterministic stand-in for a prompt token's log-probability (negative, varies with everything)."""
    return -((len(prompt) * 7 + position * 13 + token * 31) % 97) / 10.0 - 0.01


@dataclass
class FakeEngine:
    """What the fake engine saw: its options and every ``generate`` call's inputs and params."""

    options: dict[str, Any]
    answer: Callable[[dict[str, Any]], str]
    tokenizer: Any = None
    calls: list[tuple[list[dict[str, Any]], Any]] = field(default_factory=list)

    def generate(self, inputs: list[dict[str, Any]], params: Any, use_tqdm: bool = True) -> list[Any]:
        self.calls.append((list(inputs), params))
        if getattr(params, "prompt_logprobs", None) is not None:  # needs ``tokenizer``; scored by `toy_logprob`
            return [self._scored(item["prompt"]) for item in inputs]
        return [types.SimpleNamespace(outputs=[types.SimpleNamespace(text=self.answer(item))]) for item in inputs]

    def _scored(self, prompt: str) -> Any:
        ids = self.tokenizer(prompt)["input_ids"]
        logprobs = [None] + [{t: types.SimpleNamespace(logprob=toy_logprob(prompt, i, t))} for i, t in enumerate(ids) if i]
        return types.SimpleNamespace(prompt_token_ids=ids, prompt_logprobs=logprobs,
                                     outputs=[types.SimpleNamespace(text="")])

    def get_tokenizer(self) -> Any:
        return self.tokenizer


def install_fake_vllm(monkeypatch: Any, answer: Callable[[dict[str, Any]], str], tokenizer: Any = None) -> list[FakeEngine]:
    """Put a fake ``vllm`` into ``sys.modules`` for one test; returns the list of engines it builds."""
    engines: list[FakeEngine] = []

    def make_engine(**options: Any) -> FakeEngine:
        engines.append(FakeEngine(options, answer, tokenizer))
        return engines[-1]

    def sampling_params(**fields: Any) -> types.SimpleNamespace:
        unknown = set(fields) - SAMPLING_FIELDS
        if unknown:
            raise TypeError(f"SamplingParams got unexpected keyword arguments {sorted(unknown)}")
        return types.SimpleNamespace(**fields)

    module = types.ModuleType("vllm")
    module.LLM = make_engine  # type: ignore[attr-defined]
    module.SamplingParams = sampling_params  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    return engines
