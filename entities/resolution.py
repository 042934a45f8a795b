"""In-story entity resolution (SPEC §5), free of the database.

Given the NER spans of one story and the curated rules (blocked keys, alias
keys), group the spans into the story's entities:

* a blocked surface is dropped;
* a curated alias wins over everything else;
* a partial name ("Sudani", "Walshe") joins the one full person name in the
  story it is the end of ("Mohammed al-Sudani", "Arran Robert Walshe");
* an acronym ("PMF") joins the one longer name in the story whose initials it
  spells ("Popular Mobilization Forces"), preferring an explicit
  "Popular Mobilization Forces (PMF)" definition;
* a generic head ("Commission", "Treasury", "Fed") joins the one organisation
  in the story it is the head of ("European Commission", "U.S. Treasury",
  "Federal Reserve"); across stories it is never a rule;
* a one-word name that is a frequent word of the language (wordfreq) and
  that the story also writes in lower case ("Supreme" beside "supreme
  leader") is a common word, not a name.

Ambiguous partials and acronyms are left as they are.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from entities.languages import rules_for
from entities.normalize import _QUOTES, KEPT_LABELS, name_key, normalize_surface

ACRONYM = re.compile(r"^[A-Z](?:\.?[A-Z]){1,6}\.?$")
PARTICLE = re.compile(r"^(?:al|el|ad|an|ar|as|ash|at|az|ul|bin|ibn|abu|d)[-'](?=\w)")
MINOR_WORDS = frozenset({"of", "the", "and", "for", "on", "in", "de", "du", "des", "la", "&"})
PARTIAL_LABELS = frozenset({"PERSON", "ORG", "NORP"})


@dataclass(frozen=True)
class RawSpan:
    text: str
    label: str
    start: int
    end: int


@dataclass
class StoryEntity:
    key: str
    name: str
    label: str
    entity_id: int | None = None  # set when a curated alias decided it
    spans: list[tuple[int, int]] = field(default_factory=list)
    surfaces: list[str] = field(default_factory=list)
    # Set by corpus resolution when two full names compete and the story's
    # context cannot decide: the evidence shown to editors.
    ambiguous: dict | None = None
    # Set by corpus resolution when one full name fits but the evidence is
    # too weak for a rule: (entity, confidence, evidence) shown to editors.
    proposal: tuple | None = None
    language: str = ""  # the story's (entities/languages/): "" is the default, English

    @property
    def count(self) -> int:
        return len(self.spans)


@dataclass
class _Group:
    key: str
    surfaces: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def tokens(self) -> list[str]:
        return self.key.split()

    @functools.cached_property
    def label(self) -> str:
        # Majority label; ties go to the label seen first. Read once the
        # story's spans are grouped (partial names compare every pair).
        counts = Counter(self.labels)
        best = max(counts.values())
        return next(label for label in self.labels if counts[label] == best)


def _strip_particle(token: str) -> str:
    return PARTICLE.sub("", token)


def _is_partial_of(partial: list[str], full: list[str]) -> bool:
    k = len(partial)
    if k >= len(full):
        return False
    if full[-k:] == partial:
        return True
    tail = full[-k:]
    return [_strip_particle(tail[0]), *tail[1:]] == partial


def _initials(words: list[str]) -> set[str]:
    words = [w for part in words for w in part.split("-") if w]
    major = "".join(w[0] for w in words if w.casefold() not in MINOR_WORDS)
    every = "".join(w[0] for w in words)
    return {major.upper(), every.upper()}


def _display_name(surfaces: list[str]) -> str:
    counts = Counter(surfaces)
    # Prefer the most frequent spelling that is not shouted in capitals.
    ranked = sorted(
        counts, key=lambda s: (s.isupper() and len(s) > 6, -counts[s], surfaces.index(s))
    )
    return ranked[0]


def _trim_span(raw: RawSpan, surface: str) -> tuple[int, int]:
    folded = unicodedata.normalize("NFC", raw.text).translate(_QUOTES)
    offset = folded.find(surface) if len(folded) == len(raw.text) else -1
    if offset < 0:
        return raw.start, raw.end
    return raw.start + offset, raw.start + offset + len(surface)


def resolve_story(
    spans: Iterable[RawSpan],
    *,
    text: str,
    blocked_keys: frozenset[str] | set[str],
    alias_targets: Mapping[str, int],
    language: str = "",
) -> list[StoryEntity]:
    rules = rules_for(language)  # None: English, the rules below
    groups: dict[str, _Group] = {}
    pieces = (
        p
        for span in _join_particles(spans, text)
        for line in _split_at_line_breaks(span)
        for p in _split_at_figures(line)
    )
    for raw in pieces:
        if raw.label not in KEPT_LABELS:
            continue
        surface = normalize_surface(raw.text, raw.label, language)
        if (
            not surface
            or (rules or _english).is_common_word(surface)
            # wordfreq's English frequencies: English stories only
            or (rules is None and _written_lower_case(surface, text))
        ):
            continue
        key = name_key(surface)
        if key in blocked_keys:
            continue
        group = groups.setdefault(key, _Group(key=key))
        group.surfaces.append(surface)
        group.labels.append(raw.label)
        group.spans.append(_trim_span(raw, surface))

    _drop_headline_runons(groups, title_end=text.find("\n\n"))

    parent: dict[str, str] = {}
    for group in sorted(groups.values(), key=lambda g: len(g.key)):
        if group.key in alias_targets:
            continue
        target = _acronym_target(group, groups, text, (rules or _english).initials)
        target = target or _partial_target(group, groups)
        if rules is not None and not target and rules.article_free(group.key) in groups:
            target = rules.article_free(group.key)  # "Le Fonds …" and "Fonds …"
        if target:
            parent[group.key] = target

    def root(key: str) -> str:
        seen = set()
        while key in parent and key not in seen:
            seen.add(key)
            key = parent[key]
        return key

    merged: dict[str, StoryEntity] = {}
    for key in sorted(groups, key=lambda k: groups[k].spans[0]):
        group, top = groups[key], groups[root(key)]
        entity = merged.get(top.key)
        if entity is None:
            entity = merged[top.key] = StoryEntity(
                key=top.key,
                name=_display_name(top.surfaces),
                label=top.label,
                entity_id=alias_targets.get(top.key),
                language=language,
            )
        entity.spans.extend(group.spans)
        entity.surfaces.extend(s for s in dict.fromkeys(group.surfaces) if s not in entity.surfaces)
    for entity in merged.values():
        entity.spans.sort()
    return list(merged.values())


@functools.cache
def _particles() -> frozenset[str]:
    from nameparser.config import CONSTANTS

    return frozenset(CONSTANTS.prefixes)


@functools.lru_cache(maxsize=100_000)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def _join_particles(spans: Iterable[RawSpan], text: str) -> list[RawSpan]:
    """NER cuts a name after its particle ("Ursula von der" + "Leyen"): a span
    that ends in a particle of a person's name (nameparser's "von", "der",
    "van", "de", "al") and the span right after it are one person."""
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    joined: list[RawSpan] = []
    for span in ordered:
        if joined:
            last = joined[-1]
            words = last.text.split()
            if (
                text[last.end : span.start] == " "
                and len(words) >= 2
                and words[-1].casefold() in _particles()
                and span.text[:1].isupper()
            ):
                joined[-1] = RawSpan(text[last.start : span.end], "PERSON", last.start, span.end)
                continue
        joined.append(span)
    return joined


class _english:
    """The English rules, where a language module has its own (languages/)."""

    @staticmethod
    def is_common_word(surface: str) -> bool:
        return _is_common_word(surface)

    @staticmethod
    def initials(words: list[str]) -> set[str]:
        return _initials(words)


def _is_common_word(surface: str) -> bool:
    """One common English word ("Which", "It", "THE") is a tagging accident,
    not a name; a short word in capitals is an acronym ("US", "IT")."""
    if " " in surface or (surface.isupper() and len(surface) <= 4):
        return False
    from spacy.lang.en.stop_words import STOP_WORDS

    return surface.casefold() in STOP_WORDS


COMMON_WORD_ZIPF = 4.0  # wordfreq's scale: a word met once in 10,000 or more often


def _written_lower_case(surface: str, text: str) -> bool:
    """ "Supreme", "DOCUMENT", "Champions": one frequent English word that the
    story itself writes in lower case elsewhere is a word, not a name (a
    name is not written so: "clinton", "turkey" the country)."""
    if " " in surface or "-" in surface or len(surface) < 3 or not surface.isalpha():
        return False
    if surface.isupper() and len(surface) <= 4:
        return False  # an acronym: "US", "RIP" as initials
    word = surface.casefold()
    if _zipf(word) < COMMON_WORD_ZIPF:
        return False
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


_FIGURES = re.compile(r"(?:^|\s)[-+\u2212]?[\d][\d.,:/+\-\u2212]*(?=\s|$)|\s[-+/](?=\s)")


def _split_at_figures(raw: RawSpan) -> list[RawSpan]:
    """Results and market tables make NER run names and figures together
    ("1 0 1 0 3 West Ham 2 0 1 Leeds 2 0", "Hamburg 2 Bayern Munich 2"): the
    names between the figures are spans of their own."""
    if not any(ch.isdigit() for ch in raw.text):
        return [raw]
    pieces, cursor = [], 0
    for match in _FIGURES.finditer(raw.text):
        if raw.text[cursor : match.start()].strip():
            pieces.append((cursor, match.start()))
        cursor = match.end()
    if raw.text[cursor:].strip():
        pieces.append((cursor, len(raw.text)))
    if pieces == [(0, len(raw.text))]:
        return [raw]
    return [RawSpan(raw.text[a:b], raw.label, raw.start + a, raw.start + b) for a, b in pieces]


def _split_at_line_breaks(raw: RawSpan) -> list[RawSpan]:
    """NER sometimes runs a name across the title/text break or a paragraph
    break ("Corvane\n\nThe Competition and Markets Authority"): no name spans
    a line break, so each line's piece is a span of its own."""
    if "\n" not in raw.text:
        return [raw]
    pieces, offset = [], 0
    for line in raw.text.split("\n"):
        if line.strip():
            start = raw.start + offset
            pieces.append(RawSpan(line, raw.label, start, start + len(line)))
        offset += len(line) + 1
    return pieces


