"""Wall time of the same tiny model on the same docs through lmms-eval and through giqa-harness.

Start-up included (each harness runs as its own process, the way users run it). Needs an environment
with both installed (scripts/check_lmms_interop.sh builds one):

    .lmms-venv/bin/python benchmarks/bench_lmms.py [--docs 24] [--repeats 2]

Prints the median wall time of each and the ratio lmms-eval / giqa-harness.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from giqa_harness.testing.bench import write_bench, write_task
    from giqa_harness.testing.distributions import make_distribution
    from giqa_harness.testing.tiny_models import build_tiny_llava

    root = Path(tempfile.mkdtemp(prefix="bench_lmms_"))
    site = root / "site"
    site.mkdir()
    plugin = ("from pathlib import Path\nfrom giqa_harness.hookspecs import hookimpl\n"
              "@hookimpl\ndef register_tasks(register):\n    register(Path(__file__).with_name('tasks'))\n")
    make_distribution(site, "giqa-bench-tasks", plugin, {"bench": "giqa_bench_tasks"})
    records = [{"id": f"q{i:03d}", "image": "images/a.png" if i % 2 else "images/b.png", "kind": "vqa_yn",
                "qtype": "yes", "question": "Is the [sky](<0, 59>) over-exposed?", "answer": "Yes."}
               for i in range(args.docs)]
    write_task(site / "tasks", "giqa_bench_vqa", write_bench(root / "data", records), ["miou", "acc_y"],
               extra="generation_kwargs: {max_new_tokens: 16, do_sample: false}\n")
    tiny = build_tiny_llava(root / "tiny")
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "giqa_harness", "export-lmms-tasks", str(root / "lmms"),
                    "--tasks", "giqa_bench_vqa"], env=env, check=True, capture_output=True)

    def timed(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        return time.perf_counter() - start

    lmms, giqa = [], []
    for i in range(args.repeats):
        lmms.append(timed([sys.executable, "-m", "lmms_eval", "--model", "llava_hf", "--model_args",
                           f"pretrained={tiny},device=cpu,device_map=cpu,dtype=float32", "--tasks",
                           "giqa_bench_vqa", "--include_path", str(root / "lmms"), "--output_path",
                           str(root / f"lmms_out{i}"), "--batch_size", "1"]))
        giqa.append(timed([sys.executable, "-m", "giqa_harness", "--model", "llava", "--model_args",
                           f"pretrained={tiny}", "--tasks", "giqa_bench_vqa", "--batch_size", "1",
                           "--no_cache", "--bootstrap", "0"]))
    lm, gm = statistics.median(lmms), statistics.median(giqa)
    print(f"docs: {args.docs}, repeats: {args.repeats}, same tiny LLaVA, start-up included")
    print(f"lmms-eval     median wall time: {lm:7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in lmms)})")
    print(f"giqa-harness  median wall time: {gm:7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in giqa)})")
    print(f"ratio lmms-eval / giqa-harness: {lm / gm:.2f}")


if __name__ == "__main__":
    main()
