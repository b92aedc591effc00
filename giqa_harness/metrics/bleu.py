"""BLEU@4 of GIQA-DES descriptions, reported x 100 (GIQA-Bench, Sec. 3.4).

Box markup is removed from both sides first (`GroundedText.plain` keeps the phrase words and drops the
brackets and cell indices). The score is corpus-level BLEU-4 computed the way pycocoevalcap's ``Bleu``
computes it: n-gram matches clipped by the reference counts, summed over the corpus; the geometric mean
of the four precisions, each ``(matches + 1e-15) / (guesses + 1e-9)``; times the brevity penalty
``exp(1 - ref_len / test_len)`` when the candidate side is shorter. Each sample's value is its n-gram
statistics, so the corpus score (and its bootstrap) is a sum over samples: the bootstrap sums each
resample's statistics with one array product instead of recomputing the corpus score sample by sample.

Tokenizers (option ``tokenizer``):
- ``simple`` (default, pure Python): lower-case; a token is a run of letters and digits, which may be
  joined by inner apostrophes or hyphens (``over-exposed``, ``image's``), or a number with inner
  decimal points or commas (``3.5``); every other character separates tokens and is dropped. That drops
  punctuation the way pycocoevalcap's PTB tokenizer pipeline drops its punctuation tokens.
- ``ptb``: pycocoevalcap's Stanford PTB tokenizer (needs Java on PATH), for comparability with
  captioning papers.
"""

from __future__ import annotations

import math
import re
import shutil
from collections import Counter
from typing import Any, Sequence

from .base import Metric, MetricContext, NotComputed, Sample

MAX_N = 4
_TINY = 1e-15  # pycocoevalcap's smoothing of the n-gram matches...
_SMALL = 1e-9  # ...and of the n-gram guesses and the reference length
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+(?:['’-][^\W_]+)*")

DEFAULTS = {"tokenizer": "simple"}
TOKENIZERS = ("simple", "ptb")


def simple_tokenize(text: str) -> list[str]:
    """The default tokenizer (see the module docstring)."""
    return _TOKEN.findall(text.lower())


def ptb_tokenize(texts: Sequence[str]) -> list[list[str]]:
    """pycocoevalcap's PTB tokenizer (one Java call for the whole batch)."""
    if shutil.which("java") is None:
        raise NotComputed("not computed: tokenizer 'ptb' runs Java, and no 'java' is on PATH (or use tokenizer: simple)")
    try:
        from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    except ImportError:
        raise NotComputed("not computed: tokenizer 'ptb' needs pycocoevalcap: pip install 'giqa-harness[metrics]'") from None
    tokenized = PTBTokenizer().tokenize({i: [{"caption": t}] for i, t in enumerate(texts)})
    return [tokenized[i][0].split() for i in range(len(texts))]


def ngrams(tokens: Sequence[str], k: int) -> Counter[tuple[str, ...]]:
    """How often each k-gram of ``tokens`` occurs (zip of shifted slices: the scorer's inner loop)."""
    return Counter(zip(*[tokens[i:] for i in range(k)]))


def sample_statistics(candidate: Sequence[str], reference: Sequence[str], n: int = MAX_N) -> dict[str, Any]:
    """One sample's BLEU statistics: lengths, n-gram guesses and clipped matches for n = 1..4."""
    correct = [0] * n
    for k in range(1, n + 1):
        ref_counts = ngrams(reference, k)
        correct[k - 1] = sum(min(count, ref_counts[gram]) for gram, count in ngrams(candidate, k).items()
                             if gram in ref_counts)
    return {
        "testlen": len(candidate),
        "reflen": len(reference),
        "guess": [max(0, len(candidate) - k) for k in range(n)],
        "correct": correct,
    }


def corpus_bleu(statistics: Sequence[dict[str, Any]], n: int = MAX_N) -> float:
    """Corpus BLEU-n in [0, 1] from summed per-sample statistics, smoothed as pycocoevalcap smooths."""
    testlen = sum(s["testlen"] for s in statistics)
    reflen = sum(s["reflen"] for s in statistics)
    guesses = list(map(sum, zip(*[s["guess"] for s in statistics]))) or [0] * n
    corrects = list(map(sum, zip(*[s["correct"] for s in statistics]))) or [0] * n
    return bleu_from_totals(testlen, reflen, guesses, corrects, n)


def statistics_table(statistics: Sequence[dict[str, Any]]) -> Any:
    """Per-sample statistics as an integer array, one row per sample: testlen, reflen, guesses, corrects."""
    import numpy as np

    return np.array([[s["testlen"], s["reflen"], *s["guess"], *s["correct"]] for s in statistics], dtype=np.int64)


def bleu_from_totals(testlen: int, reflen: int, guesses: Sequence[int], corrects: Sequence[int], n: int = MAX_N) -> float:
    """Corpus BLEU-n from the corpus's summed statistics (the scalar and the bootstrap path share it)."""
    log_precision = 0.0
    for guess, correct in zip(guesses[:n], corrects[:n]):
        log_precision += math.log((correct + _TINY) / (guess + _SMALL))
    score = math.exp(log_precision / n)
    ratio = (testlen + _TINY) / (reflen + _SMALL)
    if ratio < 1:
        score *= math.exp(1 - 1 / ratio)
    return score


class Bleu4(Metric):
    name = "bleu4"
    option_defaults = DEFAULTS
    option_choices = {"tokenizer": TOKENIZERS}
    label = "BLEU@4"
    kinds = ("des",)

    def score(self, samples: Sequence[Sample], context: MetricContext) -> list[Any]:
        options = self.read_options(context.options)
        candidates = [s.prediction.plain for s in samples]
        references = [s.reference.plain for s in samples]
        if options["tokenizer"] == "ptb":
            tokens = ptb_tokenize(candidates + references)
            cand_tokens, ref_tokens = tokens[: len(samples)], tokens[len(samples) :]
        else:
            cand_tokens = [simple_tokenize(t) for t in candidates]
            ref_tokens = [simple_tokenize(t) for t in references]
        return [sample_statistics(c, r) for c, r in zip(cand_tokens, ref_tokens)]

    def aggregate(self, values: Sequence[dict[str, Any]]) -> float | None:
        return 100.0 * corpus_bleu(values) if values else None

    def aggregate_resamples(self, values: Sequence[dict[str, Any]], indices: Any) -> list[float | None]:
        # Corpus BLEU is a function of summed statistics: sum each resample's rows at once, then the
        # same scalar formula as `aggregate` (so the interval is the scalar one to the last bit).
        from .resampling import column_sums

        out: list[float | None] = []
        for row in column_sums(statistics_table(values), indices).tolist():
            out.append(100.0 * bleu_from_totals(row[0], row[1], row[2:2 + MAX_N], row[2 + MAX_N:]))
        return out
