"""Overlapped stages: chunks in order through every stage, really concurrent, same outputs as stage by stage."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from giqa_harness.annotate.overlap import run_overlapped


def states(n):
    return [SimpleNamespace(i=i, failure=None) for i in range(n)]


def test_each_stage_sees_every_chunk_in_order_after_the_stage_before_it():
    done: list[tuple[int, list[int]]] = []
    lock = threading.Lock()
    stages = [SimpleNamespace(name=f"s{k}") for k in range(3)]

    def run_stage(stage, chunk, index):
        with lock:
            # the stage before has already finished this chunk
            assert index == 0 or (index - 1, [s.i for s in chunk]) in done
            done.append((index, [s.i for s in chunk]))

    run_overlapped(stages, states(7), 3, run_stage)
    for index in range(3):
        assert [c for k, c in done if k == index] == [[0, 1, 2], [3, 4, 5], [6]]


def test_records_failed_upstream_are_not_handed_on_and_stages_really_overlap():
    stages = [SimpleNamespace(name="slow_io"), SimpleNamespace(name="compute")]
    active, most = [0], [0]
    lock = threading.Lock()
    seen: list[int] = []

    def run_stage(stage, chunk, index):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        if index == 0:
            for s in chunk:
                if s.i == 4:
                    s.failure = ("slow_io", "broken")
        else:
            seen.extend(s.i for s in chunk)
        time.sleep(0.05)
        with lock:
            active[0] -= 1

    run_overlapped(stages, states(8), 2, run_stage)
    assert seen == [0, 1, 2, 3, 5, 6, 7]
    assert most[0] == 2  # the second stage worked on one chunk while the first worked on the next


def test_an_exception_in_a_stage_is_raised_in_the_caller():
    stages = [SimpleNamespace(name="a"), SimpleNamespace(name="b")]

    def run_stage(stage, chunk, index):
        if index == 1:
            raise RuntimeError("stage b broke")

    with pytest.raises(RuntimeError, match="stage b broke"):
        run_overlapped(stages, states(6), 2, run_stage)


def test_overlapped_and_stage_by_stage_runs_write_the_same_records_and_samples(tmp_path):
    from test_annotate_pipeline import read_jsonl, run

    outputs = {}
    for batch in (1, 100):  # 100 > the 4 records: one stage after another
        root = tmp_path / f"b{batch}"
        stats, *_ = run(root, batch_size=batch)
        outputs[batch] = ({k: v for k, v in stats.items() if k not in ("config", "files")},
                          read_jsonl(root / "out" / "records.jsonl"), read_jsonl(root / "out" / "annotations.jsonl"))
    assert outputs[1] == outputs[100]
