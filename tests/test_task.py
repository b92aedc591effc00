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
    assert [m.name for m in des.metrics] == ["miou", "tag_recall", "bleu4", "llm_score", "miou_penalized",
                                             "tag_precision", "tag_f1"]
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


# -- a file that cannot be read is an error for that file alone ----------------------------------

UNREADABLE = [
    ("include_cycle", b"task: looped\ninclude: loop_b.yaml\n", "include cycle: loop_a.yaml -> loop_b.yaml -> loop_a.yaml"),
    ("not_utf8", b"task: latin\ndescription: caf\xe9\n", "latin.yaml:2: not UTF-8: byte 0xe9 at offset 28"),
    ("yaml_syntax", b"task: broken_syntax\nmetrics: [unclosed\n", "invalid YAML"),
    ("tab_indent", b"task: tabbed\ndataset:\n\tpath: x\n", "invalid YAML"),
]


def unreadable_folder(tmp_path, case):
    name = {"include_cycle": "loop_a", "not_utf8": "latin", "yaml_syntax": "syntax", "tab_indent": "tabbed"}[case]
    content = next(c for k, c, _ in UNREADABLE if k == case)
    write(tmp_path / "good.yaml", "task: good\n")
    (tmp_path / f"{name}.yaml").write_bytes(content)
    if case == "include_cycle":
        write(tmp_path / "loop_b.yaml", "task: loop_b\ninclude: loop_a.yaml\n")
    return tmp_path


@pytest.mark.parametrize("case, content, message", UNREADABLE)
def test_an_unreadable_yaml_is_an_error_for_that_file_only(tmp_path, case, content, message):
    index = TaskIndex([(unreadable_folder(tmp_path, case), "test")])
    assert "good" in index.tasks
    assert any(message in e for e in index.errors), index.errors


@pytest.mark.parametrize("case, name", [("include_cycle", "looped"), ("not_utf8", "latin"),
                                        ("yaml_syntax", "broken_syntax"), ("tab_indent", "tabbed")])
def test_asking_for_the_task_a_broken_file_would_define_gives_its_error(tmp_path, case, name):
    """The name comes from the file's ``task:`` line even though its YAML cannot be read."""
    index = TaskIndex([(unreadable_folder(tmp_path, case), "test")])
    with pytest.raises(TaskError, match=rf"task {name!r} cannot be loaded: .*\.yaml"):
        index.resolve([name])


def test_without_a_task_line_the_file_stem_is_the_name(tmp_path):
    (tmp_path / "nameless.yaml").write_bytes(b"\xff\xfe")
    index = TaskIndex([(tmp_path, "test")])
    with pytest.raises(TaskError, match="not UTF-8"):
        index.resolve(["nameless"])


def test_any_exception_while_reading_is_contained(tmp_path, monkeypatch):
    import giqa_harness.task as task_module

    write(tmp_path / "good.yaml", "task: good\n")
    write(tmp_path / "odd.yaml", "task: odd\n")
    real = task_module.parse_task

    def parse(path, data, plugin=""):
        if path.name == "odd.yaml":
            raise KeyError("surprise")
        return real(path, data, plugin)

    monkeypatch.setattr(task_module, "parse_task", parse)
    index = TaskIndex([(tmp_path, "test")])
    assert "good" in index.tasks and index.errors == [f"{tmp_path / 'odd.yaml'}: KeyError: 'surprise'"]


def test_unknown_task_names_the_plugins_that_failed_to_load(tmp_path):
    index = TaskIndex([(tmp_path, "test")], failed_plugins=["giqa-x:x: ImportError: no module named 'y'"])
    with pytest.raises(UnknownNameError, match="Plugins that failed to load .*giqa-x:x: ImportError"):
        index.resolve(["x_task"])
