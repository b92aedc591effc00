"""Plugins: a third-party package is a peer of the built-ins, and a broken one never takes us down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from giqa_harness import plugins
from giqa_harness.errors import UnknownNameError
from giqa_harness.testing.distributions import make_distribution


THIRD_PARTY = '''
from pathlib import Path
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import ModelAdapter
from giqa_harness.boxes.formats import get_format

TASK_DIR = Path(__file__).with_name("echo_tasks")


class EchoAdapter(ModelAdapter):
    """Answers every question with its own text: a model that needs no weights."""

    name = "echo"
    description = "third-party test adapter"

    def __init__(self, box_format="giqa_grid"):
        self.box_format = get_format(box_format)
        self.model_args = {"box_format": box_format}

    def generate(self, requests):
        return [r.question for r in requests]


@hookimpl
def register_models(register):
    register(EchoAdapter)


@hookimpl
def register_tasks(register):
    register(TASK_DIR)
'''

BROKEN = "raise RuntimeError('this plugin is broken on purpose')\n"


@pytest.fixture
def third_party_site(tmp_path, monkeypatch):
    """A site folder holding a working and a broken third-party plugin, visible to entry points."""
    from giqa_harness.testing.bench import write_bench, write_task

    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "giqa-echo-plugin", THIRD_PARTY, {"echo": "giqa_echo_plugin"})
    make_distribution(site, "giqa-broken-plugin", BROKEN, {"broken": "giqa_broken_plugin"})
    data = write_bench(tmp_path / "echo_data")
    write_task(site / "echo_tasks", "echo_task", data, metrics=[])
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(plugins, "_manager", None)
    monkeypatch.setattr(plugins, "_registry", None)
    monkeypatch.setattr(plugins, "_infos", {})
    yield site
    sys.modules.pop("giqa_echo_plugin", None)
    sys.modules.pop("giqa_broken_plugin", None)


def test_third_party_plugin_is_discovered_through_entry_points(third_party_site):
    reg = plugins.registry()
    assert "echo" in reg.models
    info = reg.plugins["giqa-echo-plugin:echo"]
    assert info.version == "1.2.3"
    assert info.registered == {"models": ["echo"], "task folders": [str(third_party_site / "echo_tasks")]}


def test_broken_plugin_is_reported_and_skipped(third_party_site):
    reg = plugins.registry()
    broken = reg.plugins["giqa-broken-plugin:broken"]
    assert "this plugin is broken on purpose" in broken.error
    assert "replay" in reg.models  # the built-ins still load


def test_unknown_model_and_task_errors_name_the_plugins_that_failed_to_load(third_party_site):
    from giqa_harness.task import task_index

    cause = "giqa-broken-plugin:broken: RuntimeError: this plugin is broken on purpose"
    with pytest.raises(UnknownNameError, match=f"Plugins that failed to load .*{cause}"):
        plugins.registry().models.get("broken_model")
    with pytest.raises(UnknownNameError, match=f"Plugins that failed to load .*{cause}"):
        task_index().resolve(["broken_task"])


def test_third_party_plugin_runs_end_to_end(third_party_site, tmp_path):
    from giqa_harness.evaluator import RunConfig, evaluate

    results = evaluate(RunConfig(model="echo", tasks=["echo_task"], output_path=tmp_path / "out",
                                 log_samples=True, progress=False))
    assert results["results"]["echo_task"]["n_scored"] == 6
    rows = [json.loads(x) for x in (tmp_path / "out" / "samples_echo_task.jsonl").read_text().splitlines()]
    # The echo model repeats the question, whose referring box parses back to the reference box.
    referring = next(r for r in rows if r["doc_id"] == "y1")
    assert referring["parsed"]["groundings"][0]["phrase"] == "sky"


def test_plugins_command_lists_versions_and_failures(third_party_site):
    env_path = str(third_party_site)
    out = subprocess.run(
        [sys.executable, "-m", "giqa_harness", "plugins"], capture_output=True, text=True,
        env={**__import__("os").environ, "PYTHONPATH": env_path}, check=True,
    ).stdout
    assert "giqa-echo-plugin:echo" in out and "1.2.3" in out and "models: echo" in out
    assert "FAILED: RuntimeError: this plugin is broken on purpose" in out


def test_unknown_model_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="Did you mean: replay"):
        plugins.registry().models.get("replya")


def test_later_registration_of_a_name_is_recorded_as_an_override():
    registry = plugins.NamedRegistry("model")
    registry.add("x", 1, "builtin")
    registry.add("x", 2, "third-party")
    assert registry.get("x") == 2
    assert registry.overridden == ["model 'x' from 'builtin' replaced by 'third-party'"]
