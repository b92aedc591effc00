"""Batch and step arithmetic, and which samples each process reads at each step.

global batch = per-device batch x gradient accumulation x processes. Every optimizer step consumes
exactly one global batch, drawn from a seeded per-epoch permutation that depends on neither the
process count nor the accumulation, so the same recipe trains on the same batches on 1 or 8 processes.
An epoch whose sample count is not a multiple of the global batch is completed by wrapping around to
the start of its permutation (as accelerate's ``even_batches`` does), which keeps every step's size
fixed: DeepSpeed counts accumulation boundaries by micro-steps and must never see a short window.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from giqa_harness.errors import ConfigError


@dataclass(frozen=True)
class BatchPlan:
    global_batch: int
    per_device: int
    processes: int
    accumulation: int

    @property
    def micro_batch_all_processes(self) -> int:
        """Samples consumed by one micro-step summed over processes."""
        return self.per_device * self.processes


def plan_batches(global_batch: int, per_device: int, processes: int) -> BatchPlan:
    """Derive gradient accumulation; an error when the global batch does not divide exactly."""
    if min(global_batch, per_device, processes) < 1:
        raise ConfigError(
            f"batch sizes and process count must be positive (global {global_batch}, "
            f"per-device {per_device}, processes {processes})"
        )
    per_step = per_device * processes
    if global_batch % per_step:
        fits = [b for b in range(1, global_batch + 1) if global_batch % (b * processes) == 0]
        hint = (f"per-device batch sizes that fit {processes} process(es): {', '.join(map(str, fits))}"
                if fits else f"no per-device batch fits: {global_batch} is not a multiple of {processes} processes")
        raise ConfigError(
            f"train.global_batch_size {global_batch} is not divisible by per_device_batch_size {per_device} x "
            f"{processes} process(es) = {per_step}; {hint}"
        )
    return BatchPlan(global_batch, per_device, processes, global_batch // per_step)


@dataclass(frozen=True)
class Schedule:
    num_samples: int
    steps_per_epoch: int
    total_steps: int
    warmup_steps: int


def plan_schedule(num_samples: int, global_batch: int, epochs: int, warmup_ratio: float,
                  max_steps: int | None = None) -> Schedule:
    """Optimizer steps per epoch (ceil: the last step of an epoch wraps around), total and warm-up
    steps (ceil of ratio x total, as transformers' Trainer rounds it)."""
    if num_samples < 1:
        raise ConfigError("the training set is empty after filtering; check data.train and data.kinds")
    steps_per_epoch = math.ceil(num_samples / global_batch)
    total = max_steps if max_steps is not None else steps_per_epoch * epochs
    return Schedule(num_samples, steps_per_epoch, total, math.ceil(total * warmup_ratio))


def epoch_order(num_samples: int, seed: int, epoch: int, global_batch: int) -> list[int]:
    """The sample indices of one epoch: a seeded permutation, wrapped to a whole number of steps."""
    order = list(range(num_samples))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    steps = math.ceil(num_samples / global_batch)
    short = steps * global_batch - num_samples
    while short > 0:  # more than one wrap only when the data set is smaller than one global batch
        take = order[: min(short, num_samples)]
        order += take
        short -= len(take)
    return order


def step_micro_batches(order: list[int], step_in_epoch: int, plan: BatchPlan, rank: int) -> list[list[int]]:
    """The micro-batches process ``rank`` reads for one optimizer step, in order.

    Micro-step ``m`` of the step covers ``per_device x processes`` consecutive samples of the step's
    global batch; process ``rank`` takes its ``per_device``-sized slice of each.
    """
    start = step_in_epoch * plan.global_batch
    out = []
    for m in range(plan.accumulation):
        base = start + m * plan.micro_batch_all_processes + rank * plan.per_device
        out.append(order[base : base + plan.per_device])
    return out
