"""Task definitions: YAML files read with a safe loader, validated into `TaskConfig`.

Schema (every key but ``task`` optional; see docs/tasks.md)::

    task: giqa_des                 # name used by --tasks
    version: 1                     # bump when prompts or data change: it is part of the cache key
    description: ...
    include: _base.yaml            # merge another YAML of the same folder under this one
    dataset:
      path: ${GIQA_BENCH_DIR:-~/.cache/giqa_harness/giqa_bench}   # a folder (local data)
      file: giqa_bench.jsonl       # records inside it (JSON list or JSONL)
      hf_id: org/name              # or a Hugging Face dataset id (needs `datasets`)
      split: test
      builder: !function synth_source.build   # or Python that returns the folder to read
    filter: {kind: [des], qtype: [yes, no], mode: [referring]}
    prompt: {prefix: "", suffix: ""}          # wrapped around each question
    generation_kwargs: {max_new_tokens: 512, do_sample: false}
    metrics: [des_miou, {name: llm_score, options: {...}}]
    judge_prompts: {llm_score: "...", acc_w: "..."}
    scoring: {kind: level, loader: koniq10k, ...}   # a score or multiple-choice task (docs/score.md)

A group is ``group: NAME`` with ``tasks: [a, b]``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import yaml

from .docs import KINDS, MODES, QUESTION_TYPES
from .errors import TaskError, UnknownNameError

TASK_KEYS = {
    "task", "version", "description", "include", "dataset", "filter", "prompt", "generation_kwargs",
    "metrics", "judge_prompts", "box_format", "metadata", "scoring",
}
GROUP_KEYS = {"group", "tasks", "description", "include"}
DATASET_KEYS = {"path", "file", "hf_id", "split", "builder", "builder_args", "image_root"}
FILTER_VALUES: dict[str, tuple[str, ...]] = {"kind": KINDS, "qtype": QUESTION_TYPES, "mode": MODES}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class FunctionRef:
    """``!function module.attr``: Python resolved only from the task's own folder."""

    target: str
    folder: Path

    def resolve(self) -> Callable[..., Any]:
        module_name, _, attr = self.target.rpartition(".")
        if not module_name or not attr:
            raise TaskError(f"!function {self.target!r} in {self.folder}: expected module.attribute")
        file = (self.folder / (module_name.replace(".", "/") + ".py")).resolve()
        if self.folder.resolve() not in file.parents or not file.is_file():
            raise TaskError(
                f"!function {self.target!r}: {file.name} must be a Python file inside the task folder {self.folder}"
            )
        key = f"giqa_harness_task_helpers.{abs(hash(str(file)))}.{module_name}"
        module = sys.modules.get(key)
        if module is None:
            spec = importlib.util.spec_from_file_location(key, file)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[key] = module
            spec.loader.exec_module(module)
        try:
            return getattr(module, attr)
        except AttributeError:
            raise TaskError(f"!function {self.target!r}: {file} has no attribute {attr!r}") from None


# libyaml's safe loader when PyYAML was built with it: same safe semantics, ~10x faster, and reading
# every task file is a fixed cost of each run.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _make_loader(folder: Path) -> type[yaml.SafeLoader]:
    class TaskLoader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
        pass

    def function(loader: yaml.SafeLoader, node: yaml.Node) -> FunctionRef:
        return FunctionRef(str(loader.construct_scalar(node)), folder)  # type: ignore[arg-type]

    TaskLoader.add_constructor("!function", function)
    return TaskLoader