def _drop_headline_runons(groups: dict[str, _Group], *, title_end: int) -> None:
    """Title Case headlines make NER run names together ("Sudani Weighs Future
    of Popular Mobilization Forces"): a long span seen only in the title that
    contains another of the story's names is dropped."""
    if title_end < 0:
        return
    for key, group in list(groups.items()):
        if len(group.tokens) < 4 or any(end > title_end for _, end in group.spans):
            continue
        padded = f" {key} "
        if any(other != key and f" {other} " in padded for other in groups):
            del groups[key]


def _acronym_target(
    group: _Group, groups: dict[str, _Group], text: str, initials=_initials
) -> str | None:
    surface = group.surfaces[0]
    if not ACRONYM.match(surface):
        return None
    letters = surface.replace(".", "").upper()
    candidates = [
        other
        for other in groups.values()
        if other.key != group.key
        and len(other.tokens) >= 2
        and letters in initials(other.surfaces[0].split())
    ]
    defined = re.compile(r"\s*\(\s*" + re.escape(surface) + r"\s*\)")
    explicit = [c for c in candidates if any(defined.match(text, end) for _, end in c.spans)]
    if len(explicit) == 1:
        return explicit[0].key
    if len(candidates) == 1:
        return candidates[0].key
    return None


def _head_target(group: _Group, groups: dict[str, _Group]) -> str | None:
    """ "Commission" → the one organisation in the story it heads ("European
    Commission"); "Axis" → the one it begins ("Axis of Resistance"); "Fed" →
    the one whose first word it begins ("Federal Reserve")."""
    if len(group.tokens) != 1 or "ORG" not in group.labels or ACRONYM.match(group.surfaces[0]):
        return None
    word = group.key
    candidates = {
        other.key
        for other in groups.values()
        if other.label == "ORG"
        and len(other.tokens) >= 2
        and (other.tokens[-1] == word or (len(word) >= 3 and other.tokens[0].startswith(word)))
    }
    return candidates.pop() if len(candidates) == 1 else None


def _partial_target(group: _Group, groups: dict[str, _Group]) -> str | None:
    # Any eligible label will do: NER may call a surname GPE once and PERSON
    # once in the same story ("Sudani"), and the first label seen wins ties.
    if PARTIAL_LABELS.isdisjoint(group.labels) or ACRONYM.match(group.surfaces[0]):
        return None
    head = _head_target(group, groups)
    if head:
        return head
    candidates = [
        other
        for other in groups.values()
        if other.label == "PERSON" and _is_partial_of(group.tokens, other.tokens)
    ]
    if not candidates:
        return None
    longest = max(candidates, key=lambda c: len(c.tokens))
    # "Walshe" may match both "Robert Walshe" and "Arran Robert Walshe":
    # nested candidates are one person; two unrelated full names are not.
    if all(c is longest or _is_partial_of(c.tokens, longest.tokens) for c in candidates):
        return longest.key
    return None
