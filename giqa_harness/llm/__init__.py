"""LLM backends shared by the judges and the annotation pipeline, selected by a spec string:
``hf:PATH``, ``openai:MODEL@BASE_URL``, ``vllm:PATH`` (schemes are registered through the
``register_judges`` hook, so plugins can add their own)."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .base import LLMBackend


def build_backend(spec: str, **options: Any) -> LLMBackend:
    """The backend a ``scheme:rest`` spec names, built with ``options``."""
    from ..plugins import registry

    scheme, sep, rest = spec.partition(":")
    if not sep or not rest:
        known = ", ".join(f"{s}:..." for s in registry().judges.names())
        raise ConfigError(f"judge spec {spec!r} must look like scheme:target (known schemes: {known})")
    factory = registry().judges.get(scheme)
    return factory(rest, **options)


__all__ = ["LLMBackend", "build_backend"]
