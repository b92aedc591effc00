"""What ``giqa-harness validate`` checks of a score or multiple-choice task."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import GiqaError

if TYPE_CHECKING:
    from ..task import TaskConfig


def scoring_problems(task: "TaskConfig", check_data: bool) -> list[str]:
    """The scoring block's mistakes, and with ``check_data`` the records' and images' (all named)."""
    from .loaders import load_items
    from .spec import read_spec

    try:
        spec = read_spec(task.scoring, str(task.path))
    except GiqaError as exc:
        return [str(exc)]
    if not check_data:
        return []
    try:
        records = load_items(task, spec.loader, spec.loader_args)
    except GiqaError as exc:
        return [str(exc)]
    missing = [r.image for r in records if not Path(r.image).is_file()]
    return [f"{len(missing)} images missing, e.g. {missing[0]}"] if missing else []
