"""Box parsers: never raising on 100,000 random strings each, and what one answer costs to parse.

    python benchmarks/bench_parsers.py [--fuzz 100000] [--answers 2000] [--repeats 5] [--formats a,b]

Fuzzing: the same ``--fuzz`` random strings (markup fragments of every syntax, broken ones included,
arbitrary characters, long repeated runs; `giqa_harness.testing.box_text.random_markup`) with random
image sizes, zero included, go through every registered parser. Any exception is reported with the
string that caused it and makes the script exit 1.

Cost: ``--answers`` realistic answers per format (a three-sentence quality description with two to four
groundings written by the format's own `render`), parsed one after the other; the best of
``--repeats`` passes gives microseconds per answer. The ratio column compares each format with the
canonical grid parser; the last column is the share of a second of evaluation that parsing takes at
one answer per 50 ms of generation (a fast batched model), i.e. whether parsing can show in a profile.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback


def fuzz(formats: dict, count: int, seed: int) -> int:
    from giqa_harness.testing.box_text import random_markup

    rng = random.Random(seed)
    cases = [(random_markup(rng), (rng.choice((0, 1, rng.randint(1, 8000))), rng.randint(0, 8000)))
             for _ in range(count)]
    chars = sum(len(text) for text, _ in cases)
    print(f"fuzz: {count} strings, {chars / count:.0f} characters on average, longest {max(len(t) for t, _ in cases)}")
    failures = 0
    for name, fmt in formats.items():
        start = time.perf_counter()
        for text, size in cases:
            try:
                fmt.parse(text, size)
            except Exception:  # the one thing this benchmark exists to catch
                failures += 1
                if failures <= 5:
                    print(f"  {name}: exception on {text[:200]!r} size={size}")
                    traceback.print_exc()
        elapsed = time.perf_counter() - start
        print(f"  {name:<13} {count} strings, no exception" if not failures else f"  {name}: FAILURES",
              f"({elapsed:.1f} s, {elapsed / count * 1e6:.0f} us/string)")
    return failures


def parse_cost(formats: dict, count: int, repeats: int, seed: int) -> None:
    from giqa_harness.testing.box_text import realistic_answer

    rows = []
    for name, fmt in formats.items():
        rng = random.Random(seed)
        sizes = [(rng.randint(64, 4000), rng.randint(64, 4000)) for _ in range(count)]
        answers = [realistic_answer(fmt, size, rng) for size in sizes]
        boxes = sum(len(fmt.parse(a, s).boxes) for a, s in zip(answers, sizes))
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for answer, size in zip(answers, sizes):
                fmt.parse(answer, size)
            best = min(best, time.perf_counter() - start)
        rows.append((name, best / count * 1e6, sum(map(len, answers)) / count, boxes / count))
    grid = next((us for name, us, _, _ in rows if name == "giqa_grid"), rows[0][1])
    print(f"\nparse cost per realistic answer (best of {repeats} passes over {count} answers)")
    print(f"  {'format':<13} {'us/answer':>10} {'vs grid':>8} {'chars':>6} {'boxes':>6} {'share of 50 ms':>15}")
    for name, us, chars, boxes in rows:
        print(f"  {name:<13} {us:>10.1f} {us / grid:>7.2f}x {chars:>6.0f} {boxes:>6.1f} {us / 50_000:>14.4%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fuzz", type=int, default=100_000, help="random strings per format")
    parser.add_argument("--answers", type=int, default=2000, help="realistic answers timed per format")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", help="comma-separated names (default: every registered format)")
    args = parser.parse_args()

    from giqa_harness.boxes.formats import get_format
    from giqa_harness.plugins import registry

    names = args.formats.split(",") if args.formats else registry().formats.names()
    formats = {name: get_format(name) for name in names}
    failures = fuzz(formats, args.fuzz, args.seed) if args.fuzz else 0
    parse_cost(formats, args.answers, args.repeats, args.seed)
    if failures:
        print(f"\n{failures} parser exceptions", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
