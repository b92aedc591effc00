"""``giqa-harness --dry_run``: full prompts of the first --limit docs, printed; nothing generated or written."""

from __future__ import annotations

import pytest

from giqa_harness.boxes.formats import get_format
from giqa_harness.cli import main
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import ModelAdapter

GENERATED: list[str] = []


class RenderOnly(ModelAdapter):
    name = "render_only"

    def __init__(self):
        self.box_format = get_format("llava15", "original")
        self.model_args = {}

    def generate(self, requests):
        GENERATED.extend(r.doc_id for r in requests)
        return ["x" for _ in requests]

    def render_prompts(self, requests):
        return [f"SYSTEM. USER: <image>\n{r.question} ASSISTANT:" for r in requests]


class _Plugin:
    @hookimpl
    def register_models(self, register):
        register(RenderOnly)


def test_dry_run_prints_each_docs_full_prompt_in_the_models_syntax_and_generates_nothing(tmp_path, tiny_task,
                                                                                       plugin, capsys):
    plugin(_Plugin(), name="render_only")
    task = tiny_task()
    out = tmp_path / "o"
    assert main(["--model", "render_only", "--tasks", task, "--limit", "4", "--dry_run", "--output_path", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"=== {task} · d1\nSYSTEM. USER: <image>\nDescribe and evaluate the quality of the image. ASSISTANT:" in printed
    # y1's referring box <0, 59> in the model's own syntax: cell centres of the 20 x 20 grid, cell 59 in
    # row 2, so y2 = 2.5 / 20 = 0.125, two decimals 0.12
    assert f"=== {task} · y1\nSYSTEM. USER: <image>\nIs the sky [0.03, 0.03, 0.97, 0.12] over-exposed? ASSISTANT:" in printed
    assert printed.count("=== ") == 4 and printed.rstrip().endswith("4 prompt(s) shown; nothing was generated")
    assert GENERATED == [] and not out.exists()


def test_without_a_limit_three_docs_per_task_are_shown(tiny_task, plugin, capsys):
    plugin(_Plugin(), name="render_only")
    assert main(["--model", "render_only", "--tasks", tiny_task(), "--dry_run"]) == 0
    assert capsys.readouterr().out.count("=== ") == 3


def test_an_adapter_that_cannot_show_its_prompt_says_so(tmp_path, tiny_task, capsys):
    answers = tmp_path / "a.jsonl"
    answers.write_text('{"doc_id": "d1", "answer": "x"}\n')
    assert main(["--model", "replay", "--model_args", f"path={answers}", "--tasks", tiny_task(), "--limit", "1",
                 "--dry_run"]) == 0
    assert "(model 'replay' cannot show its prompt)" in capsys.readouterr().out


@pytest.mark.slow
def test_a_llava_dry_run_shows_the_authors_conversation(tmp_path, tiny_task, capsys):
    from giqa_harness.testing.tiny_models import build_tiny_llava

    folder = build_tiny_llava(tmp_path / "m")
    assert main(["--model", "llava", "--model_args", f"pretrained={folder}", "--tasks", tiny_task(), "--limit", "1",
                 "--dry_run"]) == 0
    assert ("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
            "detailed, and polite answers to the user's questions. USER: <image>\nDescribe and evaluate the quality "
            "of the image. ASSISTANT:") in capsys.readouterr().out


class RenderAndScore(RenderOnly):
    name = "render_and_score"

    def supports_choice_scoring(self):
        return True

    def score_choices(self, requests):
        GENERATED.extend(r.request.doc_id for r in requests)
        return [[0.0] * len(r.candidates) for r in requests]


class _ScoringPlugin:
    @hookimpl
    def register_models(self, register):
        register(RenderAndScore)


def test_score_and_multiple_choice_prompts_are_shown_with_how_they_are_answered(plugin, capsys):
    plugin(_Plugin(), name="render_only")
    plugin(_ScoringPlugin(), name="render_and_score")
    assert main(["--model", "render_only", "--tasks", "giqa_synth_score,giqa_synth_mcq", "--limit", "1",
                 "--dry_run"]) == 0
    printed = capsys.readouterr().out
    level = "USER: <image>\nHow would you rate the quality of this image? ASSISTANT:"
    assert level in printed and "scored by likelihood" not in printed  # no choice scoring: answered by generation
    assert "=== giqa_synth_mcq · " in printed and "\nA." in printed
    assert main(["--model", "render_and_score", "--tasks", "giqa_synth_score", "--limit", "1", "--dry_run"]) == 0
    printed = capsys.readouterr().out
    assert level + "\n--- scored by likelihood: log P(candidate | prompt + ' The quality of the image is') for " \
                   "' excellent', ' good', ' fair', ' poor', ' bad'" in printed
    assert GENERATED == []
