"""What the box metrics reward: the classical baseline beside trivial and adversarial answers on giqa_synth.

    python benchmarks/bench_adversarial.py [--bootstrap 1000] [--seed 0]

Rows (giqa_harness/synth/adversarial.py): ``classical`` (the training-free adapter), ``whole_image``,
``random_boxes``, ``box_grid`` (the same 225 boxes in every answer), ``shuffled_references``,
``jitter_1`` / ``jitter_3`` (the references with every box corner moved 1 / 3 grid cells) and
``reference`` (the ceiling). Every box metric of both halves is printed with its 95% bootstrap
interval, then the box counts (``(!)``: more than 3x the reference boxes, flagged by the harness).
``--seed`` seeds the random answer sets. Everything runs in a temporary cache; docs/metrics.md holds
the output of a default run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random answer sets")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GIQA_HARNESS_CACHE"] = str(Path(tmp) / "cache")
        from giqa_harness.synth import ensure_bench
        from giqa_harness.synth.adversarial import evaluate_answer_sets, markdown_table

        tasks = ["giqa_synth_des", "giqa_synth_vqa"]
        results = evaluate_answer_sets(ensure_bench(), tasks, Path(tmp) / "answers", bootstrap=args.bootstrap,
                                       seed=args.seed)
        for task in tasks:
            print(f"\n{task}, 95% bootstrap intervals ({args.bootstrap} resamples), answer-set seed {args.seed}:\n")
            print(markdown_table(results, task))
    return 0


if __name__ == "__main__":
    sys.exit(main())
