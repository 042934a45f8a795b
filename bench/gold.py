"""Gold sets written for the project (tests/data/), loaded for benchmarks and tests.

Identity gold (tests/data/identity/*.jsonl): wire-style stories whose title
and text mark every person, organisation, place and group as
`[[surface|identity_id]]`. `load_identity_gold()` returns each story as an
ingest record plus its gold mentions, with offsets into the string NER reads
(`title + "\\n\\n" + text`, both as ingest cleans them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
LABEL = re.compile(r"\[\[([^\[\]|]+)\|([a-z0-9_]+)\]\]")
# Private-use marks around a gold surface: they survive text cleaning (not
# white space, not control characters), so offsets can be read after it.
OPEN, CLOSE = "\ue010", "\ue011"


@dataclass(frozen=True)
class GoldMention:
    start: int
    end: int
    surface: str
    identity: str


@dataclass
class GoldStory:
    id: str
    record: dict
    mentions: list[GoldMention] = field(default_factory=list)
    language: str = "en"


# The identity gold per language: English (part1/part2), French (fr/, issue
# #26: wire copy written for the project, identities shared with English
# where the same real thing is named).
IDENTITY_LANGUAGES = {"en": "identity/*.jsonl", "fr": "identity/fr/*.jsonl"}


def identity_gold_paths(language: str) -> list[Path]:
    return sorted(DATA.glob(IDENTITY_LANGUAGES[language]))


def _marked(text: str) -> tuple[str, list[str]]:
    ids: list[str] = []

    def mark(match: re.Match) -> str:
        ids.append(match.group(2))
        return f"{OPEN}{match.group(1)}{CLOSE}"

    return LABEL.sub(mark, text), ids


def _unmark(marked: str, ids: list[str], offset: int) -> tuple[str, list[GoldMention]]:
    plain, mentions, position = [], [], offset
    pieces = re.split(f"({OPEN}[^{CLOSE}]*{CLOSE})", marked)
    ids = iter(ids)
    for piece in pieces:
        if piece.startswith(OPEN):
            surface = piece[1:-1]
            mentions.append(GoldMention(position, position + len(surface), surface, next(ids)))
            plain.append(surface)
            position += len(surface)
        else:
            plain.append(piece)
            position += len(piece)
    return "".join(plain), mentions


def load_identity_gold(paths: list[Path] | None = None, *, language: str = "en") -> list[GoldStory]:
    from articles.text import clean_text

    paths = paths or identity_gold_paths(language)
    stories = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            title_marked, title_ids = _marked(row["title"])
            text_marked, text_ids = _marked(row["text"])
            title, title_mentions = _unmark(" ".join(title_marked.split()), title_ids, 0)
            text, text_mentions = _unmark(
                clean_text(text_marked), text_ids, len(title) + len("\n\n")
            )
            record = {
                "url": row["url"],
                "title": title,
                "text": text,
                "published_at": row.get("published_at"),
                "source": row.get("source"),
            }
            stories.append(GoldStory(row["id"], record, title_mentions + text_mentions, language))
    return stories


def identity_types() -> dict[str, str]:
    types: dict[str, str] = {}
    paths = [*(DATA / "identity").glob("*_identities.json"), DATA / "identity/fr/identities.json"]
    for path in sorted(paths):
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            types[key] = value.get("type", "")
    return types


# --- salience gold (tests/data/salience/) ------------------------------------------------
#
# 64 original stories, each with its entities ({name, type, surfaces}) and
# three one-sentence summaries written independently (summaries_a/b/c.jsonl).
# An entity's gold salience is the number of summaries (0–3) that name it.


@dataclass
class SalienceEntity:
    name: str
    type: str
    surfaces: list[str]
    gold: int = 0  # summaries naming it


@dataclass
class SalienceStory:
    id: str
    record: dict
    entities: list[SalienceEntity]
    summaries: list[str]


def surface_pattern(surface: str, *, ignore_case: bool) -> re.Pattern:
    """The surface as a whole word (not inside a longer word); `\\b` would not
    do for surfaces ending in punctuation ("U.S.")."""
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(r"(?<!\w)" + re.escape(surface) + r"(?!\w)", flags)


def entities_named(text: str, entities: list[SalienceEntity]) -> set[int]:
    """Indexes of the entities `text` names: any surface, case-insensitive,
    whole words. A match inside a longer match of another entity does not
    count ("Lyon" in "Vieux Lyon"); when two entities match the very same
    span, the one whose surface has the text's own casing wins
    ("Leverkusen" the club, not "LEVERKUSEN" the dateline city), or both
    count if that does not decide."""
    matches: list[tuple[int, int, int, bool]] = []  # start, end, entity, same case
    for index, entity in enumerate(entities):
        for surface in entity.surfaces:
            for m in surface_pattern(surface, ignore_case=True).finditer(text):
                matches.append((m.start(), m.end(), index, m.group(0) == surface))
    named = set()
    for start, end, index, same_case in matches:
        inside_longer = any(
            o_index != index and o_start <= start and end <= o_end and o_end - o_start > end - start
            for o_start, o_end, o_index, _ in matches
        )
        beaten_on_case = not same_case and any(
            o_index != index and (o_start, o_end) == (start, end) and o_same
            for o_start, o_end, o_index, o_same in matches
        )
        if not inside_longer and not beaten_on_case:
            named.add(index)
    return named


def load_salience_gold() -> list[SalienceStory]:
    """The salience stories as ingest records, each entity with its gold
    salience: how many of the story's three summaries name it."""
    folder = DATA / "salience"
    summaries: dict[str, list[str]] = {}
    for path in sorted(folder.glob("summaries_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                summaries.setdefault(row["id"], []).append(row["summary"])
    stories = []
    for line in (folder / "stories.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        entities = [
            SalienceEntity(e["name"], e["type"], list(e["surfaces"])) for e in row["entities"]
        ]
        for summary in summaries.get(row["id"], []):
            for index in entities_named(summary, entities):
                entities[index].gold += 1
        record = {k: row.get(k) for k in ("url", "title", "text", "published_at", "source")}
        stories.append(SalienceStory(row["id"], record, entities, summaries.get(row["id"], [])))
    return stories
