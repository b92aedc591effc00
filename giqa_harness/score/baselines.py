"""Reference predictors for giqa_synth_score, answered through the same generation path as a model:

- ``classical``: the training-free adapter's own score (``1 + 4 exp(-D)``, D = its findings' severity
  times covered area, summed; giqa_harness/classical/answers.py), read as a number;
- ``random``: a uniform number in [1, 5] per image from a seeded generator (the chance level);
- ``constant``: "3" for every image (every correlation is undefined: nothing is ranked).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

METHODS = ("classical", "random", "constant")


def write_replay(task: str, name: str, target: Path, seed: int = 0) -> Path:
    """A replay file answering every record of the score task ``task`` as baseline ``name``."""
    from ..task import task_index
    from .loaders import load_items
    from .spec import read_spec

    config = task_index().resolve([task])[0]
    spec = read_spec(config.scoring, str(config.path))
    records = load_items(config, spec.loader, spec.loader_args)
    rng = np.random.default_rng(seed)
    answers = [f"{rng.uniform(1.0, 5.0):.3f}" if name == "random" else "3" for _ in records]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps({"doc_id": r.doc_id, "answer": a}) + "\n" for r, a in zip(records, answers)),
                      encoding="utf-8")
    return target


def evaluate_score_baselines(work: Path, task: str = "giqa_synth_score_generate", bootstrap: int = 1000,
                             seed: int = 0) -> dict[str, dict[str, Any]]:
    """Results documents of the three predictors on ``task`` (nothing cached)."""
    from ..evaluator import RunConfig, evaluate

    out = {}
    for name in METHODS:
        if name == "classical":
            config = RunConfig(model="classical", tasks=[task], progress=False, bootstrap=bootstrap, use_cache=False)
        else:
            replay = write_replay(task, name, work / f"{name}.jsonl", seed)
            config = RunConfig(model="replay", model_args={"path": str(replay)}, tasks=[task], progress=False,
                               bootstrap=bootstrap, use_cache=False)
        out[name] = evaluate(config)
    return out


def markdown_table(results: dict[str, dict[str, Any]], task: str = "giqa_synth_score_generate") -> str:
    """One row per predictor: SRCC, PLCC, KRCC with 95% intervals, and n."""
    lines = ["| predictor | SRCC | PLCC | KRCC | n |", "|---|---|---|---|---|"]
    for name, doc in results.items():
        metrics = doc["results"][task]["metrics"]
        cells = []
        for key in ("srcc", "plcc", "krcc"):
            m = metrics[key]
            cells.append("undefined" if m["value"] is None else
                         f"{m['value']:.3f} [{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {metrics['srcc']['n']} |")
    return "\n".join(lines)
