"""Built-in task definitions (YAML), registered through the same hook a plugin uses."""

from __future__ import annotations

from pathlib import Path

from giqa_harness.hookspecs import hookimpl


@hookimpl
def register_tasks(register):
    register(Path(__file__).parent)
