"""``hf:PATH``: a local transformers causal LM as a judge or annotation LLM.

    --judge hf:/models/Qwen2.5-7B-Instruct --judge_args device=cuda,dtype=bfloat16,batch_size=16

PATH is a local folder or a hub id. Prompts go through the tokenizer's chat template when it has
one (plain text otherwise) and are generated greedily in left-padded batches; a batch's replies are
the same as one-by-one replies. torch and transformers are imported when the backend is built.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError, JudgeError
from .base import LLMBackend
from .chat import complete_isolating, positive_int, render_chat

DTYPES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16", "half": "float16",
          "bfloat16": "bfloat16", "bf16": "bfloat16"}


def resolve_device(device: str) -> str:
    """``auto`` -> this process's GPU (its LOCAL_RANK's under a data-parallel launcher, as the model
    adapters do), else ``mps`` on Apple silicon, else ``cpu``."""
    from ..model_adapters.hf_common import default_device

    return default_device() if device == "auto" else device


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto`` -> bfloat16 on a GPU that supports it, float32 elsewhere (CPU half precision is slow)."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    if dtype not in DTYPES:
        raise ConfigError(f"hf judge: dtype {dtype!r} is not one of auto, {', '.join(sorted(DTYPES))}")
    return getattr(torch, DTYPES[dtype])


def folder_fingerprint(folder: Path) -> str | None:
    """A digest of a local checkpoint's config and weight files (names, sizes, modification times), so
    that a judge retrained in place does not answer from the cache of the old one."""
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    config = folder / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    for weights in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        stat = weights.stat()
        digest.update(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


class HFBackend(LLMBackend):
    """A transformers causal LM, loaded once, generating greedily in left-padded batches."""

    def __init__(self, path: str, device: str = "auto", dtype: str = "auto", max_new_tokens: int = 256,
                 batch_size: int = 8, trust_remote_code: bool = False) -> None:
        super().__init__(f"hf:{path}")
        self.max_new_tokens = positive_int(max_new_tokens, "max_new_tokens", "hf judge")
        self.batch_size = positive_int(batch_size, "batch_size", "hf judge")
        if not isinstance(trust_remote_code, bool):
            raise ConfigError(f"hf judge: trust_remote_code must be true or false, got {trust_remote_code!r}")
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            from ..errors import MissingDependencyError

            raise MissingDependencyError("transformers", 'pip install "giqa-harness[hf]"', "the hf: judge") from None
        local = Path(path).expanduser()
        source = str(local) if local.exists() else path
        self.device = resolve_device(str(device))
        self.dtype = resolve_dtype(str(dtype), self.device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
            self.model = AutoModelForCausalLM.from_pretrained(
                source, dtype=self.dtype, trust_remote_code=trust_remote_code
            ).to(self.device)
        except (OSError, ValueError) as exc:
            raise JudgeError(
                f"hf judge: cannot load a causal LM from {path!r} (a local folder, or a hub id reachable from "
                f"here; pass trust_remote_code=true only for checkpoints whose code you trust): {exc}"
            ) from None
        self.model.eval()
        self.tokenizer.padding_side = "left"  # generation appends on the right, so pad on the left
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.fingerprint = folder_fingerprint(local)

    def identity(self) -> dict[str, Any]:
        return {"backend": self.spec, "dtype": str(self.dtype).replace("torch.", ""),
                "max_new_tokens": self.max_new_tokens, "fingerprint": self.fingerprint}

    def complete(self, prompts: Sequence[str], system: str | None = None, **generation: Any) -> list[str | None]:
        rendered = [render_chat(self.tokenizer, p, system) for p in prompts]
        settings = self._generation_settings(generation)
        # Similar lengths share a batch, which keeps padding (wasted compute) small.
        order = sorted(range(len(prompts)), key=lambda i: len(rendered[i][0]))
        replies: list[str | None] = [None] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            texts = complete_isolating(lambda batch: self._generate(batch, settings), [rendered[i] for i in chunk],
                                       "hf judge")
            for i, text in zip(chunk, texts):
                replies[i] = text
        return replies

    def _generation_settings(self, generation: dict[str, Any]) -> dict[str, Any]:
        settings = dict(generation)
        if "max_tokens" in settings:  # the OpenAI name, accepted so callers need not know the backend
            settings["max_new_tokens"] = settings.pop("max_tokens")
        settings.setdefault("max_new_tokens", self.max_new_tokens)
        temperature = settings.pop("temperature", 0)
        if temperature and temperature > 0:
            settings.update(do_sample=True, temperature=temperature)
        else:
            settings["do_sample"] = False
        settings["pad_token_id"] = self.tokenizer.pad_token_id
        return settings

    def _generate(self, batch: list[tuple[str, bool]], settings: dict[str, Any]) -> list[str]:
        import torch

        # A template already holds the special tokens; plain text gets the tokenizer's own (BOS).
        templated = batch[0][1]
        encoded = self.tokenizer([text for text, _ in batch], return_tensors="pt", padding=True,
                                 add_special_tokens=not templated).to(self.device)
        with torch.inference_mode():
            output = self.model.generate(**encoded, **settings)
        new_tokens = output[:, encoded["input_ids"].shape[1]:]
        return [t.strip() for t in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]

    def close(self) -> None:
        self.model = None
        self.tokenizer = None
