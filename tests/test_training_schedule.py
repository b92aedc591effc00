"""Batch and step arithmetic: global batch = per-device x accumulation x processes, exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from giqa_harness.errors import ConfigError
from giqa_harness.training.schedule import epoch_order, plan_batches, plan_schedule, step_micro_batches


@pytest.mark.parametrize(
    ("processes", "per_device", "accumulation"),
    [(1, 16, 4), (2, 16, 2), (4, 16, 1), (8, 8, 1), (4, 4, 4), (1, 1, 64), (2, 32, 1)],
)
def test_accumulation_is_derived_from_the_global_batch(processes, per_device, accumulation):
    plan = plan_batches(64, per_device, processes)
    assert plan.accumulation == accumulation
    assert plan.per_device * plan.accumulation * plan.processes == 64


@pytest.mark.parametrize(("processes", "per_device"), [(3, 16), (8, 16), (4, 3), (5, 1)])
def test_a_global_batch_that_does_not_divide_is_an_error(processes, per_device):
    with pytest.raises(ConfigError, match="not divisible") as info:
        plan_batches(64, per_device, processes)
    assert f"{processes} process(es)" in str(info.value)


def test_the_error_lists_per_device_sizes_that_would_fit():
    with pytest.raises(ConfigError, match=r"fit 8 process\(es\): 1, 2, 4, 8"):
        plan_batches(64, 16, 8)


def test_schedule_counts_steps_and_warmup_like_the_paper():
    # GIQA-160K: 167,657 samples, global batch 64, 2 epochs, warm-up 3%.
    schedule = plan_schedule(167_657, 64, 2, 0.03)
    assert schedule.steps_per_epoch == 2620  # ceil(167657 / 64)
    assert schedule.total_steps == 5240
    assert schedule.warmup_steps == 158  # ceil(0.03 * 5240)
    assert plan_schedule(100, 64, 2, 0.03, max_steps=5).total_steps == 5


def test_an_empty_training_set_is_an_error():
    with pytest.raises(ConfigError, match="empty"):
        plan_schedule(0, 64, 2, 0.03)


@given(
    num_samples=st.integers(1, 300), seed=st.integers(0, 5), epoch=st.integers(0, 3),
    per_device=st.sampled_from([1, 2, 4]), processes=st.sampled_from([1, 2, 4]), accumulation=st.integers(1, 4),
)
def test_processes_together_read_each_global_batch_exactly_once(num_samples, seed, epoch, per_device, processes,
                                                               accumulation):
    plan = plan_batches(per_device * processes * accumulation, per_device, processes)
    order = epoch_order(num_samples, seed, epoch, plan.global_batch)
    assert len(order) % plan.global_batch == 0
    assert set(order) == set(range(num_samples))  # every sample, some repeated only to fill the last step
    steps = len(order) // plan.global_batch
    assert steps == plan_schedule(num_samples, plan.global_batch, 1, 0).steps_per_epoch
    for step in range(steps):
        read = [i for rank in range(processes) for micro in step_micro_batches(order, step, plan, rank) for i in micro]
        assert sorted(read) == sorted(order[step * plan.global_batch : (step + 1) * plan.global_batch])


@given(num_samples=st.integers(1, 200), seed=st.integers(0, 3))
def test_the_batches_of_a_step_do_not_depend_on_the_process_count(num_samples, seed):
    one = plan_batches(8, 2, 1)
    four = plan_batches(8, 2, 4)
    order = epoch_order(num_samples, seed, 0, 8)
    for step in range(len(order) // 8):
        single = [i for m in step_micro_batches(order, step, one, 0) for i in m]
        split = [i for r in range(4) for m in step_micro_batches(order, step, four, r) for i in m]
        assert sorted(single) == sorted(split)


def test_epochs_are_shuffled_differently_but_reproducibly():
    assert epoch_order(50, 1, 0, 10) == epoch_order(50, 1, 0, 10)
    assert epoch_order(50, 1, 0, 10) != epoch_order(50, 1, 1, 10)
    assert epoch_order(50, 1, 0, 10) != epoch_order(50, 2, 0, 10)
