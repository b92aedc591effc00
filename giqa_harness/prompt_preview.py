"""``giqa-harness --dry_run``: the full prompts a model would be given, printed without generating.

A family prompted with the wrong template still answers, just worse, so a wrong prompt is easy to miss
in the numbers. Before a long run, ``--dry_run --limit N`` builds the adapter (its tokenizer and
processor really render the prompt; the weights load too) and prints, for the first N docs of each
task, the exact text `ModelAdapter.render_prompts` returns: system sentence, template, image
placeholders and the referring boxes in the model's own syntax. Nothing is generated, cached or written.
"""

from __future__ import annotations

from dataclasses import replace
from typing import IO, Any

from .evaluator import Evaluator, RunConfig, build_request
from .prefetch import load_image

DEFAULT_LIMIT = 3  # docs per task when --limit is not given


def preview_prompts(config: RunConfig, out: IO[str], adapter: Any = None) -> int:
    """Print the full prompt of the first ``config.limit`` docs of every task; returns how many."""
    limit = DEFAULT_LIMIT if config.limit is None else config.limit  # a fraction works too
    evaluator = Evaluator(replace(config, limit=limit, use_cache=False, judge=None, output_path=None),
                          adapter=adapter)
    shown = 0
    try:
        for task in evaluator.tasks:
            if task.scoring:  # its requests are built by giqa_harness/score/, not as sample prompts
                out.write(f"=== {task.name}: a score task; its prompts are not previewed\n\n")
                continue
            items = evaluator.prepare(task, evaluator.docs[task.name])
            for item in items:
                header = f"=== {task.name} · {item.doc.doc_id}"
                if item.failure is not None:
                    out.write(f"{header}: not rendered ({item.failure})\n\n")
                    continue
                request = build_request(task, item, load_image(item.doc.image))
                prompt = evaluator.adapter.render_prompts([request])[0]
                text = prompt if prompt is not None else f"(model {evaluator.adapter.name!r} cannot show its prompt)"
                out.write(f"{header}\n{text}\n\n")
                shown += 1
    finally:
        evaluator.adapter.close()
    out.write(f"{shown} prompt(s) shown; nothing was generated\n")
    return shown


__all__ = ["DEFAULT_LIMIT", "preview_prompts"]
