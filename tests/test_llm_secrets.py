"""Keys the harness sends are never shown, and are scrubbed from whatever comes back."""

from __future__ import annotations

import sqlite3

from giqa_harness.cache import ResponseCache
from giqa_harness.llm.secrets import Secret, scrub


def test_a_secret_hides_its_value_everywhere_but_reveal():
    secret = Secret("sk-hidden-Yw3P0")
    assert secret.reveal() == "sk-hidden-Yw3P0"
    assert "Yw3P0" not in repr(secret) + str(secret) + f"{secret}" + repr([secret])


def test_every_key_of_the_process_is_scrubbed_longest_first():
    Secret("tok-A1b2C3d4")
    Secret("tok-A1b2C3d4-extended")  # holds the first: must not leave "-extended" behind a mask
    text = "header tok-A1b2C3d4-extended, body tok-A1b2C3d4, none here"
    assert scrub(text) == "header ***, body ***, none here"
    assert scrub("nothing secret") == "nothing secret"


def test_the_response_cache_never_stores_a_key(tmp_path):
    Secret("sk-cache-Qq77Zz")
    cache = ResponseCache(tmp_path / "cache.sqlite")
    cache.put_many({"k": "the model said sk-cache-Qq77Zz"})
    cache.put_many({"j": "judge echo sk-cache-Qq77Zz"}, table="judge")
    assert cache.get_many(["k"]) == {"k": "the model said ***"}
    cache.close()
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        assert not db.execute("SELECT COUNT(*) FROM responses WHERE value LIKE '%Qq77Zz%'").fetchone()[0]
        assert not db.execute("SELECT COUNT(*) FROM judge WHERE value LIKE '%Qq77Zz%'").fetchone()[0]
