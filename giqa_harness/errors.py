"""One error hierarchy for everything a user can get wrong.

Every message should say what was wrong, where (file, line, field) and what to do about it.
Model output never raises: parsers count what they drop instead.
"""

from __future__ import annotations

from typing import Sequence


class GiqaError(Exception):
    """Base class of every error giqa-harness raises on purpose."""


class ConfigError(GiqaError):
    """A command-line flag, model argument or recipe value is wrong."""


class TaskError(GiqaError):
    """A task YAML file is malformed or names something that does not exist."""


class DatasetError(GiqaError):
    """A dataset is missing, malformed, or a path escapes its root."""


class UnknownNameError(GiqaError):
    """A model, task, format, judge or metric name is not registered."""

    def __init__(self, kind: str, name: str, known: "list[str]", failed_plugins: "Sequence[str]" = ()) -> None:
        import difflib

        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        listing = ", ".join(sorted(known)) if known else "(none registered)"
        # The name may belong to a plugin that did not load: say which ones failed and why.
        failed = f". Plugins that failed to load (one may provide it): {'; '.join(failed_plugins)}" if failed_plugins else ""
        super().__init__(f"unknown {kind} {name!r}.{hint} Known {kind}s: {listing}{failed}")
        self.kind, self.name, self.close_matches = kind, name, close


class ModelLoadError(GiqaError):
    """A model cannot be loaded: a missing package, checkpoint or incompatible config."""


class MissingDependencyError(ModelLoadError):
    """An optional package is not installed; the message says what to install."""

    def __init__(self, package: str, install: str, purpose: str) -> None:
        super().__init__(f"{purpose} needs the package {package!r}, which is not installed. Install it with: {install}")
        self.package, self.install = package, install


class JudgeError(GiqaError):
    """A judge backend is misconfigured or cannot be reached."""


class EndpointUnreachableError(GiqaError):
    """An HTTP endpoint (the judge, an ``openai`` model, annotate's LLM) failed to connect several times
    in a row. Nothing more is sent to it: callers re-raise it instead of asking sample by sample, the
    task (or annotation) that needed it fails, what is finished is kept and written, and the command
    exits non-zero."""


class PluginError(GiqaError):
    """A plugin failed to load or registered something invalid."""
