"""Text in capitals, cased before NER reads it (SPEC §10, issue #13).

Wire copy shouts: headlines ("CLINTON LEADS DOLE IN NEW POLL"), datelines
("MOSCOW 1996-08-22 - ..."), results tables. The small English model finds
few names in capitals and types them badly, and the names it finds would be
shown as "MOSCOW". So each shouted word is given the casing the story itself
uses for it elsewhere ("Moscow", "poll", "NATO"); without such evidence a
word in a dateline or table is a name (Title case), a word of a headline is
not (lower case) unless the story names it in a dateline, a common word is
lower case, and a dotted or short word ("U.S.", "UN") is an acronym and stays
as it is. Only letters change case: offsets into the text stay valid, so
mentions found in the cased text point into the stored one.
"""

from __future__ import annotations

import re
from collections import Counter

_PARAGRAPHS = re.compile(r"[^\n]+")
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['.-](?=[^\W\d_]))*\.?")
# A word in capitals: two letters or more, none in lower case.
_CAPS_WORD = re.compile(r"(?<![\w'.-])[^\W\d_a-z]{2,}(?:['.-]?[^\W\d_a-z]+)*\.?(?![\w'-])")
_ANY_CAPS = re.compile(r"[^\W\d_a-z]{2}")
# A paragraph is shouted when most of its words are in capitals.
SHOUTED_SHARE = 0.6
ACRONYM_MAX_LETTERS = 3
# "US" is a stop word ("us") in lower case, and the United States in capitals.
KEPT_SHOUTED = frozenset({"US"})


def _is_caps(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def _title(word: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))


def _shouted_regions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, default casing) of each shouted word."""
    regions = []
    for paragraph in _PARAGRAPHS.finditer(text):
        body = paragraph.group()
        if not _ANY_CAPS.search(body):
            continue
        base = paragraph.start()
        caps = [m for m in _CAPS_WORD.finditer(body) if _is_caps(m.group())]
        if not caps:
            continue
        words = len(_WORD.findall(body))
        if len(caps) >= SHOUTED_SHARE * words:
            # A headline (the story's first line) is mostly common words; a
            # shouted line elsewhere is mostly names (tables, bylines).
            default = "lower" if base == 0 else "title"
            regions += [(base + m.start(), base + m.end(), default) for m in caps]
            continue
        # A dateline: the capitals a paragraph starts with.
        lead = []
        for match in _WORD.finditer(body):
            if not _is_caps(match.group()):
                break
            lead.append(match)
        regions += [(base + m.start(), base + m.end(), "title") for m in lead]
    return regions


def truecase(text: str) -> str:
    """`text` with its shouted words cased; the same length, only letters changed."""
    regions = _shouted_regions(text)
    if not regions:
        return text
    from spacy.lang.en.stop_words import STOP_WORDS

    wanted = {text[s:e].lower() for s, e, _ in regions}
    inside = {s for s, _, _ in regions}
    evidence: dict[str, Counter] = {}
    pattern = re.compile(
        r"(?<![\w'.-])(?:" + "|".join(map(re.escape, wanted)) + r")(?![\w'-])", re.IGNORECASE
    )
    for match in pattern.finditer(text):
        if match.start() not in inside:
            evidence.setdefault(match.group().lower(), Counter())[match.group()] += 1
    named: dict[str, Counter] = {}
    for start, end, default in regions:
        if default == "title":
            word = text[start:end]
            named.setdefault(word.lower(), Counter())[_title(word)] += 1

    pieces, cursor = [], 0
    for start, end, default in regions:
        word = text[start:end]
        forms = evidence.get(word.lower())
        if not forms and default == "lower":
            # A headline word the story only writes in a dateline or table
            # ("BERLIN 1996-08-30"): a name there, so a name here too.
            forms = named.get(word.lower())
        if forms:
            # The story's own spelling; a form seen only capitalised at the
            # start of a sentence still says "a name" well enough.
            cased = forms.most_common(1)[0][0]
        elif "." in word or word in KEPT_SHOUTED:
            cased = word
        elif word.lower() in STOP_WORDS:
            cased = word.lower()
        elif sum(ch.isalpha() for ch in word) <= ACRONYM_MAX_LETTERS:
            cased = word
        elif default == "lower":
            cased = word.lower()
        else:
            cased = _title(word)
        if len(cased) != len(word):
            continue  # a letter whose case changes its length ("ß"): leave it
        pieces += [text[cursor:start], cased]
        cursor = end
    pieces.append(text[cursor:])
    cased_text = "".join(pieces)
    # A cased headline starts with a capital, as a sentence does.
    if cased_text[:1].islower() and _is_caps(text.split(" ", 1)[0]):
        cased_text = cased_text[0].upper() + cased_text[1:]
    return cased_text
