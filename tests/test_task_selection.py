"""lmms-eval's task conventions: --include_path, --tasks FILE.yaml, fractional --limit, --gen_kwargs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from giqa_harness.errors import ConfigError, TaskError, UnknownNameError
from giqa_harness.task_selection import check_limit, doc_count, limit_value, resolve_tasks, with_generation
from giqa_harness.testing.bench import write_bench, write_task


@pytest.fixture
def own_tasks(tmp_path):
    """A task folder that no plugin registers: ``mine_des`` and a group ``mine`` over it."""
    data = write_bench(tmp_path / "data")
    folder = tmp_path / "my_tasks"
    write_task(folder, "mine_des", data, ["miou"], "filter: {kind: [des]}\n")
    (folder / "mine.yaml").write_text("group: mine\ntasks: [mine_des]\n")
    return folder


def test_an_unregistered_folder_is_found_through_include_path(own_tasks):
    with pytest.raises(UnknownNameError):
        resolve_tasks(["mine_des"])
    assert [t.name for t in resolve_tasks(["mine_des"], [own_tasks])] == ["mine_des"]
    assert [t.name for t in resolve_tasks(["mine"], [own_tasks])] == ["mine_des"]


def test_a_task_file_runs_by_its_path(own_tasks):
    tasks = resolve_tasks([str(own_tasks / "mine_des.yaml")])
    assert [t.name for t in tasks] == ["mine_des"] and tasks[0].path == (own_tasks / "mine_des.yaml").resolve()


def test_a_group_file_finds_its_members_on_the_include_path(own_tasks):
    assert [t.name for t in resolve_tasks([str(own_tasks / "mine.yaml")], [own_tasks])] == ["mine_des"]


def test_missing_folders_and_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match="--include_path .*nowhere: no such folder"):
        resolve_tasks(["giqa_des"], [tmp_path / "nowhere"])
    with pytest.raises(ConfigError, match="nope.yaml: no such task file"):
        resolve_tasks([str(tmp_path / "nope.yaml")])


def test_a_broken_file_on_the_include_path_is_shown_when_its_task_is_asked_for(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "bad.yaml").write_text("task: bad\nmetrics: 3\nfilter: [x]\n")
    with pytest.raises(TaskError, match="task 'bad' cannot be loaded: .*bad.yaml: 'filter' must be a mapping"):
        resolve_tasks(["bad"], [folder])


def test_gen_kwargs_are_laid_over_the_tasks_own(own_tasks):
    (task,) = resolve_tasks(["mine_des"], [own_tasks])
    (changed,) = with_generation([task], {"max_new_tokens": 16})
    assert changed.generation_kwargs["max_new_tokens"] == 16 and task.generation_kwargs.get("max_new_tokens") != 16


@pytest.mark.parametrize("limit, available, kept", [
    (None, 250, 250), (10, 250, 10), (0.5, 250, 125), (0.1, 15, 2), (0.001, 5, 1), (1, 5, 1), (500, 5, 5), (0, 5, 0),
])
def test_limit_below_one_is_a_fraction_rounded_up(limit, available, kept):
    assert doc_count(limit, available) == kept


@settings(max_examples=100, deadline=None)
@given(fraction=st.floats(0.0001, 0.9999), available=st.integers(0, 10_000))
def test_a_fraction_keeps_at_least_its_share_and_never_more_than_one_doc_over(fraction, available):
    kept = doc_count(fraction, available)
    assert fraction * available <= kept < fraction * available + 1


@pytest.mark.parametrize("bad", [-1, 1.5, float("nan"), float("inf")])
def test_impossible_limits_are_errors(bad):
    with pytest.raises(ConfigError, match="--limit"):
        check_limit(bad)


def test_whole_limits_are_recorded_as_integers():
    assert limit_value(10.0) == 10 and isinstance(limit_value(10.0), int)
    assert limit_value(0.5) == 0.5 and limit_value(None) is None
