"""Stages overlapped over chunks of records: each stage in its own thread, chunks passed down in order.

Run one stage after another over every record, and the detector idles while the LLM answers tags,
and the LLM idles while the detector runs. Overlapped, stage k works on chunk i while stage k + 1
works on chunk i - 1: an LLM endpoint's waiting and the detector's computing proceed together.

Each stage still sees its chunks one at a time and in order, so a stage's model is never used by two
threads at once (the tag and VQA stages share the LLM client, whose concurrency limit is its own).
Every stage's output for a record depends on that record alone (seeds are hashed per record), so the
results equal those of the stage-by-stage run. An exception that escapes a stage stops the others
after their current chunk and is raised in the caller.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Sequence

_DONE = object()


def run_overlapped(stages: Sequence[Any], states: Sequence[Any], chunk: int,
                   run_stage: Callable[[Any, list[Any], int], None]) -> None:
    """``run_stage(stage, live states of a chunk, stage index)`` for every stage and chunk, stages in
    their own threads, each chunk reaching stage k + 1 once stage k has finished it."""
    inboxes: list[queue.Queue[Any]] = [queue.Queue() for _ in stages]
    for first in range(0, len(states), chunk):
        inboxes[0].put(list(states[first:first + chunk]))
    inboxes[0].put(_DONE)
    errors: list[BaseException] = []

    def work(index: int, stage: Any) -> None:
        try:
            while (chunk_states := inboxes[index].get()) is not _DONE:
                if not errors:  # after a failure elsewhere, chunks pass through untouched
                    run_stage(stage, [s for s in chunk_states if s.failure is None], index)
                if index + 1 < len(stages):
                    inboxes[index + 1].put(chunk_states)
        except BaseException as exc:  # noqa: BLE001 (re-raised in the caller's thread)
            errors.append(exc)
        finally:
            if index + 1 < len(stages):
                inboxes[index + 1].put(_DONE)

    threads = [threading.Thread(target=work, args=(i, stage), name=f"annotate-{stage.name}", daemon=True)
               for i, stage in enumerate(stages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
