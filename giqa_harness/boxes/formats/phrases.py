"""Which phrase a bare box belongs to (Shikra, Ferret, the LLaVA-style float formats, Kosmos-2 objects
without ``<phrase>``, ``<box>`` without ``<ref>``).

The rule, applied to the text before the box:

1. The search stays inside the box's clause: it starts after the nearest clause boundary (``. ! ? ;
   : ,``, a newline, a bracket or a quote) and never reaches back past the previous box's markup.
   Brackets, colons and quotes right before the box ("the dog: [..]", "the dog ([..])") are skipped
   first, so they do not hide the phrase they follow.
2. Words that cannot end a noun phrase (auxiliaries and common verbs, prepositions, conjunctions,
   relative words: ``STOP_WORDS``) are skipped from the end: "the dog is located at [..]" attributes
   the box to "the dog".
3. The phrase is then the run of words going back from there, ending before a stop word and ending
   after an article, demonstrative, possessive or quantifier (``OPENERS``), at most ``MAX_WORDS``
   words: "the blurry dog [..]" -> "the blurry dog", "noise in shadows [..]" -> "shadows".
4. A run made only of openers, or no run at all, gives the empty phrase.

The phrase keeps the model's own spelling, with inner whitespace collapsed. This feeds Tag-Recall, so
it is deliberately a small closed-class rule rather than a tagger: predictable, fast, documented.
"""

from __future__ import annotations

import re

MAX_WORDS = 6
_WINDOW = 300  # characters looked at; a six-word phrase is far shorter

OPENERS = frozenset(
    "the a an this these those its their his her my our your some any each every all both several many "
    "few no another".split()
)
STOP_WORDS = frozenset(
    # auxiliaries and verbs that introduce or report a region
    "is are was were be been being am has have had do does did can could may might must shall should "
    "will would appears appear seems seem looks look shows show showing contains contain includes include "
    "exhibits exhibit suffers suffer affects affect affected lacks lack makes make causes cause reduces "
    "reduce located positioned situated found shown seen visible marked highlighted labeled labelled "
    "depicted there here "
    # conjunctions and relative words
    "and or but nor yet so while whereas although though because since if than that which who whom "
    "whose where when as "
    # prepositions
    "in on at of with by for from to into onto near under over above below behind beside besides around "
    "about across along between among within without through toward towards like inside outside upon "
    "against beneath".split()
)

_BOUNDARY = re.compile(r"[.!?;:,\n\r()\[\]{}\"“”<>|]")
_WORD = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")
_SKIPPABLE_TAIL = " \t\r\n([{:\"'“‘"


def clause_start_in(text: str, start: int, end: int) -> int:
    """Where the clause that ends at ``end`` begins: just after the last boundary in ``text[start:end]``."""
    boundary = None
    for boundary in _BOUNDARY.finditer(text, start, end):
        pass
    return boundary.end() if boundary is not None else start


def preceding_noun_phrase(text: str, end: int, start: int = 0) -> tuple[str, int]:
    """The noun phrase a box at ``end`` belongs to, looking no further back than ``start``.

    Returns the phrase and where it starts in ``text`` (``end`` when the phrase is empty).
    """
    lo = max(start, end - _WINDOW)
    window = text[lo:end].rstrip(_SKIPPABLE_TAIL)
    clause_start = clause_start_in(window, 0, len(window))
    words = list(_WORD.finditer(window, clause_start))
    if clause_start == 0 and lo > start and words and words[0].start() == 0 and text[lo - 1].isalnum():
        words = words[1:]  # cut in two by the window: not a whole word
    i = len(words) - 1
    while i >= 0 and words[i].group().lower() in STOP_WORDS:
        i -= 1
    chosen = []
    while i >= 0 and len(chosen) < MAX_WORDS:
        word = words[i].group().lower()
        if word in STOP_WORDS:
            break
        chosen.append(words[i])
        if word in OPENERS:
            break
        i -= 1
    if not chosen or all(w.group().lower() in OPENERS for w in chosen):
        return "", end
    first, last = chosen[-1], chosen[0]
    return " ".join(window[first.start() : last.end()].split()), lo + first.start()
