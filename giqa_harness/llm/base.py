"""The LLM backend contract shared by judges and the annotation pipeline.

A backend turns a batch of chat prompts into replies. ``None`` in the reply list means that call
failed after the backend's own retries; callers record it as failed, never as a score of 0.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence


class LLMBackend(ABC):
    """Base class of LLM backends (``hf:PATH``, ``openai:MODEL@URL``, ``vllm:PATH``...)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec  # what identifies the backend in caches and results (no secrets)

    @abstractmethod
    def complete(self, prompts: Sequence[str], system: str | None = None, **generation: Any) -> list[str | None]:
        """One reply per prompt (``None`` when that call failed), same order."""

    def identity(self) -> dict[str, Any]:
        return {"backend": self.spec}

    def close(self) -> None:
        """Release the model or connections."""
