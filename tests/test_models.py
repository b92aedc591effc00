"""`ModelAdapter`'s default behaviours that adapters inherit."""

from __future__ import annotations

from giqa_harness.boxes.formats import get_format
from giqa_harness.models import ModelAdapter, Request


class Fixed(ModelAdapter):
    name = "fixed"

    def __init__(self, answers):
        self.box_format = get_format("giqa_grid")
        self.answers = answers

    def generate(self, requests):
        return list(self.answers)


def requests(n):
    return [Request(doc_id=f"d{i}", task="t", question="q", image=None, image_size=(1, 1)) for i in range(n)]


def test_generate_each_by_default_reports_every_answer_once_generate_returns():
    reported = []
    assert Fixed(["a", "b"]).generate_each(requests(2), lambda i, a: reported.append((i, a))) == ["a", "b"]
    assert reported == [(0, "a"), (1, "b")]


def test_generate_each_reports_nothing_from_a_list_the_evaluator_will_reject():
    reported = []
    for answers in (["a", None], ["a"]):  # a failed request; the wrong number of answers
        assert Fixed(answers).generate_each(requests(2), lambda i, a: reported.append((i, a))) == answers
    assert reported == []
