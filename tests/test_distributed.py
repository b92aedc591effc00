"""The shard of a process, read from the launcher's environment (RANK, WORLD_SIZE)."""

from __future__ import annotations

import pytest

from giqa_harness.distributed import Shard, current_shard
from giqa_harness.errors import ConfigError


def test_no_launcher_means_one_process_that_sees_every_doc(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert current_shard() == Shard(0, 1)
    assert Shard(0, 1).select("abcde") == list("abcde")


def test_ranks_split_the_docs_without_overlap_or_loss():
    shards = [Shard(rank, 3).select(range(10)) for rank in range(3)]
    assert sorted(i for shard in shards for i in shard) == list(range(10))


@pytest.mark.parametrize("rank,world", [("1", None), ("2", "2"), ("-1", "2"), ("zero", "2"), ("0", "two")])
def test_an_inconsistent_environment_is_an_error_not_a_silent_empty_run(monkeypatch, rank, world):
    """RANK=1 without WORLD_SIZE used to make a single process that skipped a doc and wrote nothing."""
    monkeypatch.setenv("RANK", rank)
    if world is None:
        monkeypatch.delenv("WORLD_SIZE", raising=False)
    else:
        monkeypatch.setenv("WORLD_SIZE", world)
    with pytest.raises(ConfigError, match="RANK"):
        current_shard()
