"""Entities by the words of their names (SPEC §13): the ids of the entities
whose canonical name or an active alias has a word starting like the typed
words ("sud" → Mohammed al-Sudani, "von der le" → Ursula von der Leyen), or
holds them as whole words ("Leyen"). A word starts at the start of the name,
after a space, or after a hyphen or apostrophe ("al-Sudani", "O'Brien").

On PostgreSQL through GIN indexes on the keys' 'simple' text-search vectors
(entities/migrations/0010_postgres_name_words.py), which hold every word and
each part of a hyphenated word; on SQLite a regular expression over the keys.
Returned as SQL for an `id IN (…)` condition, so a page reads the entities
themselves in the same query.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL

from entities.models import Alias, Entity
from entities.normalize import name_key

WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 6
# Must match the index expressions of 0010_postgres_name_words exactly.
KEY_VECTOR = "to_tsvector('simple'::regconfig, key)"
# Suggestions look at the most-read entities first, this many of them, one
# index range in story order: a start shared by many names ("ma") has its
# most-read names there, at a cost that does not grow with the entities.
POPULAR = 2000


def name_word_ids(typed: str, *, prefix: bool) -> RawSQL | None:
    """Ids of the entities with the typed words in a name, one after the
    other: whole words, or (`prefix`) the last one only the start of a word."""
    words = WORD.findall(name_key(typed))[:MAX_WORDS]
    if not words:
        return None
    entity, alias = Entity._meta.db_table, Alias._meta.db_table
    if connection.vendor == "postgresql":
        # Each word is \w+ (no quote, no backslash): safe inside tsquery quotes.
        terms = [f"'{w}'" for w in words]
        if prefix:
            terms[-1] += ":*"
        condition = f"{KEY_VECTOR} @@ to_tsquery('simple'::regconfig, %s)"
        param = " <-> ".join(terms)
    else:
        condition = "key REGEXP %s"
        param = r"(?:^|\W)" + r"\W+".join(re.escape(w) for w in words)
        if not prefix:
            param += r"(?:\W|$)"
    return RawSQL(
        f"SELECT id FROM {entity} WHERE {condition}"
        f" UNION SELECT entity_id FROM {alias} WHERE {condition} AND active",
        [param, param],
    )


def word_start_pattern(typed: str) -> str | None:
    """A regular expression (Python and PostgreSQL alike) on a key: the
    typed words one after the other, each at a word start, the last one
    only begun."""
    words = WORD.findall(name_key(typed))[:MAX_WORDS]
    if not words:
        return None
    return r"(^|\W)" + r"\W+".join(re.escape(w) for w in words)


def suggested(typed: str, *, limit: int, entity_type: str = "") -> list[Entity]:
    """The entities, most stories first, with a name or active alias having
    a word that starts like `typed` (with story counts, not blocked).

    First among the POPULAR most-read entities (a walk down the story-count
    index, each key and alias checked); if that finds fewer than `limit`, the
    start is rare, and the word index finds all its names, few by then."""
    pattern, ids = word_start_pattern(typed), name_word_ids(typed, prefix=True)
    if pattern is None or ids is None:
        return []
    shown = Entity.objects.visible().filter(story_count__gt=0)
    if entity_type:
        shown = shown.filter(type=entity_type)
    popular = shown.order_by("-story_count", "id").values("id")[:POPULAR]
    aliased = Alias.objects.filter(entity=OuterRef("pk"), active=True, key__regex=pattern)
    order = ("-story_count", "name", "id")
    found = list(
        Entity.objects.filter(id__in=popular)
        .filter(Q(key__regex=pattern) | Q(Exists(aliased)))
        .order_by(*order)[:limit]
    )
    if len(found) == limit:
        return found
    return list(shown.filter(id__in=ids).order_by(*order)[:limit])
