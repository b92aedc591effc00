"""The ``scoring`` block of a task: defaults, mistakes named, the built-in tasks listed without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from giqa_harness.errors import TaskError
from giqa_harness.score.spec import Q_ALIGN_LEVELS, read_spec
from giqa_harness.task import task_index


def test_defaults_are_q_aligns_prompt_prefix_and_levels():
    spec = read_spec({"kind": "level", "loader": "koniq10k"}, "t.yaml")
    assert spec.question == "How would you rate the quality of this image?"
    assert spec.answer_prefix == "The quality of the image is"
    assert dict(spec.levels) == Q_ALIGN_LEVELS and spec.method == "auto" and spec.plcc_logistic is False


def test_weights_default_to_the_number_of_levels_down_to_one():
    spec = read_spec({"kind": "level", "loader": "spaq", "levels": ["high", "medium", "low"]}, "t.yaml")
    assert spec.levels == (("high", 3.0), ("medium", 2.0), ("low", 1.0))


@pytest.mark.parametrize("block, message", [
    ({"kind": "levels", "loader": "koniq10k"}, r"scoring.kind is 'levels'; expected one of \['level', 'mcq'\]"),
    ({"kind": "level", "loader": "koniq"}, r"scoring.loader is 'koniq'"),
    ({"kind": "level", "loader": "spaq", "method": "logprob"}, r"scoring.method is 'logprob'"),
    ({"kind": "level", "loader": "spaq", "levels": {"good": 1, "poor": 0}}, r"scoring.levels must be a list"),
    ({"kind": "level", "loader": "spaq", "levels": ["good", "poor"], "weights": [1]}, r"a list of 2 numbers"),
    ({"kind": "level", "loader": "spaq", "metrics": ["srocc"]}, r"scoring.metrics is 'srocc'"),
    ({"kind": "level", "loader": "spaq", "prefix": "x"}, r"unknown key\(s\) \['prefix'\] in scoring"),
])
def test_mistakes_name_the_file_and_the_key(block, message):
    with pytest.raises(TaskError, match=rf"t.yaml: .*{message}"):
        read_spec(block, "t.yaml")


def test_every_built_in_score_task_is_valid():
    index = task_index()
    names = ["koniq10k", "spaq", "livec", "kadid10k", "agiqa3k", "qbench_a1", "giqa_synth_score",
             "giqa_synth_score_generate", "giqa_synth_score_binary", "giqa_synth_mcq"]
    for name in names:
        task = index.tasks[name]
        assert read_spec(task.scoring, str(task.path)).loader
    assert index.groups["iqa_score"].tasks == ("koniq10k", "spaq", "livec", "kadid10k", "agiqa3k")
    binary = read_spec(index.tasks["giqa_synth_score_binary"].scoring, "")
    assert dict(binary.levels) == {"good": 1.0, "poor": 0.0}


def test_list_tasks_shows_the_new_tasks_without_importing_torch():
    code = ("import sys, io, contextlib\nfrom giqa_harness.cli import main\nout = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n    main(['list', 'tasks'])\n"
            "print(out.getvalue())\nprint('TORCH', 'torch' in sys.modules)\n")
    text = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "TORCH False" in text
    for name in ("giqa_synth_score", "giqa_synth_mcq", "iqa_score", "koniq10k", "qbench_a1"):
        assert f"\n{name} " in text
    assert "srcc,plcc,krcc" in text
