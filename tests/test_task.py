"""Task YAML: a safe loader, a checked schema, helpers only from the task's own folder."""

from __future__ import annotations

import pytest

from giqa_harness.errors import TaskError, UnknownNameError
from giqa_harness.task import TaskConfig, TaskIndex, expand_env, parse_task, read_yaml


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_builtin_giqa_tasks_and_group_resolve():
    from giqa_harness.task import task_index

    index = task_index()
    assert not [e for e in index.errors if "giqa_bench" in e]
    tasks = index.resolve(["giqa"])
    assert [t.name for t in tasks] == ["giqa_des", "giqa_vqa"]
    des, vqa = tasks
    assert des.filter == {"kind": ["des"]}
    assert [m.name for m in des.metrics] == ["miou", "tag_recall", "bleu4", "llm_score"]
    assert "{reference}" in des.judge_prompts["llm_score"]
    referring = index.resolve(["giqa_vqa_referring"])[0]
    assert referring.filter == {"kind": ["vqa_yn", "vqa_w"], "mode": ["referring"]}


def test_python_tags_are_refused_by_the_safe_loader(tmp_path):
    path = write(tmp_path / "evil.yaml", "task: evil\ndescription: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(TaskError, match="invalid YAML"):
        read_yaml(path)


def test_unknown_keys_name_the_file_and_the_key(tmp_path):
    path = write(tmp_path / "t.yaml", "task: t\nmetricz: [miou]\n")
    with pytest.raises(TaskError, match=r"t\.yaml: unknown key\(s\) \['metricz'\]"):
        parse_task(path, read_yaml(path))


def test_bad_metric_entry_is_located(tmp_path):
    path = write(tmp_path / "t.yaml", "task: t\nmetrics: [miou, 3]\n")
    with pytest.raises(TaskError, match=r"metrics\[1\]"):
        parse_task(path, read_yaml(path))


def test_include_may_not_escape_the_task_folder(tmp_path):
    write(tmp_path / "outside.yaml", "version: 2\n")
    path = write(tmp_path / "tasks" / "t.yaml", "task: t\ninclude: ../outside.yaml\n")
    with pytest.raises(TaskError, match="must stay inside the task folder"):
        read_yaml(path)


def test_include_may_reach_a_sibling_folder_inside_the_registered_task_root(tmp_path):
    write(tmp_path / "tasks" / "bench" / "_base.yaml", "version: 4\njudge_prompts: {acc_w: shared}\n")
    write(tmp_path / "tasks" / "synth" / "s.yaml", "task: s\ninclude: ../bench/_base.yaml\n")
    index = TaskIndex([(tmp_path / "tasks", "test")])
    assert index.errors == []
    assert index.tasks["s"].judge_prompts == {"acc_w": "shared"} and index.tasks["s"].version == 4
    with pytest.raises(TaskError, match="must stay inside the task folder"):
        read_yaml(tmp_path / "tasks" / "synth" / "s.yaml")  # without a root, only its own folder


def test_include_merges_nested_mappings(tmp_path):
    write(tmp_path / "_base.yaml", "version: 3\ngeneration_kwargs: {max_new_tokens: 10, do_sample: false}\n")
    path = write(tmp_path / "t.yaml", "task: t\ninclude: _base.yaml\ngeneration_kwargs: {max_new_tokens: 99}\n")
    task = parse_task(path, read_yaml(path))
    assert isinstance(task, TaskConfig)
    assert task.version == 3 and task.generation_kwargs == {"max_new_tokens": 99, "do_sample": False}


def test_function_helpers_resolve_only_inside_the_task_folder(tmp_path):
    write(tmp_path / "tasks" / "helpers.py", "def build():\n    return 'built'\n")
    write(tmp_path / "elsewhere.py", "def build():\n    return 'escaped'\n")
    ok = write(tmp_path / "tasks" / "ok.yaml", "task: ok\ndataset:\n  builder: !function helpers.build\n")
    assert read_yaml(ok)["dataset"]["builder"].resolve()() == "built"
    bad = write(tmp_path / "tasks" / "bad.yaml", "task: bad\ndataset:\n  builder: !function ..elsewhere.build\n")
    with pytest.raises(TaskError, match="inside the task folder"):
        read_yaml(bad)["dataset"]["builder"].resolve()


def test_environment_variables_expand_with_defaults(monkeypatch):
    monkeypatch.setenv("GIQA_TEST_DIR", "/data/bench")
    assert expand_env("${GIQA_TEST_DIR}/x") == "/data/bench/x"
    monkeypatch.delenv("GIQA_TEST_DIR")
    assert expand_env("${GIQA_TEST_DIR:-/fallback}/x") == "/fallback/x"


def test_group_cycles_and_unknown_tasks_are_errors(tmp_path):
    write(tmp_path / "a.yaml", "group: a\ntasks: [b]\n")
    write(tmp_path / "b.yaml", "group: b\ntasks: [a]\n")
    write(tmp_path / "t.yaml", "task: t_one\n")
    index = TaskIndex([(tmp_path, "test")])
    with pytest.raises(TaskError, match="group cycle: a -> b -> a"):
        index.resolve(["a"])
    with pytest.raises(UnknownNameError, match="Did you mean: t_one"):
        index.resolve(["t_on"])


def test_a_broken_task_file_is_reported_and_the_others_load(tmp_path):
    write(tmp_path / "good.yaml", "task: good\n")
    write(tmp_path / "bad.yaml", "task: [unclosed\n")
    index = TaskIndex([(tmp_path, "test")])
    assert "good" in index.tasks
    assert len(index.errors) == 1 and "bad.yaml" in index.errors[0]


def test_filter_yes_no_survive_yaml_booleans(tmp_path):
    """YAML 1.1 reads bare yes/no as booleans; the documented ``qtype: [yes, no]`` must still match."""
    path = write(tmp_path / "t.yaml", "task: t\nfilter:\n  qtype: [yes, no]\n  kind: vqa_yn\n")
    assert parse_task(path, read_yaml(path)).filter == {"qtype": ["yes", "no"], "kind": ["vqa_yn"]}


def test_a_filter_value_that_can_never_match_names_the_file_and_field(tmp_path):
    path = write(tmp_path / "t.yaml", "task: t\nfilter:\n  kind: [vqa-yn]\n")
    with pytest.raises(TaskError, match=r"t\.yaml: filter\.kind.*'vqa-yn'.*vqa_yn"):
        parse_task(path, read_yaml(path))
