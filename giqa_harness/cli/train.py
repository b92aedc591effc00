"""``giqa-harness train RECIPE [section.field=value ...]``: fine-tune an entrant from a recipe.

RECIPE is a YAML file or a built-in recipe name (``--list``). Overrides use the recipe's own field
names, e.g. ``data.train=giqa_train.json train.learning_rate=1e-5``. On several GPUs, start it through
``accelerate launch [--config_file training/recipes/accelerate/zero3.yaml] -m giqa_harness train ...``.
A rerun with the same output.dir resumes from its last checkpoint. See docs/training.md.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Sequence

from .helptext import command_parser

if TYPE_CHECKING:
    from ..training.recipe import Recipe


def main(argv: Sequence[str], command: str = "train") -> int:
    from ..training.recipe import builtin_recipes, load_recipe

    p = command_parser("giqa-harness train", __doc__)
    p.add_argument("recipe", nargs="?", help="recipe file or built-in name")
    p.add_argument("overrides", nargs="*", help="section.field=value (values read as YAML)")
    p.add_argument("--list", action="store_true", help="list the built-in recipes and exit")
    p.add_argument("--dry-run", action="store_true",
                   help="validate the recipe and data, print it with the batch plan and schedule, and exit")
    args = p.parse_args(list(argv))
    if args.list:
        for name, description in builtin_recipes().items():
            print(f"{name}: {description}")
        return 0
    if not args.recipe:
        p.error("a recipe is required (a YAML file or one of: " + ", ".join(builtin_recipes()) + ")")
    recipe = load_recipe(args.recipe, args.overrides)
    if args.dry_run:
        return dry_run(recipe)
    from ..progress import quiet_library_bars
    from ..training.train import train

    quiet_library_bars()  # its step lines are the progress; transformers' loading/saving bars are noise
    result = train(recipe)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"final model: {result.final_dir} (evaluate it: giqa-harness --model giqa "
              f"--model_args pretrained={result.final_dir} --tasks giqa_synth)")
    return 0


def dry_run(recipe: "Recipe") -> int:
    from ..training.data import read_conversations, select_kinds
    from ..training.schedule import plan_batches, plan_schedule

    t = recipe.train
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    plan = plan_batches(t.global_batch_size, t.per_device_batch_size, processes)
    data = recipe.data
    samples = len(select_kinds(read_conversations(data.train, data.image_root), data.kinds))
    schedule = plan_schedule(samples, plan.global_batch, t.epochs, t.warmup_ratio, t.max_steps)
    print(json.dumps(recipe.to_json(), indent=2))
    print(f"{processes} process(es): global batch {plan.global_batch} = {plan.per_device} per device x "
          f"{plan.accumulation} accumulation x {plan.processes}; {samples} samples, {schedule.steps_per_epoch} "
          f"steps/epoch, {schedule.total_steps} steps, {schedule.warmup_steps} warm-up")
    return 0
