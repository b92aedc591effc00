"""Strict checks of the boxes a benchmark record stores, before anything is run.

A record's question and answer hold boxes in the canonical grid syntax ``[phrase](<a, b>, <c, d>)``
(docs/data.md). The grid *parser* is lenient, as it must be with model output: a malformed box is
dropped and counted, reversed corners are swapped. For a reference that leniency changes the
benchmark silently (a NaN box vanishes, an inverted one grows to another box, a question's broken
box reaches the model as raw markup), so records are held to the exact syntax here and every
deviation is an error that names the field and the box.
"""

from __future__ import annotations

import math
import re

from .boxes.formats.grid import GRID_SIZE

# Where box markup starts: the grid syntax's "](<". Every occurrence must belong to a well-formed
# grounding, so an unclosed "[sky](<0, 59>" is found too.
_OPENING = re.compile(r"\]\(\s*<")
# The grid parser's own markup pattern: phrase in square brackets, boxes in round ones.
_MARKUP = re.compile(r"\[([^\[\]\n]*)\]\(([^()\n]*)\)")
_PAIR = re.compile(r"<\s*([^<>,]*?)\s*,\s*([^<>,]*?)\s*>")
_PIECE = re.compile(r"<[^<>]*>")
_PAIRS_ONLY = re.compile(r"\s*<[^<>]*>(?:\s*,\s*<[^<>]*>)*\s*")
_INDEX = re.compile(r"[0-9]+")
LAST_CELL = GRID_SIZE * GRID_SIZE - 1


def box_problems(text: str, field: str) -> list[str]:
    """Every problem with the grid-syntax boxes in ``text``, each naming ``field`` and the markup."""
    problems: list[str] = []
    covered: list[tuple[int, int]] = []
    for match in _MARKUP.finditer(text):
        inside = match.group(2)
        if "<" not in inside:
            continue  # ordinary text in brackets, e.g. a Markdown link
        covered.append((match.start(), match.end()))
        markup = match.group(0)
        if not _PAIRS_ONLY.fullmatch(inside):
            problems.append(f"field {field!r}: box markup {markup!r} does not parse; expected "
                            f"[phrase](<a, b>) or [phrase](<a, b>, <c, d>)")
            continue
        for piece in _PIECE.findall(inside):
            pair = _PAIR.fullmatch(piece)
            problem = "is not two cell indices" if pair is None else _pair_problem(pair.group(1), pair.group(2))
            if problem is not None:
                problems.append(f"field {field!r}: box {piece!r} in {markup!r} {problem}")
    for opening in _OPENING.finditer(text):
        if not any(start <= opening.start() < end for start, end in covered):
            snippet = text[max(0, opening.start() - 20): opening.end() + 20]
            problems.append(f"field {field!r}: box markup near {snippet!r} does not parse (unclosed or "
                            "broken brackets)")
    return problems


def _pair_problem(left: str, right: str) -> str | None:
    """Why ``<left, right>`` is not a box of two grid cells, or None when it is one."""
    cells = []
    for token in (left, right):
        if not _INDEX.fullmatch(token):
            return f"has {token!r}: {_describe_non_index(token)}"
        value = int(token)
        if value > LAST_CELL:
            return f"has {value}: beyond the {GRID_SIZE}x{GRID_SIZE} grid (cells 0-{LAST_CELL})"
        cells.append(value)
    (col_l, row_l), (col_r, row_r) = ((c % GRID_SIZE, c // GRID_SIZE) for c in cells)
    if col_l > col_r:
        return f"is inverted: x1 > x2 (cell {cells[0]} is in column {col_l}, cell {cells[1]} in column {col_r})"
    if row_l > row_r:
        return f"is inverted: y1 > y2 (cell {cells[0]} is in row {row_l}, cell {cells[1]} in row {row_r})"
    return None


def _describe_non_index(token: str) -> str:
    try:
        value = float(token)
    except ValueError:
        return f"not a cell index (ASCII digits 0-{LAST_CELL})"
    if math.isnan(value) or math.isinf(value):
        return "NaN or infinite"
    if value < 0:
        return "negative"
    if not token.isascii():
        return "not ASCII digits"
    return f"not a whole cell index 0-{LAST_CELL}"
