"""benchmarks/bench_annotate.py runs end to end against its endpoint in a separate process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_annotate.py"


@pytest.mark.slow
def test_the_bench_prints_records_per_second_beside_the_bound_and_the_detector_cap():
    done = subprocess.run([sys.executable, str(SCRIPT), "--records", "6", "--concurrency", "2", "--repeats", "1",
                           "--latency", "0.05"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "records failed" not in done.stderr  # every record was annotated through the endpoint process
    header, row = done.stdout.strip().splitlines()[-2:]
    assert header.split()[:4] == ["concurrency", "batch", "calls/rec", "records/s"]
    concurrency, batch, calls_per_record, rate, bound = row.split()[:5]
    assert (concurrency, batch, calls_per_record) == ("2", "4", "2.00")  # one tag and one VQA call per record
    assert float(rate) > 0 and float(bound) == pytest.approx(2 / 0.05 / 2)
