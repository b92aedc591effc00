"""Reading a 0-4 score out of a judge's reply, strictly.

A reply is a score only when it states ONE integer from 0 to 4 and nothing that could make it mean
something else. After ``<think>`` blocks and mentions of the 0-4 scale itself ("0-4", "0 to 4",
"/4", "out of 4") are set aside, the reply must hold at least one number and every number in it must
be that same integer. It is not a score (`read_score` says why) when it holds:

- a minus sign on a number (``-2``, ``−1``): the scale has no negative values;
- another scale: a fraction or "out of N" with N other than 4 (``3/5``, ``4 out of 10``), a percentage;
- a decimal (``3.5``, ``3,0``);
- a number outside 0-4 (``7``, ``10``);
- a digit other than 0-9 (``٣``);
- several different numbers (``2 or 3``, ``covers 2 of the 3 issues. Score: 3``).

Rejected replies are asked again by `judge_scores`, then recorded as failed; a guess would put a
number into the metric that the judge never gave.
"""

from __future__ import annotations

import re

MAX_SCORE = 4

_THINK = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)
# Mentions of the 0-4 scale itself are not scores.
_SCALE = re.compile(r"\b0\s*(?:-|–|—|to)\s*4\b(?![.,]\d)|(?:/|\bout\s+of)\s*4\b(?![.,]\d)", re.IGNORECASE)
# What is left of a fraction, "out of N" or a percentage after the 0-4 scale is set aside.
_OTHER_SCALE = re.compile(r"(?:/|\bout\s+of)\s*[-−]?\d+(?:[.,]\d+)?|\d+(?:[.,]\d+)?[ \t]*%", re.IGNORECASE)
# A number: an optional minus sign attached to it (a dash after a letter or digit is a hyphen), the
# digits, an optional decimal part.
_MINUS = "-−‐‑‒–﹣－"
_NUMBER = re.compile(rf"(?P<sign>(?<![\w])[{_MINUS}])?(?P<int>\d+)(?P<frac>[.,]\d+)?")


def read_score(reply: str | None) -> tuple[int | None, str]:
    """``(score, "")`` when ``reply`` states one integer on the 0-4 scale, else ``(None, why not)``.
    Never raises."""
    if not isinstance(reply, str):
        return None, "no reply"
    text = _SCALE.sub(" ", _THINK.sub(" ", reply))
    other = _OTHER_SCALE.search(text)
    if other:
        return None, f"another scale ({other.group(0).strip()!r})"
    values: set[int] = set()
    for match in _NUMBER.finditer(text):
        token = match.group(0)
        if not match["int"].isascii():
            return None, f"a digit other than 0-9 ({token!r})"
        if match["sign"]:
            return None, f"a negative number ({token!r})"
        if match["frac"]:
            return None, f"a decimal number ({token!r})"
        value = int(match["int"])
        if value > MAX_SCORE:
            return None, f"a number outside 0-{MAX_SCORE} ({token!r})"
        values.add(value)
    if not values:
        return None, "no number"
    if len(values) > 1:
        return None, f"several different numbers ({', '.join(map(str, sorted(values)))})"
    return values.pop(), ""


def holds_score(reply: str) -> bool:
    """Whether ``reply`` is a final answer (worth caching): it states a score."""
    return read_score(reply)[0] is not None
