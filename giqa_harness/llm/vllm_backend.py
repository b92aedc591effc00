"""``vllm:PATH``: a local model run in-process by vLLM (when it is installed) as a judge or annotation LLM.

    --judge vllm:/models/Qwen2.5-7B-Instruct --judge_args tensor_parallel_size=2,max_model_len=8192

vLLM pins its own torch and transformers and needs a GPU, so it is an optional extra
(``pip install "giqa-harness[vllm]"``) imported only here. Without it, serve the model with
``vllm serve`` and use ``openai:MODEL@http://localhost:8000/v1``, which needs no vLLM import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import ConfigError, JudgeError, MissingDependencyError
from .base import LLMBackend
from .chat import complete_isolating, completion_settings, non_negative, positive_int, positive_number, render_chat

VLLM_INSTALL = 'pip install "giqa-harness[vllm]"'


def import_vllm(purpose: str) -> Any:
    """The ``vllm`` module, or a `MissingDependencyError` that says what to install."""
    try:
        import vllm
    except ImportError:
        raise MissingDependencyError("vllm", VLLM_INSTALL, purpose) from None
    return vllm


def sampling_params(vllm: Any, generation: Mapping[str, Any], max_tokens: int) -> Any:
    """Greedy ``SamplingParams`` (temperature 0) unless ``generation`` asks otherwise; ``max_tokens``
    applies when ``generation`` sets no length."""
    settings = {"temperature": 0.0, "max_tokens": max_tokens, **completion_settings(generation)}
    try:
        return vllm.SamplingParams(**settings)
    except TypeError as exc:
        raise ConfigError(f"generation settings {sorted(settings)} are not all vLLM SamplingParams fields: {exc}") from None


def engine_options(dtype: str, tensor_parallel_size: int, gpu_memory_utilization: float, max_model_len: int | None,
                   trust_remote_code: bool, seed: int, owner: str) -> dict[str, Any]:
    """Checked keyword arguments for ``vllm.LLM`` shared by the judge backend and the model adapter."""
    if not isinstance(trust_remote_code, bool):
        raise ConfigError(f"{owner}: trust_remote_code must be true or false, got {trust_remote_code!r}")
    if positive_number(gpu_memory_utilization, "gpu_memory_utilization", owner) > 1:
        raise ConfigError(f"{owner}: gpu_memory_utilization must be in (0, 1], got {gpu_memory_utilization!r}")
    options = {
        "dtype": str(dtype), "tensor_parallel_size": positive_int(tensor_parallel_size, "tensor_parallel_size", owner),
        "gpu_memory_utilization": float(gpu_memory_utilization), "trust_remote_code": trust_remote_code,
        "seed": int(non_negative(seed, "seed", owner, integer=True)),
    }
    if max_model_len is not None:
        options["max_model_len"] = positive_int(max_model_len, "max_model_len", owner)
    return options


def model_source(path: str) -> str:
    """A local folder (resolved) when ``path`` names one, else the string as a hub id."""
    local = Path(path).expanduser()
    return str(local.resolve()) if local.exists() else path


class VLLMBackend(LLMBackend):
    """Chat prompts rendered with the model's own chat template, generated greedily by vLLM."""

    def __init__(self, path: str, dtype: str = "auto", max_new_tokens: int = 256, tensor_parallel_size: int = 1,
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None,
                 trust_remote_code: bool = False, seed: int = 0) -> None:
        super().__init__(f"vllm:{path}")
        self.max_new_tokens = positive_int(max_new_tokens, "max_new_tokens", "vllm judge")
        options = engine_options(dtype, tensor_parallel_size, gpu_memory_utilization, max_model_len,
                                 trust_remote_code, seed, "vllm judge")
        self.vllm = import_vllm("the vllm: judge")
        self.dtype = options["dtype"]
        try:
            self.llm = self.vllm.LLM(model=model_source(path), **options)
        except (OSError, ValueError) as exc:
            raise JudgeError(f"vllm judge: cannot load {path!r}: {exc}") from None
        self.tokenizer = self.llm.get_tokenizer()

    def identity(self) -> dict[str, Any]:
        return {"backend": self.spec, "dtype": self.dtype, "max_new_tokens": self.max_new_tokens}

    def complete(self, prompts: Sequence[str], system: str | None = None, **generation: Any) -> list[str | None]:
        params = sampling_params(self.vllm, generation, self.max_new_tokens)
        inputs = []
        for prompt in prompts:
            text, templated = render_chat(self.tokenizer, prompt, system)
            # Token ids, so that vLLM does not add a second BOS to a template that already holds one.
            inputs.append({"prompt_token_ids": self.tokenizer(text, add_special_tokens=not templated)["input_ids"]})

        def run(batch: list[dict[str, Any]]) -> list[str]:
            return [out.outputs[0].text.strip() for out in self.llm.generate(batch, params, use_tqdm=False)]

        return complete_isolating(run, inputs, "vllm judge")

    def close(self) -> None:
        self.llm = None
