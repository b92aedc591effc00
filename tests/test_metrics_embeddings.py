"""Phrase embeddings: the packaged MiniLM offline, unit vectors, cached in memory and on disk."""

from __future__ import annotations

import pytest

from giqa_harness.errors import ConfigError
from giqa_harness.metrics.embeddings import PhraseEncoder, default_encoder_path

pytestmark = pytest.mark.slow


def test_the_default_encoder_is_the_packaged_minilm():
    path = default_encoder_path()
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def test_vectors_are_unit_length_and_similar_phrases_are_close(tmp_path):
    encoder = PhraseEncoder(cache_dir=tmp_path)
    vectors = encoder.encode(["blurry sky", "blurred sky", "noise", "blurry sky"])
    assert vectors.shape == (4, 384)
    assert abs(float((vectors**2).sum(axis=1).max()) - 1.0) < 1e-5
    assert float(vectors[0] @ vectors[1]) > 0.8
    assert float(vectors[0] @ vectors[2]) < 0.5
    assert (vectors[0] == vectors[3]).all()
    assert encoder.encoded == 3  # the repeated phrase is encoded once


def test_a_second_encoder_reads_the_disk_cache_instead_of_the_model(tmp_path):
    first = PhraseEncoder(cache_dir=tmp_path)
    expected = first.encode(["over-exposed sky", "motion blur"])
    second = PhraseEncoder(cache_dir=tmp_path)
    again = second.encode(["motion blur", "over-exposed sky"])
    assert second.encoded == 0 and second._model is None
    assert (again[0] == expected[1]).all() and (again[1] == expected[0]).all()


def test_an_encoder_path_must_be_a_model_folder(tmp_path):
    with pytest.raises(ConfigError, match="encoder"):
        PhraseEncoder(tmp_path / "nowhere", cache_dir=tmp_path)
