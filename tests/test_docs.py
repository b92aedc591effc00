"""The documentation a user gets with the repository stands on its own and agrees with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs_cite_no_file_outside_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    assert not re.search(r"(\.\./)?shared/reference|reference notes", text), doc.name


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_file_a_doc_names_in_the_repository_exists(doc):
    text = doc.read_text(encoding="utf-8")
    named = set(re.findall(r"\b((?:docs|tests|scripts|benchmarks|training/recipes)/[\w./-]+\.(?:md|py|sh|yaml))", text))
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{doc.name} names {missing}"


def test_lmms_install_guidance_agrees_everywhere():
    from giqa_harness.model_adapters.lmms import LmmsAdapter

    lmms_doc = (ROOT / "docs" / "lmms.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "its own virtual environment" in lmms_doc
    assert "scripts/check_lmms_interop.sh" in LmmsAdapter.install and "pip install" not in LmmsAdapter.install
    assert "lmms-eval in its own venv: `scripts/check_lmms_interop.sh`" in readme


def test_runs_written_by_the_readme_are_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "runs/" in ignored
    assert "runs/classical" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_vllm_section_lists_every_preset_and_an_example():
    from giqa_harness.model_adapters.vllm_engine import PRESETS

    text = (ROOT / "docs" / "adapters.md").read_text(encoding="utf-8")
    section = text[text.index("### vllm"):].split("\n### ")[0]
    for preset in PRESETS:
        assert f"`{preset}`" in section
    assert "giqa-harness --model vllm" in section
