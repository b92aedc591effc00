"""Which tasks a run runs: ``--tasks`` names and YAML paths, ``--include_path`` folders, ``--gen_kwargs``.

lmms-eval's conventions, so a task file that ``validate`` accepts runs without packaging a plugin:

- ``--include_path DIR`` (repeatable) adds DIR's task files beside the registered ones; a task there
  with the name of a registered task replaces it for this run; a file there that cannot be read is
  named when its task is asked for.
- ``--tasks path/to/task.yaml`` runs that file (a task, or a group whose members are registered or
  under an ``--include_path``). Its ``include:`` may name files of its own folder.
- ``--gen_kwargs k=v,...`` overrides the tasks' ``generation_kwargs``; the task configs recorded in
  results.json and the response-cache key both see the overridden values.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

from .errors import ConfigError
from .task import GroupConfig, TaskConfig, TaskIndex, parse_task, read_yaml

YAML_SUFFIXES = (".yaml", ".yml")
INCLUDE_PLUGIN = "--include_path"  # what `plugin` says for a task found under --include_path


def is_task_file(name: str) -> bool:
    return name.lower().endswith(YAML_SUFFIXES)


def include_folders(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    folders = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.is_dir():
            raise ConfigError(f"--include_path {raw}: no such folder")
        folders.append((path.resolve(), INCLUDE_PLUGIN))
    return folders


def resolve_tasks(names: Sequence[str], include_paths: Iterable[str | Path] = ()) -> list[TaskConfig]:
    """Task names, group names and task-file paths -> task configs (groups expanded, order kept)."""
    from .plugins import registry

    reg = registry()
    index = TaskIndex(list(reg.task_dirs) + include_folders(include_paths), reg.failure_lines())
    out: list[TaskConfig] = []
    for name in names:
        found = _from_file(name, index) if is_task_file(name) else index.resolve([name])
        out += [task for task in found if task.name not in {t.name for t in out}]
    return out


def _from_file(name: str, index: TaskIndex) -> list[TaskConfig]:
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(f"--tasks {name}: no such task file")
    item = parse_task(path.resolve(), read_yaml(path.resolve()), INCLUDE_PLUGIN)
    if isinstance(item, GroupConfig):
        return index.resolve(list(item.tasks))
    return [item]


def with_generation(tasks: Sequence[TaskConfig], overrides: dict[str, Any]) -> list[TaskConfig]:
    """The tasks with ``--gen_kwargs`` laid over their own ``generation_kwargs``."""
    if not overrides:
        return list(tasks)
    return [dataclasses.replace(t, generation_kwargs={**t.generation_kwargs, **overrides}) for t in tasks]


def check_limit(limit: float | None) -> None:
    """``--limit``: a count of docs (a whole number), or a fraction of each task when below 1."""
    if limit is None:
        return
    if not math.isfinite(limit) or limit < 0:
        raise ConfigError(f"--limit must be 0 or more, got {limit}")
    if limit >= 1 and limit != int(limit):
        raise ConfigError(f"--limit {limit}: give a whole number of docs, or a fraction below 1 (e.g. 0.5)")


def limit_value(raw: float | None) -> int | float | None:
    """``--limit`` as parsed (a float) -> a whole count as ``int`` (recorded as ``10``, not ``10.0``)."""
    if raw is not None and math.isfinite(raw) and raw >= 1 and raw == int(raw):
        return int(raw)
    return raw


def doc_count(limit: float | None, available: int) -> int:
    """How many of a task's ``available`` docs ``--limit`` keeps (lmms-eval rounds a fraction up)."""
    if limit is None:
        return available
    if 0 < limit < 1:
        return min(available, math.ceil(available * limit))
    return min(available, int(limit))
