"""The LLM backend contract shared by judges and the annotation pipeline.

A backend turns a batch of chat prompts into replies. ``None`` in the reply list means that call
failed after the backend's own retries; callers record it as failed, never as a score of 0.
`LLMBackend.complete_detailed` also says why a reply is missing, and lets a caching wrapper keep only
the replies its caller could use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Sequence

NO_REPLY = "the backend returned no reply"


@dataclass(frozen=True)
class Completion:
    """One prompt's outcome: the reply text, or (``text`` None) why there is none."""

    text: str | None
    error: str | None = None


class LLMBackend(ABC):
    """Base class of LLM backends (``hf:PATH``, ``openai:MODEL@URL``, ``vllm:PATH``...)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec  # what identifies the backend in caches and results (no secrets)

    @abstractmethod
    def complete(self, prompts: Sequence[str], system: str | None = None, **generation: Any) -> list[str | None]:
        """One reply per prompt (``None`` when that call failed), same order."""

    def complete_detailed(self, prompts: Sequence[str], system: str | None = None,
                          keep: Callable[[str], bool] | None = None, **generation: Any) -> list[Completion]:
        """`complete`, with the reason for every missing reply. ``keep(reply)`` says which replies are
        final answers: a caching wrapper stores only those, so a later run asks the others again (a
        backend without a cache ignores it). Backends that know why a call failed override this."""
        replies = self.complete(prompts, system=system, **generation)
        if not isinstance(replies, list) or len(replies) != len(prompts):  # a broken contract fails the batch
            got = len(replies) if isinstance(replies, list) else type(replies).__name__
            broken = Completion(None, f"backend {self.spec!r} returned {got} replies for {len(prompts)} prompts")
            return [broken] * len(prompts)
        return [Completion(r, None) if isinstance(r, str) else Completion(None, NO_REPLY) for r in replies]

    def identity(self) -> dict[str, Any]:
        return {"backend": self.spec}

    def close(self) -> None:
        """Release the model or connections."""
