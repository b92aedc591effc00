"""The judge-scored metrics of GIQA-Bench (Sec. 3.4): LLM-Score, Acc(W) and Acc(Total).

- LLM-Score (GIQA-DES): the judge rates a description against the reference 0-4; mean x 25 (0-100).
- Acc(W) (What/Why/How questions): the judge rates the answer against question and reference 0-4;
  mean / 4.
- Acc(Total) (all GIQA-VQA questions): pooled over questions, (#Yes/No correct + sum of W scores / 4)
  / (#Yes/No + #W). It is not the mean of Acc(Y) and Acc(W), and without a judge it is not computed
  (never from Acc(Y) alone). Its W half uses the ``acc_w`` prompt, so the two metrics ask the judge the
  same questions (asked once per run: both get the same attempts and the same outcome). It has no
  partial value: unless every question of the task was answered and every W answer judged, it is not
  computed (a pooled mean over what is left would drift toward the half that survived: toward Acc(Y)
  when the judge fails).

Per-sample values: the judge's integer score for LLM-Score and Acc(W); the sample's contribution in
[0, 1] for Acc(Total). A sample whose reply never held a score is `failed` (counted, not a 0).
"""

from __future__ import annotations

from typing import Any, Sequence

from .base import Metric, MetricContext, NotComputed, Sample, is_failed
from .judge import MAX_SCORE, fill_prompt, judge_scores, prompt_template
from .yes_no import yes_no_correct

DEFAULTS: dict[str, Any] = {"retries": 2, "system": None}
NO_JUDGE = "not computed: needs an LLM judge; pass --judge SPEC (e.g. hf:PATH, openai:MODEL@BASE_URL, vllm:PATH)"


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


class JudgedMetric(Metric):
    """Asks the judge once per applicable sample with the ``prompt_key`` template."""

    needs_judge = True
    option_defaults = DEFAULTS
    prompt_key = ""

    def judge(self, samples: Sequence[Sample], context: MetricContext) -> list[int | dict[str, str]]:
        options = self.read_options(context.options)
        if options["retries"] < 0:
            raise NotComputed(f"not computed: option 'retries' must be >= 0, got {options['retries']}")
        if context.judge is None:
            raise NotComputed(self.no_judge_reason())
        template = prompt_template(self.prompt_key, context.options.get("judge_prompts"))
        prompts = [
            fill_prompt(template, s.question.plain, s.reference.plain, s.prediction.plain) for s in samples
        ]
        return judge_scores(context.judge, prompts, retries=options["retries"], system=options["system"])

    def score(self, samples: Sequence[Sample], context: MetricContext) -> list[Any]:
        return self.judge(samples, context)

    def no_judge_reason(self) -> str:
        return NO_JUDGE


class LLMScore(JudgedMetric):
    name = "llm_score"
    label = "LLM-Score"
    kinds = ("des",)
    prompt_key = "llm_score"

    def aggregate(self, values: Sequence[int]) -> float | None:
        mean = _mean(values)
        return None if mean is None else mean * 100 / MAX_SCORE


class AccuracyW(JudgedMetric):
    name = "acc_w"
    label = "Acc(W)"
    kinds = ("vqa_w",)
    prompt_key = "acc_w"

    def aggregate(self, values: Sequence[int]) -> float | None:
        mean = _mean(values)
        return None if mean is None else mean / MAX_SCORE


class AccuracyTotal(JudgedMetric):
    name = "acc_total"
    label = "Acc(Total)"
    kinds = ("vqa_yn", "vqa_w")
    prompt_key = "acc_w"
    requires_complete = (
        "Acc(Total) pools every Yes/No and What/Why/How question of the task with fixed weights, so it "
        "is computed only when all of them were scored (never from part of either half)"
    )

    def score(self, samples: Sequence[Sample], context: MetricContext) -> list[Any]:
        open_ended = [s for s in samples if s.doc.kind == "vqa_w"]
        if not open_ended:
            raise NotComputed(
                "not computed: the task has no What/Why/How question, and Acc(Total) over Yes/No "
                "questions alone would be Acc(Y) (it is never Acc(Y) alone)"
            )
        judged = dict(zip(map(id, open_ended), self.judge(open_ended, context)))
        values: list[Any] = []
        for s in samples:
            if s.doc.kind == "vqa_yn":
                values.append(yes_no_correct(s))
            else:
                score = judged[id(s)]
                values.append(score if is_failed(score) else score / MAX_SCORE)
        return values

    def aggregate(self, values: Sequence[float]) -> float | None:
        return _mean(values)

    def no_judge_reason(self) -> str:
        return (
            "not computed: Acc(Total) pools Yes/No and What/Why/How questions and needs the judge's "
            "What/Why/How scores (it is never Acc(Y) alone); pass --judge SPEC"
        )
