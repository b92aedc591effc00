"""BLEU@4: markup-free texts, the documented tokenizer, pycocoevalcap's corpus BLEU, x 100."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.metrics.base import MetricContext, compute_metric
from giqa_harness.metrics.bleu import Bleu4, corpus_bleu, sample_statistics, simple_tokenize
from giqa_harness.testing.samples import sample


def test_simple_tokenizer_lowercases_and_drops_punctuation():
    assert simple_tokenize("The Sky's over-exposed, by 3.5 stops!") == ["the", "sky's", "over-exposed", "by", "3.5", "stops"]
    assert simple_tokenize("Blur -- (heavy); noise...") == ["blur", "heavy", "noise"]
    assert simple_tokenize("") == []


def test_box_markup_is_removed_from_both_sides():
    s = sample("The [sky](<0, 59>) is bright.", "The [sky](<20, 79>) is bright.")
    (stats,) = Bleu4().score([s], MetricContext())
    assert stats == {"testlen": 4, "reflen": 4, "guess": [4, 3, 2, 1], "correct": [4, 3, 2, 1]}
    assert Bleu4().aggregate([stats]) == pytest.approx(100.0)


def test_sample_statistics_by_hand():
    stats = sample_statistics("the cat the cat".split(), "the cat sat on the mat".split())
    # unigrams: "the" x2 (ref has 2), "cat" x2 (ref has 1) -> 3; bigrams: "the cat" x2 (ref 1), "cat the" x1 (0) -> 1
    assert stats == {"testlen": 4, "reflen": 6, "guess": [4, 3, 2, 1], "correct": [3, 1, 0, 0]}


def test_empty_prediction_scores_zero():
    stats = sample_statistics([], "a blurry photo".split())
    assert stats["guess"] == [0, 0, 0, 0]
    assert corpus_bleu([stats]) == 0.0


words = st.sampled_from("the image is blurry sharp noise sky dog over-exposed quality low high".split())
sentences = st.lists(words, min_size=0, max_size=14)
corpora = st.lists(st.tuples(sentences, sentences), min_size=1, max_size=6)


@given(sentences, sentences)
@settings(max_examples=100, deadline=None)
def test_clipped_matches_are_counted_by_definition(candidate, reference):
    """The scorer counts n-grams with shifted zips; here every n-gram is sliced out one by one."""
    def grams(tokens, k):
        return [tuple(tokens[i:i + k]) for i in range(len(tokens) - k + 1)]

    stats = sample_statistics(candidate, reference)
    for k in range(1, 5):
        ref = grams(reference, k)
        expected = sum(min(grams(candidate, k).count(g), ref.count(g)) for g in set(grams(candidate, k)))
        assert stats["correct"][k - 1] == expected
        assert stats["guess"][k - 1] == len(grams(candidate, k))


@st.composite
def sharing_a_4gram(draw):
    """A (candidate, reference) pair whose candidate copies at least four consecutive reference words."""
    reference = draw(st.lists(words, min_size=4, max_size=14))
    start = draw(st.integers(0, len(reference) - 4))
    end = draw(st.integers(start + 4, len(reference)))
    short = st.lists(words, max_size=4)
    return draw(short) + reference[start:end] + draw(short), reference


# sacrebleu does not smooth (pycocoevalcap barely does): compare where every n-gram order has a match.
unsmoothed_corpora = st.tuples(sharing_a_4gram(), corpora).map(lambda t: [t[0], *t[1]])


@given(corpora)
@settings(max_examples=60, deadline=None)
def test_corpus_bleu_is_exactly_pycocoevalcaps(corpus):
    from pycocoevalcap.bleu.bleu import Bleu

    res = {i: [" ".join(c)] for i, (c, _) in enumerate(corpus)}
    gts = {i: [" ".join(r)] for i, (_, r) in enumerate(corpus)}
    expected, _ = Bleu(4).compute_score(gts, res, verbose=0)
    ours = corpus_bleu([sample_statistics(c, r) for c, r in corpus])
    assert ours == pytest.approx(expected[3], rel=1e-9, abs=1e-15)


@given(unsmoothed_corpora)
@settings(max_examples=60, deadline=None)
def test_corpus_bleu_agrees_with_sacrebleu_on_the_same_tokens(corpus):
    from sacrebleu.metrics import BLEU

    stats = [sample_statistics(c, r) for c, r in corpus]
    theirs = BLEU(tokenize="none", smooth_method="none").corpus_score(
        [" ".join(c) for c, _ in corpus], [[" ".join(r) for _, r in corpus]]
    ).score
    assert round(100 * corpus_bleu(stats), 4) == round(theirs, 4)


def test_corpus_level_is_not_the_mean_of_sentence_scores_and_the_interval_brackets_it():
    samples = [
        sample("a blurry photo of a dog on the grass", "a blurry photo of a dog on green grass"),
        sample("the sky is over-exposed", "the sky is badly over-exposed and the trees are dark"),
        sample("noise everywhere", "heavy noise everywhere in the dark areas"),
        sample("sharp and clear picture", "a sharp and clear picture with good colours"),
    ]
    result, values = compute_metric(Bleu4(), samples, MetricContext(), n_resamples=300)
    assert result.value == pytest.approx(100 * corpus_bleu(values))
    mean_of_sentences = sum(100 * corpus_bleu([v]) for v in values) / len(values)
    assert result.value != pytest.approx(mean_of_sentences)
    assert result.ci_low <= result.value <= result.ci_high
    assert 0.0 <= result.ci_low < result.ci_high <= 100.0


@pytest.mark.skipif(shutil.which("java") is None, reason="the PTB tokenizer option runs Java")
def test_ptb_tokenizer_option_matches_simple_tokens_on_plain_text():
    samples = [sample("The sky is bright, the dog is sharp.", "The sky is bright and the dog is sharp.")]
    ptb = Bleu4().score(samples, MetricContext(options={"tokenizer": "ptb"}))
    simple = Bleu4().score(samples, MetricContext())
    assert ptb == simple
