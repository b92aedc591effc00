"""Test-wide settings: never reach a model hub, keep caches in a temporary folder, and run hypothesis
deterministically in CI.

Hypothesis profiles (chosen by ``HYPOTHESIS_PROFILE``; ``ci`` is the default when ``CI`` is set):

- ``dev`` (local default): random examples and the local example database, so every run explores new
  inputs. A failure found this way is added to its test as an explicit ``@example``.
- ``ci``: ``derandomize=True`` and no example database, so a given commit runs the same examples every
  time and CI cannot pass or fail by chance. Each test's own ``max_examples`` is its fixed budget.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    os.environ["GIQA_HARNESS_CACHE"] = str(tmp_path_factory.mktemp("giqa_cache"))
    yield


@pytest.fixture
def plugin(request):
    """Register a plugin object for one test: ``name = plugin(obj)``; unregistered afterwards."""
    from giqa_harness.plugins import register_plugin, unregister_plugin

    names = []

    def add(obj, name=None):
        label = register_plugin(obj, name=name)
        names.append(label)
        return label

    yield add
    for label in names:
        unregister_plugin(label)


@pytest.fixture
def tiny_task(tmp_path, plugin):
    """A registered task ``tiny`` over the six-record bench of giqa_harness.testing.bench.

    Returns a function ``make(metrics=(), records=None, name="tiny") -> task name``.
    """
    from giqa_harness.testing.bench import task_plugin, write_bench, write_task

    def make(metrics=(), records=None, name="tiny", extra=""):
        data = write_bench(tmp_path / f"data_{name}", records)
        task_dir = tmp_path / f"tasks_{name}"
        write_task(task_dir, name, data, metrics, extra)
        plugin(task_plugin(task_dir), name=f"tasks_{name}")
        return name

    return make


@pytest.fixture
def fake_packages(monkeypatch):
    """The family packages (ferret, mplug_owl2, DepictQA's model) as importable stand-ins for one test."""
    from family_fakes import forget_fake_packages, use_fake_packages

    use_fake_packages(monkeypatch)
    yield
    forget_fake_packages()
