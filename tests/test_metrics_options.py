"""Metric options from the task YAML: defaults, type checks, choices, typos."""

from __future__ import annotations

import pytest

from giqa_harness.errors import TaskError
from giqa_harness.metrics.options import read_options

DEFAULTS = {"matching": "greedy", "penalize_unmatched": False, "iou_threshold": 0.5, "retries": 2, "encoder": None}


def test_defaults_are_overridden_and_the_shared_judge_prompts_are_ignored():
    options = read_options("m", {"iou_threshold": 1, "judge_prompts": {}}, DEFAULTS)
    assert options == {**DEFAULTS, "iou_threshold": 1.0}
    assert isinstance(options["iou_threshold"], float)


@pytest.mark.parametrize(
    "given, message",
    [
        ({"penalize_unmatched": "yes"}, "true or false"),
        ({"iou_threshold": True}, "a number"),
        ({"retries": 1.5}, "a number"),
        ({"encoder": 3}, "a string"),
        ({"matching": "optimal"}, "one of"),
        ({"matchng": "greedy"}, "unknown option"),
    ],
)
def test_mistakes_name_the_metric_and_the_key(given, message):
    with pytest.raises(TaskError, match=message) as info:
        read_options("miou", given, DEFAULTS, {"matching": ("greedy", "hungarian")})
    assert "miou" in str(info.value)
