"""What ``giqa-harness validate`` checks of a score or multiple-choice task."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import GiqaError

if TYPE_CHECKING:
    from ..task import TaskConfig


def scoring_problems(task: "TaskConfig", check_data: bool) -> list[str]:
    """The scoring block's mistakes, and with ``check_data`` the records' and images' (all named)."""
    from ..image_checks import image_problems
    from .loaders import load_items
    from .runner import as_doc
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
    # The same check as a grounding task's: every image exists and decodes to the last pixel.
    return image_problems([as_doc(r, spec) for r in records])
