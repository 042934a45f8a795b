"""What a text search looks for, as typed (SPEC §13): its phrases and words,
and which words are taken exactly.

A word in capitals ("US", "WHO", "IT") is an acronym: found only in capitals,
never stemmed ("US" is not "use" nor "us"). Any other word of three letters
or fewer ("un", "ai") is never stemmed either, in any case. Longer words are
stemmed by the index ("tariffs" finds "tariff"). The indexes fold case and
stem, so a phrase with an exact word is checked against the text itself by
a regular expression (`pattern`), on the stories the index found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TOKENS = 12
# An entity's names searched at once ("N more mentioning it").
MAX_PHRASES = 8


@dataclass(frozen=True)
class Word:
    text: str

    @property
    def acronym(self) -> bool:
        """All capitals (at least one letter, none lower case): matched as written."""
        return self.text.isupper()

    @property
    def exact(self) -> bool:
        """Never stemmed: an acronym, or a word of three letters or fewer."""
        return self.acronym or len(self.text) <= 3


@dataclass(frozen=True)
class Phrase:
    """Words that follow each other in a story, as the text `text` has them."""

    text: str
    words: tuple[Word, ...]

    @classmethod
    def of(cls, text: str) -> Phrase:
        return cls(" ".join(text.split()), tuple(Word(t) for t in TOKEN.findall(text)))

    @property
    def exact(self) -> bool:
        return any(w.exact for w in self.words)

    def pattern(self, *, boundary: str = r"\b") -> str:
        """A regular expression finding the phrase in a text: acronyms in
        capitals, the other words in any case; `boundary` is the dialect's
        word boundary (Python `\\b`, PostgreSQL `\\y`)."""
        parts = [w.text if w.acronym else _any_case(w.text) for w in self.words]
        return boundary + r"\W+".join(parts) + boundary


@dataclass(frozen=True)
class Terms:
    """A search: every word of `phrases` (a typed query: each word its own
    phrase), or any one of them (`any_phrase`: an entity's names)."""

    phrases: tuple[Phrase, ...]
    any_phrase: bool = False

    @classmethod
    def typed(cls, q: str) -> Terms:
        """A typed query: all of its words (at most MAX_QUERY_TOKENS)."""
        return cls(tuple(Phrase.of(t) for t in TOKEN.findall(q)[:MAX_QUERY_TOKENS]))

    @classmethod
    def names(cls, names: list[str]) -> Terms:
        """Any of these names, each as a phrase."""
        phrases: dict[tuple[Word, ...], Phrase] = {}
        for name in names:
            phrase = Phrase.of(name)
            if phrase.words and len(phrase.words) <= MAX_QUERY_TOKENS:
                phrases.setdefault(phrase.words, phrase)
        return cls(tuple(list(phrases.values())[:MAX_PHRASES]), any_phrase=True)

    def __bool__(self) -> bool:
        return bool(self.phrases)

    @property
    def exact(self) -> bool:
        return any(p.exact for p in self.phrases)

    def key(self) -> tuple:
        return (self.any_phrase, tuple(p.text for p in self.phrases))

    def unmark_lookalikes(self, snippet: str, open_mark: str, close_mark: str) -> str:
        """A snippet whose marks (from the stemming, case-folding index) are
        kept only on the words searched as typed: "US", not "use" or "us".
        Left alone when some searched word is stemmed ("tariffs")."""
        if not self.exact or any(not w.exact for p in self.phrases for w in p.words):
            return snippet
        words = [w for p in self.phrases for w in p.words]
        acronyms = {w.text for w in words if w.acronym}
        others = {w.text.casefold() for w in words if not w.acronym}

        def keep(match: re.Match) -> str:
            word = match.group(1)
            return match.group(0) if word in acronyms or word.casefold() in others else word

        marked = re.compile(re.escape(open_mark) + "(.*?)" + re.escape(close_mark), re.S)
        return marked.sub(keep, snippet)


def _any_case(word: str) -> str:
    """The word in any case, as character classes (portable between Python
    and PostgreSQL regular expressions, and per word within one pattern)."""
    out = []
    for ch in word:
        up, low = ch.upper(), ch.lower()
        if up == low or len(up) != 1 or len(low) != 1:
            out.append(re.escape(ch))
        else:
            out.append(f"[{up}{low}]")
    return "".join(out)
