"""giqa_synth_score: the classical baseline against a random and a constant predictor.

    python benchmarks/bench_score.py [--bootstrap 1000] [--seed 0]

Each predictor answers the 100 bench images by generation (giqa_synth_score_generate); its scores are
compared with the synthetic MOS (docs/score.md) by SRCC, PLCC and KRCC with 95% bootstrap intervals.
``--seed`` seeds the random predictor and the bootstrap. Everything runs in a temporary cache.
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
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GIQA_HARNESS_CACHE"] = str(Path(tmp) / "cache")
        from giqa_harness.score.baselines import evaluate_score_baselines, markdown_table

        results = evaluate_score_baselines(Path(tmp) / "replays", bootstrap=args.bootstrap, seed=args.seed)
        print(f"giqa_synth_score (by generation), 95% bootstrap intervals ({args.bootstrap} resamples):\n")
        print(markdown_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
