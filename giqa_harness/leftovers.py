"""Naming temporary files and folders so that the next run can remove what a killed one left.

A write that is killed (SIGKILL, power loss, a job scheduler's timeout) never reaches its own clean-up,
so its temporary file or staging folder would stay forever. Every temporary name carries a marker and
its writer, ``<name>.giqa-tmp.<host>.<pid>.<random>.tmp``; a later writer removes a leftover when its writer
is gone: on this host, when that process no longer exists; from another host (a shared file system),
when it has not changed for `FOREIGN_STALE_AFTER_S`. A temporary name of a live process is never
touched, so concurrent runs stay safe.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from pathlib import Path

MARKER = "giqa-tmp"
# Another host's process cannot be asked whether it is alive; a temporary name that has not changed
# for this long is taken as left over (no harness write or bench build takes an hour).
FOREIGN_STALE_AFTER_S = 3600.0


def _host() -> str:
    return socket.gethostname().replace(".", "_") or "host"


def temp_name(name: str) -> str:
    """A temporary name for ``name`` (a file or a folder) that identifies its writer."""
    return f"{name}.{MARKER}.{_host()}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"


def is_left_over(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` (a `temp_name`) belongs to a writer that is gone."""
    _, marker, rest = path.name.partition(f".{MARKER}.")
    parts = rest.split(".")
    if not marker or len(parts) < 3 or not parts[1].isdigit():
        return False  # not one of ours: never touched
    host, pid = parts[0], int(parts[1])
    if host != _host():
        try:
            age = (time.time() if now is None else now) - path.lstat().st_mtime
        except OSError:
            return False
        return age > FOREIGN_STALE_AFTER_S
    if pid == os.getpid():
        return False  # this process may be writing it right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # alive (another user's process) or unknowable: keep it
    return False


def remove_left_overs(folder: Path, name: str = "") -> list[Path]:
    """Remove the leftovers of killed writers in ``folder`` (of ``name`` only, when given); returns them."""
    removed = []
    try:
        candidates = list(folder.glob(f"{name or '*'}.{MARKER}.*.tmp"))
    except OSError:
        return removed
    for path in candidates:
        if not is_left_over(path):
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            pass  # another run removed it first
        except OSError:
            continue
        removed.append(path)
    return removed
