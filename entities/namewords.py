"""Entities by the words of their names (SPEC §13): the most-read entities
whose canonical name or an active alias has a word starting like the typed
words ("sud" → Mohammed al-Sudani, "von der le" → Ursula von der Leyen), or
holding them as whole words ("Leyen"). A word starts at the start of the
name, after a space, or after a hyphen or apostrophe ("al-Sudani", "O'Brien").

One query, in two steps whose cost does not follow the number of names:
1. the POPULAR most-read entities, read from an index in story order that
   holds their keys (entity_popular_names, never the table), each key checked
   by a word-start pattern, and the aliases starting like the typed words
   (alias_key_names); a start many names share ("ma") has enough of its
   most-read names there;
2. only when that finds too few, the start is rare among names: the word
   indexes find all of them (PostgreSQL: GIN on the keys' 'simple' vectors,
   every word and each part of a hyphenated word), names and aliases apart,
   each ranked before they are joined.
Indexes: entities/migrations/0013_postgres_name_words.py. SQLite runs the
same query with regular expressions (Django's REGEXP) in place of the word
indexes.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models.expressions import RawSQL

from entities.models import Alias, Entity
from entities.normalize import name_key

WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 6
# Must match the index expressions of 0013_postgres_name_words exactly.
KEY_VECTOR = "to_tsvector('simple'::regconfig, {column})"
POPULAR = 2000


def _words(typed: str) -> list[str]:
    return WORD.findall(name_key(typed))[:MAX_WORDS]


def word_pattern(words: list[str], *, prefix: bool) -> str:
    """A regular expression (Python and PostgreSQL alike) on a key: the
    words one after the other, each at a word start, the last one whole or
    (`prefix`) only begun."""
    pattern = r"(^|\W)" + r"\W+".join(re.escape(w) for w in words)
    return pattern if prefix else pattern + r"(\W|$)"


def _indexed(words: list[str], *, prefix: bool, column: str) -> tuple[str, list]:
    """SQL on a key column (and its parameters) that the word indexes answer;
    on SQLite, the longest word as a substring (LIKE, in C) before the
    pattern (a Python function)."""
    if connection.vendor == "postgresql":
        # Each word is \w+ (no quote, no backslash): safe inside tsquery quotes.
        terms = [f"'{w}'" for w in words]
        if prefix:
            terms[-1] += ":*"
        vector = KEY_VECTOR.format(column=column)
        return f"{vector} @@ to_tsquery('simple'::regconfig, %s)", [" <-> ".join(terms)]
    longest = _like_escaped(max(words, key=len))
    return (
        f"{column} LIKE %s ESCAPE '\\' AND {column} REGEXP %s",
        [f"%{longest}%", word_pattern(words, prefix=prefix)],
    )


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def ranked_name_ids(
    typed: str,
    *,
    prefix: bool,
    limit: int,
    entity_type: str = "",
    unless: tuple[str, list] | None = None,
) -> RawSQL | None:
    """Ids of the `limit` most-read entities (not blocked, with stories, of
    `entity_type` when given) with the typed words in a name or active alias,
    for an `id IN (…)` condition; None when nothing was typed. With `unless`
    (SQL and params), none when that query finds a row: a constant condition
    both databases test once, before reading any name."""
    words = _words(typed)
    if not words:
        return None
    entity, alias = Entity._meta.db_table, Alias._meta.db_table
    postgres = connection.vendor == "postgresql"
    regex = "~" if postgres else "REGEXP"
    pattern = word_pattern(words, prefix=prefix)
    start = _like_escaped(" ".join(words))
    kind_sql, kind = (" AND e.type = %s", [entity_type]) if entity_type else ("", [])
    if unless is not None:
        kind_sql += f" AND NOT EXISTS ({unless[0]})"
        kind = [*kind, *unless[1]]
    longest = "%" + _like_escaped(max(words, key=len)) + "%"
    shown = "NOT e.blocked AND e.story_count > 0" + kind_sql
    key_sql, key_params = _indexed(words, prefix=prefix, column="e.key")
    alias_sql, alias_params = _indexed(words, prefix=prefix, column="a.key")
    materialized = "MATERIALIZED " if postgres else ""
    sql = (
        f"WITH top AS {materialized}(SELECT e.id, e.key, e.story_count FROM {entity} e"
        f" WHERE {shown} ORDER BY e.story_count DESC, e.id LIMIT %s),"
        f" popular AS {materialized}(SELECT id, story_count FROM top"
        f" WHERE (key LIKE %s ESCAPE '\\' AND key {regex} %s)"
        f" OR id IN (SELECT entity_id FROM {alias} WHERE active AND key LIKE %s ESCAPE '\\'"
        f" AND key {regex} %s) ORDER BY story_count DESC, id LIMIT %s)"
        " SELECT id FROM popular UNION"
        " SELECT id FROM ("
        f"SELECT * FROM (SELECT e.id, e.story_count FROM {entity} e WHERE {key_sql}"
        f" AND {shown} ORDER BY e.story_count DESC, e.id LIMIT %s) named"
        f" UNION SELECT * FROM (SELECT e.id, e.story_count FROM {alias} a"
        f" JOIN {entity} e ON e.id = a.entity_id WHERE a.active AND {alias_sql} AND {shown}"
        " ORDER BY e.story_count DESC, e.id LIMIT %s) aliased"
        ") rare WHERE (SELECT COUNT(*) FROM popular) < %s"
    )
    params = [*kind, POPULAR, longest, pattern, start + "%", pattern, limit]
    params += [*key_params, *kind, limit, *alias_params, *kind, limit, limit]
    return RawSQL(sql, params)


def suggested(typed: str, *, limit: int, entity_type: str = "") -> list[Entity]:
    """The `limit` most-read entities with a name or active alias having a
    word that starts like `typed`, most stories first. One query."""
    ids = ranked_name_ids(typed, prefix=True, limit=limit, entity_type=entity_type)
    if ids is None:
        return []
    found = Entity.objects.filter(id__in=ids).order_by("-story_count", "name", "id")
    return list(found[:limit])
