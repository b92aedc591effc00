"""``openai:MODEL@BASE_URL``: any OpenAI-compatible chat endpoint as a judge or annotation LLM.

    --judge openai:gpt-4o-mini@https://api.openai.com/v1
    --judge openai:Qwen2-7B-Instruct@http://localhost:8000/v1 --judge_args concurrency=32,timeout=120

Without ``@BASE_URL`` the official OpenAI endpoint is used. The key is read from the environment
variable ``api_key_env`` names (default ``OPENAI_API_KEY``; optional unless you name another variable,
since local servers usually need none) and is sent only in the Authorization header.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from ..errors import ConfigError
from .base import Completion, LLMBackend
from .chat import chat_messages, completion_settings, non_negative, positive_int, positive_number
from .failures import DEFAULT_MAX_CONNECT_FAILURES
from .http_chat import ChatClient, check_base_url, read_api_key

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
_SPEC = re.compile(r"^(?P<model>[^@]+?)(?:@(?P<url>https?://.+))?$")


def parse_openai_target(target: str) -> tuple[str, str]:
    """``MODEL@BASE_URL`` (or ``MODEL``) -> (model, base URL)."""
    match = _SPEC.match(target.strip())
    if not match:
        raise ConfigError(
            "an openai judge spec must look like openai:MODEL@BASE_URL (the URL starting with http:// or https://), "
            "e.g. openai:gpt-4o-mini@https://api.openai.com/v1 or openai:Qwen2-7B@http://localhost:8000/v1"
        )
    return match["model"], check_base_url(match["url"] or DEFAULT_BASE_URL)


class OpenAIBackend(LLMBackend):
    """Chat completions, one request per prompt, sent concurrently by a shared `ChatClient`."""

    def __init__(self, spec: str, api_key_env: str = DEFAULT_KEY_ENV, concurrency: int = 8, timeout: float = 60.0,
                 max_retries: int = 5, backoff: float = 1.0, max_tokens: int = 256, temperature: float = 0.0,
                 max_connect_failures: int = DEFAULT_MAX_CONNECT_FAILURES) -> None:
        self.model, base_url = parse_openai_target(spec)
        super().__init__(f"openai:{self.model}@{base_url}")
        self.max_tokens = positive_int(max_tokens, "max_tokens", "openai judge")
        self.temperature = non_negative(temperature, "temperature", "openai judge")
        self.client = ChatClient(
            base_url, read_api_key(api_key_env, required=api_key_env != DEFAULT_KEY_ENV),
            concurrency=positive_int(concurrency, "concurrency", "openai judge"),
            timeout=positive_number(timeout, "timeout", "openai judge"),
            max_retries=int(non_negative(max_retries, "max_retries", "openai judge", integer=True)),
            backoff=positive_number(backoff, "backoff", "openai judge"),
            max_connect_failures=positive_int(max_connect_failures, "max_connect_failures", "openai judge"),
        )

    def __repr__(self) -> str:
        return f"OpenAIBackend({self.spec!r})"

    def identity(self) -> dict[str, Any]:
        return {"backend": self.spec, "max_tokens": self.max_tokens, "temperature": self.temperature}

    def complete(self, prompts: Sequence[str], system: str | None = None, **generation: Any) -> list[str | None]:
        return [c.text for c in self.complete_detailed(prompts, system=system, **generation)]

    def complete_detailed(self, prompts: Sequence[str], system: str | None = None,
                          keep: Callable[[str], bool] | None = None, **generation: Any) -> list[Completion]:
        settings = {"max_tokens": self.max_tokens, "temperature": self.temperature, **completion_settings(generation)}
        bodies = [{"model": self.model, "messages": chat_messages(p, system), **settings} for p in prompts]
        results = self.client.post_many(bodies)
        return [Completion(r.text) if r.text is not None else Completion(None, f"{r.error} ({r.attempts} attempt(s))")
                for r in results]
