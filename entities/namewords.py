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
# (Their aliases are checked by where they start, not by each word.)
POPULAR = 2000


def _word_condition(typed: str, *, prefix: bool, column: str = "key") -> tuple[str, str] | None:
    """SQL on a key column (and its one parameter): the typed words in it,
    one after the other, whole or (`prefix`) the last one only begun."""
    words = WORD.findall(name_key(typed))[:MAX_WORDS]
    if not words:
        return None
    if connection.vendor == "postgresql":
        # Each word is \w+ (no quote, no backslash): safe inside tsquery quotes.
        terms = [f"'{w}'" for w in words]
        if prefix:
            terms[-1] += ":*"
        vector = KEY_VECTOR.replace("key", column)
        return f"{vector} @@ to_tsquery('simple'::regconfig, %s)", " <-> ".join(terms)
    param = r"(?:^|\W)" + r"\W+".join(re.escape(w) for w in words)
    if not prefix:
        param += r"(?:\W|$)"
    return f"{column} REGEXP %s", param


def name_word_ids(typed: str, *, prefix: bool) -> RawSQL | None:
    """Ids of the entities with the typed words in a name, one after the
    other: whole words, or (`prefix`) the last one only the start of a word."""
    condition = _word_condition(typed, prefix=prefix)
    if condition is None:
        return None
    sql, param = condition
    entity, alias = Entity._meta.db_table, Alias._meta.db_table
    return RawSQL(
        f"SELECT id FROM {entity} WHERE {sql}"
        f" UNION SELECT entity_id FROM {alias} WHERE {sql} AND active",
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

    First among the POPULAR most-read entities: one range of an index in
    story order holding their keys (entity_popular_names: read alone, no
    table rows), each key checked by a word-start pattern, and the aliases
    starting like `typed` (alias_key_names). If that finds fewer than
    `limit`, the start is rare among names, and the word indexes find all
    its names and aliases."""
    pattern = word_start_pattern(typed)
    if pattern is None:
        return []
    shown = Entity.objects.visible().filter(story_count__gt=0)
    if entity_type:
        shown = shown.filter(type=entity_type)
    order = ("-story_count", "name", "id")
    found = list(
        shown.filter(id__in=_popular_ids(typed, pattern, limit, entity_type)).order_by(*order)
    )
    if len(found) == limit:
        return found
    return list(shown.filter(id__in=_rare_ids(typed, limit, entity_type)).order_by(*order))


def _rare_ids(typed: str, limit: int, entity_type: str) -> RawSQL:
    """The `limit` most-read entities with a word of a name or active alias
    starting like `typed`: names and aliases apart, each read with its
    entity's story count, so that only the chosen few are joined again."""
    key_sql, param = _word_condition(typed, prefix=True)
    alias_sql, _ = _word_condition(typed, prefix=True, column="a.key")
    entity, alias = Entity._meta.db_table, Alias._meta.db_table
    typed_sql, typed_params = (" AND e.type = %s", [entity_type]) if entity_type else ("", [])
    shown = "NOT e.blocked AND e.story_count > 0" + typed_sql
    return RawSQL(
        "SELECT id FROM ("
        f"SELECT * FROM (SELECT e.id, e.story_count FROM {entity} e WHERE {key_sql} AND {shown}"
        " ORDER BY e.story_count DESC, e.id LIMIT %s) named"
        " UNION "
        f"SELECT * FROM (SELECT e.id, e.story_count FROM {alias} a"
        f" JOIN {entity} e ON e.id = a.entity_id"
        f" WHERE a.active AND {alias_sql} AND {shown}"
        " ORDER BY e.story_count DESC, e.id LIMIT %s) aliased"
        ") found ORDER BY story_count DESC, id LIMIT %s",
        [param, *typed_params, limit, param, *typed_params, limit, limit],
    )


def _popular_ids(typed: str, pattern: str, limit: int, entity_type: str) -> RawSQL:
    entity, alias = Entity._meta.db_table, Alias._meta.db_table
    postgres = connection.vendor == "postgresql"
    regex = "~" if postgres else "REGEXP"
    start = name_key(typed).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    typed_sql, typed_params = (" AND type = %s", [entity_type]) if entity_type else ("", [])
    return RawSQL(
        f"WITH top AS {'MATERIALIZED ' if postgres else ''}("
        f"SELECT id, key, story_count FROM {entity} WHERE NOT blocked AND story_count > 0"
        f"{typed_sql} ORDER BY story_count DESC, id LIMIT %s)"
        f" SELECT id FROM top WHERE key {regex} %s"
        f" OR id IN (SELECT entity_id FROM {alias} WHERE active AND key LIKE %s ESCAPE '\\')"
        " ORDER BY story_count DESC, id LIMIT %s",
        [*typed_params, POPULAR, pattern, start + "%", limit],
    )
