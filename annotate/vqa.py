"""GIQA-VQA generation: question-answer pairs about the grounded objects of each description.

The LLM sees the grounded description and its key objects with their boxes, and fills templates:
Yes/No (answer "Yes" for what the description states, "No" for a quality it contradicts) and
What/Why/How (attribute, cause, degree; short answers). Each pair names one key object, written
verbatim. Then, per pair (`check_pair`):

- the type must agree with the text: a Yes/No answer's first yes/no word is its type; a What/Why/How
  question contains its wh-word;
- keyword detection drops unrelated pairs: the pair must write its object's phrase (verbatim, in the
  question or the answer; otherwise it could not carry the box either) and a quality keyword (a word
  starting with a stem of ``QUALITY_STEMS``, or a content word of the object's T_q);
- the object's boxes go where its phrase is written: in the question (``referring``) or the answer
  (``grounding``); when it is in both, a hash of (seed, record, pair) picks one.

`balance` then evens out the whole set as the paper did: as many "Yes" as "No", and as many Yes/No as
What/Why/How.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from giqa_harness.boxes.geometry import Box
from giqa_harness.llm.base import LLMBackend
from giqa_harness.metrics.yes_no import yes_no_label

from .fuse import find_phrase, insert_groundings, read_groundings
from .llm_json import Outcome, ask_with_retries, fill, json_array

T = TypeVar("T")

QTYPES = ("yes", "no", "what", "why", "how")
SYSTEM = "You write question-answer pairs about image quality for a training set. You answer with JSON only."

_TEMPLATES = (
    '- Yes/No ("type": "yes" or "no"): ask about one object\'s quality, e.g. "Is the {object} {quality}?". '
    'A "yes" pair asks about a quality the description states and is answered "Yes."; a "no" pair asks '
    'about a quality the description contradicts (e.g. "Is the {object} sharp?" when it is blurry) and is '
    'answered "No.".\n'
    '- What ("type": "what"): an attribute, e.g. "What type of distortion affects the {object}?" -> "Noise."\n'
    '- Why ("type": "why"): a cause, e.g. "Why is the quality of the {object} poor?" -> "It is out of focus."\n'
    '- How ("type": "how"): a degree, e.g. "How is the clarity of the {object}?" -> "Medium."\n'
)

PROMPTS: tuple[str, ...] = (
    "Below is a description of an image's quality; boxes are written as [phrase](<cell, cell>) on a 20x20 "
    "grid. Then come its key objects.\nWrite question-answer pairs about the quality of these objects, "
    "following these templates:\n" + _TEMPLATES
    + "Each pair is about exactly one key object and writes its phrase exactly as listed, in the question "
    "or in the answer. Keep answers short. Write {count} pairs, as many \"yes\" as \"no\", and as many "
    "Yes/No as What/Why/How.\n"
    'Answer with a JSON array only: [{"type": "...", "object": "...", "question": "...", "answer": "..."}]'
    "\n\nDescription: {description}\nKey objects:\n{objects}",
    "Your previous answer could not be used ({problem}).\nReply with a JSON array whose elements have "
    'exactly the keys "type" (one of yes, no, what, why, how), "object" (a key object, copied exactly), '
    '"question" and "answer". Templates:\n' + _TEMPLATES
    + "Write {count} pairs and nothing but the JSON array.\n\nDescription: {description}\nKey objects:\n{objects}",
)

# Stems of words that make a pair about quality (matched at the start of a word, case-insensitive).
QUALITY_STEMS: tuple[str, ...] = (
    "qualit", "blur", "sharp", "clear", "clarit", "focus", "defocus", "nois", "grain", "expos", "overexpos",
    "underexpos", "bright", "dark", "dim", "light", "contrast", "colo", "saturat", "detail", "textur", "artifact",
    "artefact", "compress", "jpeg", "pixel", "distort", "resolution", "shak", "motion", "haz", "fog", "glare",
    "visib", "crisp", "fuzz", "soft", "smear", "vivid", "dull", "wash", "fade", "aesthetic", "composition",
    "good", "poor", "bad", "excellent", "fine", "low", "high", "medium", "degrad", "clean",
)
_STOPWORDS = {"the", "a", "an", "of", "in", "on", "at", "to", "and", "or", "with", "its", "his", "her", "their",
              "this", "that", "these", "those", "is", "are", "by", "for", "from"}
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z0-9]+)*")  # hyphens split words: "over-exposed" has "exposed"


@dataclass(frozen=True)
class KeyObject:
    """A grounded object of a description: its phrase, quality and boxes (original-image coordinates)."""

    phrase: str
    quality: str
    boxes: tuple[Box, ...]


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def mentions_quality(text: str, quality: str) -> bool:
    """True when ``text`` has a word starting with a quality stem, or a content word of T_q."""
    words = _words(text)
    own = {w for w in _words(quality) if w not in _STOPWORDS}
    return any(w in own or w.startswith(QUALITY_STEMS) for w in words)


def pair_seed(seed: int, record_id: str, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{record_id}:{index}".encode()).digest()[:8], "big")


def check_pair(
    item: Any, objects: Sequence[KeyObject], image_size: tuple[int, int], choice: int
) -> tuple[dict[str, Any] | None, str | None]:
    """One generated pair as an output sample (question, answer, kind, qtype, mode, groundings), or
    ``(None, reason)`` when it is dropped. ``choice`` breaks the referring/grounding tie."""
    if not isinstance(item, dict):
        return None, "not a JSON object"
    fields = {k: item.get(k) for k in ("type", "object", "question", "answer")}
    bad = [k for k, v in fields.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        return None, f"lacks a non-empty string for {', '.join(bad)}"
    qtype = fields["type"].strip().lower()
    question, answer = " ".join(fields["question"].split()), " ".join(fields["answer"].split())
    if qtype not in QTYPES:
        return None, f"type {fields['type']!r} is not one of {', '.join(QTYPES)}"
    named = fields["object"].strip().lower()
    obj = next((o for o in objects if o.phrase.lower() == named), None)
    if obj is None:
        return None, f"object {fields['object']!r} is not a key object"
    if qtype in ("yes", "no") and yes_no_label(answer) != qtype:
        return None, f"a {qtype!r} pair whose answer does not start with {qtype!r}"
    if qtype not in ("yes", "no") and qtype not in _words(question):
        return None, f"a {qtype!r} pair whose question lacks the word {qtype!r}"
    in_question = find_phrase(question, obj.phrase) is not None
    in_answer = find_phrase(answer, obj.phrase) is not None
    if not (in_question or in_answer):
        return None, f"unrelated: {obj.phrase!r} is written in neither question nor answer"
    if not mentions_quality(f"{question} {answer}", obj.quality):
        return None, "unrelated: no quality keyword"
    mode = "referring" if in_question and (not in_answer or choice % 2 == 0) else "grounding"
    grounded = [(obj.phrase, obj.boxes)]
    if mode == "referring":
        question = insert_groundings(question, grounded, image_size)[0]
    else:
        answer = insert_groundings(answer, grounded, image_size)[0]
    parsed = read_groundings(question if mode == "referring" else answer, image_size)
    return {
        "question": question, "answer": answer, "kind": "vqa_yn" if qtype in ("yes", "no") else "vqa_w",
        "qtype": qtype, "mode": mode, "object": obj.phrase,
        "groundings": [g.to_json() for g in parsed.groundings],
    }, None


def objects_listing(objects: Sequence[KeyObject], image_size: tuple[int, int]) -> str:
    return "\n".join(
        f'- "{o.phrase}" (quality: {o.quality}): {insert_groundings(o.phrase, [(o.phrase, o.boxes)], image_size)[0]}'
        for o in objects
    )


@dataclass(frozen=True)
class VQAJob:
    """One grounded description to ask about."""

    record_id: str
    description: str  # with grid markup
    objects: tuple[KeyObject, ...]
    image_size: tuple[int, int]


def generate_pairs(
    llm: LLMBackend, jobs: Sequence[VQAJob], pairs_per_record: int = 4, max_attempts: int = 2, seed: int = 0,
    **generation: Any,
) -> list[Outcome[dict[str, Any]]]:
    """Per job: ``{"pairs": [...kept samples], "dropped": [{"pair", "reason"}]}``, or the reasons every
    attempt's reply was not a JSON array."""

    def prompt(i: int, attempt: int, problem: str) -> str:
        job = jobs[i]
        return fill(PROMPTS[min(attempt, len(PROMPTS) - 1)], count=str(pairs_per_record),
                    description=job.description, objects=objects_listing(job.objects, job.image_size),
                    problem=problem)

    def parse(i: int, reply: str | None) -> tuple[dict[str, Any] | None, str | None]:
        data, error = json_array(reply, "pairs")
        if data is None:
            return None, error
        job = jobs[i]
        kept, dropped = [], []
        for index, item in enumerate(data):
            sample, reason = check_pair(item, job.objects, job.image_size, pair_seed(seed, job.record_id, index))
            if sample is None:
                dropped.append({"pair": item, "reason": reason})
            else:
                kept.append(sample)
        return {"pairs": kept, "dropped": dropped}, None

    return ask_with_retries(llm, len(jobs), prompt, parse, max_attempts, system=SYSTEM, **generation)


def balance(items: Sequence[T], seed: int = 0, qtype: Callable[[T], str] = lambda item: item["qtype"]) -> list[T]:
    """The paper's proportions: as many "yes" as "no" answers and as many Yes/No as What/Why/How.

    With ``m = min(#yes, #no, #W // 2)``: ``m`` yes, ``m`` no and ``2m`` What/Why/How items, each group a
    seeded random sample; items of other types (DES) all stay; input order is kept.
    """
    groups: dict[str, list[int]] = {"yes": [], "no": [], "w": []}
    others: list[int] = []
    for i, item in enumerate(items):
        kind = qtype(item)
        if kind in ("yes", "no"):
            groups[kind].append(i)
        elif kind in ("what", "why", "how"):
            groups["w"].append(i)
        else:
            others.append(i)
    m = min(len(groups["yes"]), len(groups["no"]), len(groups["w"]) // 2)
    rng = random.Random(seed)
    chosen = set(others)
    for name, count in (("yes", m), ("no", m), ("w", 2 * m)):
        chosen.update(rng.sample(groups[name], count))
    return [item for i, item in enumerate(items) if i in chosen]
