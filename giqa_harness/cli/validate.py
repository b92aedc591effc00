"""``giqa-harness validate [TASK|FILE.yaml ...]``: check task definitions without running a model.

Checks the schema, that every metric and the box format are registered, that ``!function`` helpers
resolve inside the task folder, and (with ``--data``) that every record loads with well-formed boxes
and every image exists and decodes fully.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .helptext import command_parser


def validate_task(task, check_data: bool) -> list[str]:
    from ..datasets import load_docs
    from ..errors import GiqaError
    from ..image_checks import image_problems
    from ..plugins import registry
    from ..task import FunctionRef

    problems = []
    reg = registry()
    for spec in task.metrics:
        if spec.name not in reg.metrics:
            problems.append(f"metric {spec.name!r} is not registered")
            continue
        try:
            reg.metrics.get(spec.name).read_options(spec.options)
        except GiqaError as exc:
            problems.append(str(exc))
    if task.box_format not in reg.formats:
        problems.append(f"box_format {task.box_format!r} is not registered")
    builder = task.dataset.get("builder")
    if isinstance(builder, FunctionRef):
        try:
            builder.resolve()
        except GiqaError as exc:
            problems.append(str(exc))
    if task.scoring:  # score and multiple-choice tasks (docs/score.md)
        from ..score.validation import scoring_problems

        return problems + scoring_problems(task, check_data)
    if check_data:
        try:
            problems.extend(image_problems(load_docs(task)))
        except GiqaError as exc:
            problems.extend(str(exc).splitlines())
    return problems


def main(argv: Sequence[str], command: str = "validate") -> int:
    from ..errors import GiqaError
    from ..plugins import registry
    from ..task import parse_task, read_yaml, task_index

    p = command_parser("giqa-harness validate", __doc__)
    p.add_argument("targets", nargs="*", help="task names, groups or YAML files (default: every registered task)")
    p.add_argument("--data", action="store_true", help="also check every record (fields, boxes, ids) and decode every image fully")
    args = p.parse_args(list(argv))
    failures = 0
    index = task_index()
    tasks = []
    for target in args.targets or index.names():
        path = Path(target)
        if path.suffix in (".yaml", ".yml") and path.is_file():
            try:
                path = path.resolve()
                root = next((f for f, _ in registry().task_dirs if Path(f).resolve() in path.parents), None)
                item = parse_task(path, read_yaml(path, root))
            except Exception as exc:
                print(f"FAIL {path}: {exc}")
                failures += 1
                continue
            tasks.extend(index.resolve(list(item.tasks)) if hasattr(item, "tasks") else [item])
        else:
            try:
                tasks.extend(index.resolve([target]))
            except GiqaError as exc:  # an unknown name or a file that cannot be read: this target only
                print(f"FAIL {target}: {exc}")
                failures += 1
    if not args.targets:
        for error in index.errors:
            print(f"FAIL {error}")
            failures += 1
    for task in {t.name: t for t in tasks}.values():
        problems = validate_task(task, args.data)
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {task.name} ({task.path})")
        for problem in problems:
            print(f"     - {problem}")
        failures += bool(problems)
    return 1 if failures else 0



