"""Registers the built-in LLM backend schemes (judges, annotation) through the plugin hook:
``hf:PATH``, ``openai:MODEL@BASE_URL`` and ``vllm:PATH``. Each backend module is imported only when
its scheme is used, so registering costs nothing."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError, JudgeError
from ..hookspecs import hookimpl
from .base import LLMBackend


def looks_like_path(target: str) -> bool:
    """A filesystem path, never a hub id (``org/name``): absolute, relative with ./ or ../, ~, or deeper."""
    return target.startswith(("/", "./", "../", "~", "\\")) or target in (".", "..") or target.count("/") > 1


def checked_factory(scheme: str, module: str, cls_name: str, local: bool = False) -> Callable[..., LLMBackend]:
    """A factory that imports ``module`` lazily and turns unknown ``--judge_args`` into a `ConfigError`
    naming the options the backend accepts (instead of a bare ``TypeError``). With ``local``, a target
    that is a path (not a hub id) must exist."""

    def factory(target: str, **options: Any) -> LLMBackend:
        # Before the hub client can misread it as a malformed repo id ("Repo id must be in the form ...").
        if local and looks_like_path(target) and not Path(target).expanduser().exists():
            raise JudgeError(f"{scheme}:{target}: the folder {Path(target).expanduser()} does not exist")
        cls = getattr(importlib.import_module(module), cls_name)
        accepted = [name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "path", "spec")]
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise ConfigError(
                f"judge {scheme}:{target}: unknown --judge_args {', '.join(unknown)}; "
                f"the {scheme} backend accepts: {', '.join(accepted)}"
            )
        return cls(target, **options)

    factory.__doc__ = f"Build a {cls_name} from {scheme}:TARGET and --judge_args."
    return factory


@hookimpl
def register_judges(register):
    register("hf", checked_factory("hf", "giqa_harness.llm.hf", "HFBackend", local=True))
    register("openai", checked_factory("openai", "giqa_harness.llm.openai_compat", "OpenAIBackend"))
    register("vllm", checked_factory("vllm", "giqa_harness.llm.vllm_backend", "VLLMBackend"))
