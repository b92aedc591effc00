"""Where a run keeps its state on disk: resumable checkpoints, the loss log, the final model.

Layout under ``output.dir``::

    recipe.json                     the resolved recipe the run started with
    train_log.jsonl                 one line per logged step: step, epoch, loss, learning_rate, ...
    checkpoints/step_00000050/      accelerate's save_state (model, optimizer, scheduler, progress,
                                    RNG of every process) plus complete.json, written last
    final/                          model + processor + giqa_adapter.json (``--model giqa`` loads it)
                                    + training.json (the recipe, steps and sample count)

A checkpoint without ``complete.json`` was interrupted while saving and is never resumed from.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from giqa_harness import __version__
from giqa_harness.errors import ConfigError
from giqa_harness.output import atomic_write_json, atomic_write_text, read_jsonl

from .recipe import Recipe

TRAINING_INFO = "training.json"
LOG_FILE = "train_log.jsonl"
COMPLETE = "complete.json"
# Recipe fields a resumed run may change: they do not alter which batches are seen or the schedule.
RESUMABLE_CHANGES = ("output.", "description", "data.num_workers")


class Progress:
    """The optimizer-step counter, saved and restored with the checkpoint (accelerate's custom state)."""

    def __init__(self) -> None:
        self.step = 0

    def state_dict(self) -> dict[str, int]:
        return {"step": self.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])


def checkpoint_dir(output: Path, step: int) -> Path:
    return output / "checkpoints" / f"step_{step:08d}"


def complete_checkpoints(output: Path) -> list[Path]:
    """Checkpoints that finished saving, oldest first."""
    folder = output / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("step_*") if (p / COMPLETE).is_file())


def resume_point(recipe: Recipe) -> Path | None:
    """The checkpoint to resume from: ``output.resume`` is ``auto`` (the last complete one, if any),
    ``never``, or a checkpoint folder."""
    spec = recipe.output.resume
    if spec == "never":
        return None
    if spec == "auto":
        found = complete_checkpoints(Path(recipe.output.dir))
        return found[-1] if found else None
    path = Path(spec).expanduser()
    if not (path / COMPLETE).is_file():
        raise ConfigError(f"output.resume={spec}: not a complete checkpoint folder (no {COMPLETE} inside)")
    return path


def training_identity(recipe: Recipe) -> dict[str, Any]:
    """The recipe as dotted ``section.field`` keys, without the fields a resumed run may change."""
    flat: dict[str, Any] = {}
    for key, value in recipe.to_json().items():
        if isinstance(value, dict):
            flat.update({f"{key}.{field}": v for field, v in value.items()})
        else:
            flat[key] = value
    return {k: v for k, v in flat.items() if not k.startswith(RESUMABLE_CHANGES)}


def check_resumable(recipe: Recipe, checkpoint: Path) -> int:
    """The step saved in ``checkpoint``; an error naming the fields when the recipe changed since."""
    saved = json.loads((checkpoint / COMPLETE).read_text(encoding="utf-8"))
    before, now = saved["training"], training_identity(recipe)
    changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    if changed:
        raise ConfigError(
            f"cannot resume from {checkpoint}: the recipe changed ({', '.join(changed)}). Restore those fields, "
            "or start afresh with output.resume=never (or another output.dir)"
        )
    return int(saved["step"])


def mark_complete(recipe: Recipe, folder: Path, step: int) -> None:
    atomic_write_json(folder / COMPLETE, {"step": step, "training": training_identity(recipe)})


def prune_checkpoints(output: Path, keep_last: int) -> None:
    for old in complete_checkpoints(output)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)


def truncate_log(output: Path, step: int) -> None:
    """Drop log lines past ``step``: a resumed run logs those steps again."""
    path = output / LOG_FILE
    if path.is_file():
        rows = [r for r in read_jsonl(path) if int(r.get("step", 0)) <= step]
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


def append_log(output: Path, row: dict[str, Any]) -> None:
    with open(output / LOG_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


def finished_run(recipe: Recipe) -> int | None:
    """The step count of a finished run of this same recipe in ``output.dir/final``, else None."""
    info = Path(recipe.output.dir) / "final" / TRAINING_INFO
    if recipe.output.resume == "never" or not info.is_file():
        return None
    from .recipe import recipe_from_dict

    saved = json.loads(info.read_text(encoding="utf-8"))
    if training_identity(recipe_from_dict(saved["recipe"])) != training_identity(recipe):
        return None
    return int(saved["optimizer_steps"])


def write_final_metadata(folder: Path, recipe: Recipe, family: str, image_frame: str, prompt_template: str | None,
                         steps: int, samples: int) -> None:
    """``giqa_adapter.json`` (the ``giqa`` adapter's own schema: how to load and prompt the model, which
    box syntax it writes) and ``training.json`` (provenance: the recipe, steps and sample count)."""
    from giqa_harness.model_adapters.giqa import GiqaCheckpointInfo

    GiqaCheckpointInfo(
        base=family, box_format=recipe.data.box_text,
        frame="original",  # annotate/ writes every box relative to the original image
        image_frame=image_frame, prompt_template=prompt_template, base_model=recipe.model.base,
    ).write(folder)
    atomic_write_json(folder / TRAINING_INFO, {  # written last: its presence marks a finished run
        "recipe": recipe.to_json(), "optimizer_steps": steps, "training_samples": samples,
        "giqa_harness_version": __version__,
    })
