"""Names NER missed, found from names already known (issue #13 recall).

NER reads each sentence on its own: it tags "Lebed" in one sentence and
misses him in the next, or never tags a surname the corpus knows well. After
NER, every other occurrence of a name the story's NER found, and of a name
the corpus knows (a multi-word name or a person's surname seen in at least
CORPUS_MIN_STORIES stories, or the name of an active rule), becomes a span
too. It never overrides an NER
span, and a lone capitalised word at the start of a sentence ("Major
changes...") counts only when this story's NER found it as a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from entities.models import Alias, Entity
from entities.normalize import name_key, normalize_surface
from entities.resolution import RawSpan

LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"})
CORPUS_MIN_STORIES = 2
MAX_WORDS = 4
_CAPITALISED_RUN = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’.-]*[\w]|[A-ZÀ-ÖØ-Þ]")  # "États-Unis" too
_JOINER = re.compile(r" (?:(?:of|the|de|du|des|la|le|del|da|di|van|von|der|al|bin) )*")


def _runs(text: str) -> list[list[re.Match]]:
    """Runs of capitalised words, separated by single spaces or by the small
    words names are made with ("Port of Lisbon", "Bank of England")."""
    runs, current = [], []
    for match in _CAPITALISED_RUN.finditer(text):
        if current and _JOINER.fullmatch(text[current[-1].end() : match.start()]):
            current.append(match)
        else:
            if current:
                runs.append(current)
            current = [match]
    if current:
        runs.append(current)
    return runs


def _phrases(text: str) -> Iterable[tuple[int, int, str]]:
    """Capitalised phrases, longest first; one word only when it stands
    alone ("Trump" in "Ivanka Trump" is someone else's surname)."""
    for run in _runs(text):
        for i in range(len(run)):
            for j in range(min(len(run), i + MAX_WORDS), i, -1):
                if j - i == 1 and len(run) > 1:
                    continue
                start, end = run[i].start(), run[j - 1].end()
                yield start, end, text[start:end]


def _key(phrase: str) -> str:
    """name_key, without its Unicode work for plain ASCII (most phrases)."""
    if phrase.isascii():
        return " ".join(phrase.casefold().split())
    return name_key(phrase)


def _starts_a_sentence(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \"“'‘(":
        i -= 1
    return i < 0 or text[i] in ".!?:\n"


def corpus_names(texts: Iterable[str]) -> dict[str, str]:
    """Known names (key → type) among the capitalised phrases of `texts`: one
    query for multi-word names, one for surnames."""
    phrases, words = set(), set()
    for text in texts:
        for _, _, phrase in _phrases(text):
            key = _key(phrase)
            (phrases if " " in key else words).add(key)
    known: dict[str, str] = {}
    if phrases:
        for key, type_ in (
            Entity.objects.with_keys(phrases)
            .filter(story_count__gte=CORPUS_MIN_STORIES, blocked=False)
            .values_list("key", "type")
            .iterator()
        ):
            if type_ in LABELS:
                known.setdefault(key, type_)
    if phrases or words:
        # The rules' names too: "PMF", "U.N.", an editor's "Trump".
        for key, type_ in (
            Alias.objects.filter(key__in=phrases | words, active=True, entity__blocked=False)
            .values_list("key", "entity__type")
            .iterator()
        ):
            if type_ in LABELS:
                known.setdefault(key, type_)
    if words:
        for surname in (
            Entity.objects.filter(
                surname_key__in=words, story_count__gte=CORPUS_MIN_STORIES, blocked=False
            )
            .values_list("surname_key", flat=True)
            .distinct()
            .iterator()
        ):
            known.setdefault(surname, "PERSON")
    return known


def with_known_names(
    text: str, spans: list[RawSpan], corpus: dict[str, str], language: str = ""
) -> list[RawSpan]:
    """`spans` and the spans of known names NER missed in `text`."""
    story: dict[str, str] = {}
    for span in spans:
        if span.label not in LABELS:
            continue
        surface = normalize_surface(span.text, span.label, language)
        if len(surface) >= 3:
            story.setdefault(name_key(surface), span.label)
            words = surface.split()
            if span.label == "PERSON" and len(words) >= 2 and len(words[-1]) >= 3:
                story.setdefault(name_key(words[-1]), "PERSON")
    taken = sorted((s.start, s.end) for s in spans)
    added: list[RawSpan] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for start, end, phrase in _phrases(text):
        key = _key(phrase)
        label = story.get(key)
        if label is None:
            label = corpus.get(key)
            if label is None or (" " not in key and _starts_a_sentence(text, start)):
                continue
        if not free(start, end):
            continue
        added.append(RawSpan(phrase, label, start, end))
        taken.append((start, end))
    return spans + added if added else spans