def read_yaml(path: Path, root: Path | None = None, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """One task file, its ``include`` merged underneath. The include may name any YAML file inside
    ``root`` (the registered task folder, so sibling task folders can share a base; default: the
    file's own folder). Every way the file can be unreadable is a `TaskError` naming it."""
    root = (root if root is not None else path.parent).resolve()
    chain = _chain + (path.resolve(),)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TaskError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise TaskError(f"{path}:{line}: not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}; "
                        "save the file as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_make_loader(path.parent))  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TaskError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TaskError(f"{path}: a task file must be a mapping, got {type(data).__name__}")
    include = data.pop("include", None)
    if include:
        base_path = (path.parent / str(include)).resolve()
        if root not in base_path.parents:
            raise TaskError(f"{path}: include {include!r} must stay inside the task folder {root}")
        if not base_path.is_file():
            raise TaskError(f"{path}: include {include!r} not found at {base_path}")
        if base_path in chain:
            cycle = " -> ".join(p.name for p in chain + (base_path,))
            raise TaskError(f"{path}: include cycle: {cycle}")
        data = _deep_merge(read_yaml(base_path, root, chain), data)
    return data


# The name a file means to define, read from its text when the YAML itself cannot be read.
_NAME_LINE = re.compile(r"^(?:task|group)[ \t]*:[ \t]*[\"']?([^\s\"'#]+)", re.MULTILINE)


def intended_name(path: Path) -> str:
    """The task (or group) name a file would define: its first top-level ``task:`` or ``group:``
    line, else the file's stem. Used to report a broken file under the name a user asks for."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return path.stem
    match = _NAME_LINE.search(text)
    return match.group(1) if match else path.stem


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def expand_env(value: str) -> str:
    """``${VAR}`` and ``${VAR:-default}`` from the environment, then ``~``."""

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        return os.environ.get(name) or (default if default is not None else "")

    return os.path.expanduser(_ENV.sub(sub, value))


@dataclass(frozen=True)
class MetricSpec:
    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskConfig:
    name: str
    path: Path
    version: int | str = 0
    description: str = ""
    dataset: dict[str, Any] = field(default_factory=dict)
    filter: dict[str, list[str]] = field(default_factory=dict)
    prompt: dict[str, str] = field(default_factory=dict)
    generation_kwargs: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[MetricSpec, ...] = ()
    judge_prompts: dict[str, str] = field(default_factory=dict)
    box_format: str = "giqa_grid"
    plugin: str = ""
    scoring: dict[str, Any] = field(default_factory=dict)  # score/MCQ tasks (giqa_harness/score/spec.py)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def format_question(self, question: str) -> str:
        return f"{self.prompt.get('prefix', '')}{question}{self.prompt.get('suffix', '')}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "path": str(self.path),
            "plugin": self.plugin,
            "dataset": {k: (v.target if isinstance(v, FunctionRef) else v) for k, v in self.dataset.items()},
            "filter": self.filter,
            "prompt": self.prompt,
            "generation_kwargs": self.generation_kwargs,
            "metrics": [{"name": m.name, "options": m.options} for m in self.metrics],
            "box_format": self.box_format,
            **({"scoring": self.scoring} if self.scoring else {}),
        }


@dataclass(frozen=True)
class GroupConfig:
    name: str
    path: Path
    tasks: tuple[str, ...]
    description: str = ""


def _check_keys(path: Path, where: str, data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise TaskError(f"{path}: unknown key(s) {unknown} in {where}; allowed: {sorted(allowed)}")


def _filter_values(path: Path, key: str, value: Any) -> list[str]:
    """A filter's allowed values as strings. YAML 1.1 reads a bare ``yes``/``no`` as a boolean, so the
    documented ``qtype: [yes, no]`` is mapped back; a value no doc can have is an error, not an empty run."""
    values = value if isinstance(value, list) else [value]
    out = [("yes" if v else "no") if isinstance(v, bool) else str(v) for v in values]
    unknown = [v for v in out if v not in FILTER_VALUES[key]]
    if unknown:
        raise TaskError(f"{path}: filter.{key} has {unknown}; expected values from {list(FILTER_VALUES[key])}")
    return out


def parse_task(path: Path, data: dict[str, Any], plugin: str = "") -> TaskConfig | GroupConfig:
    """Validate one YAML mapping into a task or a group, naming the file and field on any error."""
    if "group" in data:
        _check_keys(path, "a group", data, GROUP_KEYS)
        tasks = data.get("tasks")
        if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks):
            raise TaskError(f"{path}: group {data['group']!r} needs 'tasks': a non-empty list of task names")
        return GroupConfig(str(data["group"]), path, tuple(tasks), str(data.get("description", "")))
    if "task" not in data:
        raise TaskError(f"{path}: needs a 'task' (or 'group') key")
    _check_keys(path, f"task {data['task']!r}", data, TASK_KEYS)
    dataset = data.get("dataset") or {}
    if not isinstance(dataset, dict):
        raise TaskError(f"{path}: 'dataset' must be a mapping")
    _check_keys(path, "dataset", dataset, DATASET_KEYS)
    filt = data.get("filter") or {}
    if not isinstance(filt, dict):
        raise TaskError(f"{path}: 'filter' must be a mapping")
    _check_keys(path, "filter", filt, set(FILTER_VALUES))
    filt = {k: _filter_values(path, k, v) for k, v in filt.items()}
    metrics = []
    for i, item in enumerate(data.get("metrics") or []):
        if isinstance(item, str):
            metrics.append(MetricSpec(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            options = item.get("options") or {}
            if not isinstance(options, dict):
                raise TaskError(f"{path}: metrics[{i}].options must be a mapping")
            metrics.append(MetricSpec(item["name"], dict(options)))
        else:
            raise TaskError(f"{path}: metrics[{i}] must be a name or {{name: ..., options: {{...}}}}")
    for key in ("prompt", "generation_kwargs", "judge_prompts", "scoring"):
        if not isinstance(data.get(key) or {}, dict):
            raise TaskError(f"{path}: {key!r} must be a mapping")
    return TaskConfig(
        name=str(data["task"]),
        path=path,
        version=data.get("version", 0),
        description=str(data.get("description", "")).strip(),
        dataset=dataset,
        filter=filt,
        prompt={k: str(v) for k, v in (data.get("prompt") or {}).items()},
        generation_kwargs=dict(data.get("generation_kwargs") or {}),
        metrics=tuple(metrics),
        judge_prompts={k: str(v) for k, v in (data.get("judge_prompts") or {}).items()},
        box_format=str(data.get("box_format", "giqa_grid")),
        plugin=plugin,
        scoring=dict(data.get("scoring") or {}),
    )


class TaskIndex:
    """Every task and group below the registered task folders.

    A file that cannot be read or validated (any exception) is an error for that file alone: it is
    listed in ``errors``, and asking for the name it would define (`intended_name`) raises its error
    instead of "unknown task". ``failed_plugins`` ("name: error") are named in unknown-task errors.
    """

    def __init__(self, folders: list[tuple[Path, str]], failed_plugins: Sequence[str] = ()) -> None:
        self.tasks: dict[str, TaskConfig] = {}
        self.groups: dict[str, GroupConfig] = {}
        self.errors: list[str] = []
        self.broken: dict[str, str] = {}  # intended name -> error of the file that would define it
        self.failed_plugins = list(failed_plugins)
        for folder, plugin in folders:
            for path in sorted(folder.rglob("*.yaml")):
                if path.name.startswith("_"):
                    continue  # include-only fragments
                try:
                    item = parse_task(path, read_yaml(path, folder), plugin)
                except Exception as exc:  # one unreadable file must not take every command down
                    message = str(exc) if isinstance(exc, TaskError) else f"{path}: {type(exc).__name__}: {exc}"
                    self.errors.append(message)
                    self.broken.setdefault(intended_name(path), message)
                    continue
                target = self.groups if isinstance(item, GroupConfig) else self.tasks
                target[item.name] = item  # type: ignore[assignment]

    def names(self) -> list[str]:
        return sorted(set(self.tasks) | set(self.groups))

    def resolve(self, names: list[str]) -> list[TaskConfig]:
        """Task and group names -> task configs, groups expanded, duplicates dropped, order kept."""
        out: list[TaskConfig] = []
        seen: set[str] = set()

        def visit(name: str, stack: tuple[str, ...]) -> None:
            if name in stack:
                raise TaskError(f"group cycle: {' -> '.join(stack + (name,))}")
            if name in self.groups:
                for child in self.groups[name].tasks:
                    visit(child, stack + (name,))
            elif name in self.tasks:
                if name not in seen:
                    seen.add(name)
                    out.append(self.tasks[name])
            elif name in self.broken:
                raise TaskError(f"task {name!r} cannot be loaded: {self.broken[name]}")
            else:
                raise UnknownNameError("task", name, self.names(), self.failed_plugins)

        for name in names:
            visit(name.strip(), ())
        return out


def task_index() -> TaskIndex:
    from .plugins import registry

    reg = registry()
    return TaskIndex(reg.task_dirs, reg.failure_lines())
