"""What a long command tells the person waiting for it, on stderr.

Three kinds of output, all on stderr so that stdout stays the result:

- ``progress(total, desc)``: a tqdm bar when stderr is a terminal; otherwise (``nohup ... > log``, CI)
  plain lines, one every 10 % of the work or every 30 s, whichever comes first, and one at the end.
- ``status(message)``: one line before a slow step that has no bar of its own (generating the
  synthetic bench, loading the phrase encoder), so a silent pause is never mistaken for a hang.
- ``quiet_library_bars()``: switch off transformers' and huggingface_hub's own tqdm bars
  ("Loading weights", "Writing model shards"), for ``--no_progress`` and for ``train``, whose
  log lines are its progress.

``configure(enabled)`` is called once by a command from its ``--no_progress`` flag. Library use
(``evaluate(...)`` from Python) prints status lines only if the caller sets up logging for
``giqa_harness.progress`` itself.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from typing import Any, Callable, TextIO

LOGGER = logging.getLogger("giqa_harness.progress")
LINE_FRACTION = 0.10  # a plain progress line after each tenth of the work ...
LINE_SECONDS = 30.0  # ... or after this long without one

_handler: logging.Handler | None = None


def configure(enabled: bool = True) -> None:
    """Print status lines on stderr (or, with ``enabled=False``, nothing but warnings)."""
    global _handler
    if _handler is None:
        # The stream is looked up at each write, so a test's (or a redirect's) stderr is honoured.
        _handler = _StderrHandler()
        _handler.setFormatter(logging.Formatter("%(message)s"))
        LOGGER.addHandler(_handler)
        LOGGER.propagate = False
    LOGGER.setLevel(logging.INFO if enabled else logging.WARNING)
    if not enabled:
        quiet_library_bars()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__ assigns it; always use sys.stderr
        pass


def status(message: str) -> None:
    """One line saying what a slow step without a bar is doing."""
    LOGGER.info(message)


def quiet_library_bars() -> None:
    """No tqdm bars from transformers or huggingface_hub in this process (nor in processes it starts)."""
    # Read by huggingface_hub at import, and transformers takes its bar switch from huggingface_hub.
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    if "transformers" in sys.modules:  # already imported: flip the switch (importing it here is slow)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    elif "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class LineProgress:
    """Plain progress lines for a stream that is not a terminal: ``desc: 30/100 (30%), 12 s, ~28 s left``."""

    def __init__(self, total: int, desc: str, initial: int = 0, unit: str = "sample",
                 write: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.desc, self.unit, self.n, self._initial = total, desc, unit, initial, initial
        self._write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self._clock = clock
        self._start = self._last_time = clock()
        self._step = max(1, math.ceil(total * LINE_FRACTION))
        self._next = initial + self._step
        self._done = initial
        self._closed = False

    def update(self, n: int = 1) -> None:
        self.n += n
        now = self._clock()
        if self.n >= self._next or now - self._last_time >= LINE_SECONDS:
            self._emit(now)
            while self._next <= self.n:
                self._next += self._step

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self.n != self._done:  # the final count, unless the last line already said it
                self._emit(self._clock())

    def _emit(self, now: float) -> None:
        elapsed = now - self._start
        percent = 100 * self.n / self.total if self.total else 100.0
        line = f"{self.desc}: {self.n}/{self.total} {self.unit}s ({percent:.0f}%), {elapsed:.0f} s"
        new = self.n - self._initial  # the rate counts only work done now, not what was cached
        if 0 < self.n < self.total and elapsed > 0 and new > 0:
            line += f", ~{(self.total - self.n) * elapsed / new:.0f} s left"
        self._write(line)
        self._last_time, self._done = now, self.n


def progress(total: int, desc: str, enabled: bool = True, initial: int = 0, unit: str = "sample") -> Any:
    """A bar (terminal), plain lines (anything else) or nothing, with ``update(n)`` and ``close()``."""
    if not enabled or total == 0 or total == initial:
        return _NoBar()
    if _is_terminal(sys.stderr):
        from tqdm import tqdm

        return tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True)
    return LineProgress(total, desc, initial=initial, unit=unit)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def generation_status(task: str, cached: int, pending: int, has_cache: bool) -> str:
    """The line printed before a task generates: what a resumed run reuses and what is left."""
    if not has_cache:
        return f"{task}: {pending} to generate (no response cache: nothing is kept for a rerun)"
    if pending == 0:
        return f"{task}: all {cached} answers cached, nothing to generate"
    return f"{task}: {cached} cached, {pending} to generate"
