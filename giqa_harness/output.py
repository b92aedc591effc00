"""Writing outputs atomically, and keeping secrets out of them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

from .leftovers import remove_left_overs, temp_name

# "token" only as a word of its own (hf_token, auth-token), not max_new_tokens or tokenizer; a key ending in
# _env names an environment variable, whose name is not the secret.
_SECRET_KEY = re.compile(
    r"(api[_-]?key|(?<![a-z])token(?![a-z])|secret|password|passwd|authorization|credential)(?![_-]?env$)",
    re.IGNORECASE,
)
REDACTED = "***"


def is_secret_name(name: Any) -> bool:
    """Whether a field called ``name`` holds a secret (an API key, a token, a password)."""
    return bool(_SECRET_KEY.search(str(name)))


def redact(value: Any) -> Any:
    """A copy of ``value`` with every field whose name looks secret replaced by ``***``."""
    if isinstance(value, dict):
        return {k: (REDACTED if is_secret_name(k) and v not in (None, "") else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers never see half a file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """`atomic_write_text` for bytes. The temporary file names its writer (`leftovers`), so temporary
    files left in the folder by a killed writer are removed here, by the next write."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_left_overs(path.parent)
    tmp = path.parent / temp_name(f".{path.name}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any output
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def atomic_write_jsonl(path: str | Path, rows: Iterable[Any]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    from .errors import DatasetError

    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{lineno}: invalid JSON: {exc.msg}") from None
    return rows
