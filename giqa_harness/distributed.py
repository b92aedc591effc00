"""Data-parallel evaluation across processes started by ``accelerate launch`` or ``torchrun``.

Each rank answers every ``world_size``-th doc into the shared response cache; after a barrier, rank 0
reads all answers back and scores. No home-made transport: the barrier is torch.distributed's (gloo),
initialised from the environment the launcher sets (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence, TypeVar

from .errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def select(self, items: Sequence[T]) -> list[T]:
        return list(items[self.rank :: self.world_size])

    def barrier(self) -> None:
        if self.world_size <= 1:
            return
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group(backend="gloo", rank=self.rank, world_size=self.world_size)
        dist.barrier()


def current_shard() -> Shard:
    """The shard of this process, from the launcher's environment (a single process by default)."""
    raw_rank, raw_world = os.environ.get("RANK", "0"), os.environ.get("WORLD_SIZE", "1")
    try:
        rank, world = int(raw_rank), int(raw_world)
    except ValueError:
        rank, world = -1, 0
    if not 0 <= rank < world:  # e.g. RANK=1 alone: one process that would skip docs and write nothing
        raise ConfigError(f"inconsistent launcher environment RANK={raw_rank!r}, WORLD_SIZE={raw_world!r}: "
                          "need integers with 0 <= RANK < WORLD_SIZE (unset both for a single process)")
    return Shard(rank=rank, world_size=world)
