"""A response cache that survives a killed process.

SQLite in WAL mode: each finished answer (and each judge reply) is committed as soon as it exists, so
a run killed at any point and started again with the same arguments regenerates nothing it has.
Keys are SHA-256 digests of everything that determines an answer.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

from .llm.base import Completion, LLMBackend
from .llm.secrets import scrub


def cache_key(**parts: Any) -> str:
    """A stable digest of JSON-serializable parts (sorted keys, so dict order never matters)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Key -> text, in one SQLite file; tables for model answers and judge replies."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for table in ("responses", "judge"):
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()

    def get_many(self, keys: Sequence[str], table: str = "responses") -> dict[str, str]:
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, value FROM {table} WHERE key IN ({marks})", chunk)
                found.update(rows.fetchall())
        return found

    def put_many(self, items: dict[str, str], table: str = "responses") -> None:
        """Store ``items``; any API key this process sends is scrubbed from the values first."""
        if not items:
            return
        rows = [(key, scrub(value)) for key, value in items.items()]
        with self._lock:
            self._db.executemany(f"INSERT OR REPLACE INTO {table} (key, value) VALUES (?, ?)", rows)
            self._db.commit()

    def count(self, table: str = "responses") -> int:
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedLLM(LLMBackend):
    """Wraps a backend so that every (backend, system, prompt, settings) reply is asked for once.

    Failed calls (``None``) are not cached, nor replies the caller's ``keep`` rejects (a judge reply
    without a score): a resumed run asks for them again.
    """

    def __init__(self, backend: LLMBackend, cache: ResponseCache) -> None:
        super().__init__(backend.spec)
        self.backend, self.cache = backend, cache
        self.hits = self.misses = 0

    def complete(self, prompts: Sequence[str], system: str | None = None, **generation: Any) -> list[str | None]:
        return [c.text for c in self.complete_detailed(prompts, system=system, **generation)]

    def complete_detailed(self, prompts: Sequence[str], system: str | None = None,
                          keep: Callable[[str], bool] | None = None, **generation: Any) -> list[Completion]:
        identity = self.backend.identity()
        keys = [cache_key(judge=identity, system=system, prompt=p, generation=generation) for p in prompts]
        found = self.cache.get_many(keys, table="judge")
        outcomes = {i: Completion(found[k]) for i, k in enumerate(keys) if k in found}
        missing = [i for i in range(len(keys)) if i not in outcomes]
        self.hits += len(outcomes)
        self.misses += len(missing)
        if missing:
            replies = self.backend.complete_detailed([prompts[i] for i in missing], system=system, keep=keep,
                                                     **generation)
            outcomes.update(zip(missing, replies))
            self.cache.put_many({keys[i]: c.text for i, c in zip(missing, replies)
                                 if c.text is not None and (keep is None or keep(c.text))}, table="judge")
        return [outcomes[i] for i in range(len(keys))]

    def identity(self) -> dict[str, Any]:
        return self.backend.identity()

    def close(self) -> None:
        self.backend.close()
