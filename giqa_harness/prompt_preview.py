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
from .score.runner import LIKELIHOOD, as_doc, choice_inputs, resolve_method
from .score.spec import read_spec

DEFAULT_LIMIT = 3  # docs per task when --limit is not given


def preview_prompts(config: RunConfig, out: IO[str], adapter: Any = None) -> int:
    """Print the full prompt of the first ``config.limit`` docs of every task; returns how many."""
    limit = DEFAULT_LIMIT if config.limit is None else config.limit  # a fraction works too
    evaluator = Evaluator(replace(config, limit=limit, use_cache=False, judge=None, output_path=None),
                          adapter=adapter)
    shown = 0
    try:
        for task in evaluator.tasks:
            records, scored_by = evaluator.docs[task.name], {}
            if task.scoring:  # score and multiple-choice tasks: the question the runner asks, and how it answers
                spec = read_spec(task.scoring, str(task.path))
                method = resolve_method(spec, evaluator.adapter, task.name)
                scored_by = {r.doc_id: choice_inputs(r, spec) for r in records} if method == LIKELIHOOD else {}
                records = [as_doc(r, spec) for r in records]
            for item in evaluator.prepare(task, records):
                header = f"=== {task.name} · {item.doc.doc_id}"
                if item.failure is not None:
                    out.write(f"{header}: not rendered ({item.failure})\n\n")
                    continue
                request = build_request(task, item, load_image(item.doc.image))
                prompt = evaluator.adapter.render_prompts([request])[0]
                text = prompt if prompt is not None else f"(model {evaluator.adapter.name!r} cannot show its prompt)"
                if item.doc.doc_id in scored_by:
                    prefix, candidates = scored_by[item.doc.doc_id]
                    text += (f"\n--- scored by likelihood: log P(candidate | prompt{' + ' + repr(prefix) if prefix else ''})"
                             f" for {', '.join(map(repr, candidates))}")
                out.write(f"{header}\n{text}\n\n")
                shown += 1
    finally:
        evaluator.adapter.close()
    out.write(f"{shown} prompt(s) shown; nothing was generated\n")
    return shown


__all__ = ["DEFAULT_LIMIT", "preview_prompts"]
