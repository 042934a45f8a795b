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


def load_identity_gold(paths: list[Path] | None = None) -> list[GoldStory]:
    from articles.services import clean_text

    paths = paths or sorted((DATA / "identity").glob("*.jsonl"))
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
            stories.append(GoldStory(row["id"], record, title_mentions + text_mentions))
    return stories


def identity_types() -> dict[str, str]:
    types: dict[str, str] = {}
    for path in sorted((DATA / "identity").glob("*_identities.json")):
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            types[key] = value.get("type", "")
    return types
