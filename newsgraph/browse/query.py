"""What a search query means: the cleaned text, and the entity it names
(SPEC §1, §13): by its name or an alias, or by a surname, a partial name or
a word of a name when one entity clearly owns it; else the candidates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q, prefetch_related_objects
from django.db.models.expressions import RawSQL

from entities.models import Alias, Entity
from entities.namewords import ranked_name_ids
from entities.normalize import name_key, rule_key

# NUL and other control characters: PostgreSQL refuses NUL in a string.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ue000\ue001]")
# A word of a name owns a query when its entity has at least this many times
# the stories of the next entity with that word ("Leyen": Ursula von der
# Leyen); else the entities are offered as candidates, by stories.
OWNER_RATIO = 2
MAX_CANDIDATES = 5
# Shorter words of a name ("al", "de", "new") are not looked up alone
# unless typed in capitals (an acronym).
MIN_WORD_LENGTH = 4


def clean_query(q: str, limit: int = 200) -> str:
    """User text as one line: no control characters, whitespace folded."""
    return " ".join(_CONTROL.sub(" ", q or "").split())[:limit]


@dataclass
class NameMatch:
    """The entity a query lands on, or the entities it may mean."""

    entity: Entity | None = None
    # By its whole name or alias, not by a word of it.
    exact: bool = False
    candidates: list[Entity] = field(default_factory=list)


def entity_for_query(q: str, *, entity_type: str = "") -> Entity | None:
    return match_query(q, entity_type=entity_type).entity


def match_query(q: str, *, entity_type: str = "") -> NameMatch:
    """The entity a query names: its canonical name or an alias
    (case-insensitive); else a surname, partial name or word of a name that
    one entity clearly owns by stories; else the candidates, by stories.
    `entity_type` keeps only entities of that type. Two queries (on SQLite
    three for a query that names no entity)."""
    if not q.strip():
        return NameMatch()
    # Entity.objects.matching_name(q), as an id look-up through the key
    # indexes of both tables: its OR across a join to the aliases scans every
    # entity (7–30 ms on PostgreSQL at 20k entities).
    keys = sorted({name_key(q), rule_key(q)})
    marks = ", ".join(["%s"] * len(keys))
    exact_sql = (
        f"SELECT id FROM {Entity._meta.db_table} WHERE key IN ({marks})"
        f" UNION SELECT entity_id FROM {Alias._meta.db_table} WHERE key IN ({marks})"
        " AND active"
    )
    exact_ids = RawSQL(exact_sql, [*keys, *keys])
    found = Entity.objects.visible()
    if entity_type:
        found = found.filter(type=entity_type)
    by_words = _by_words(q)
    if by_words and connection.vendor == "sqlite":
        # SQLite tests a NOT EXISTS row by row: the name first, the words
        # (a second query) only when it is no entity's name.
        rows = _ranked(found, exact_ids, exact_ids)
        if not rows:
            words = ranked_name_ids(
                q, prefix=False, limit=MAX_CANDIDATES + 1, entity_type=entity_type
            )
            rows = _ranked(found, words, exact_ids) if words is not None else []
    elif by_words:
        # One query: the words only when no name or alias is the query (a
        # constant condition PostgreSQL tests once).
        words = ranked_name_ids(
            q,
            prefix=False,
            limit=MAX_CANDIDATES + 1,
            entity_type=entity_type,
            unless=(exact_sql, [*keys, *keys]),
        )
        ids = exact_ids
        if words is not None:
            ids = RawSQL(
                f"{exact_sql} UNION SELECT id FROM ({words.sql}) w", [*keys, *keys, *words.params]
            )
        rows = _ranked(found, ids, exact_ids)
    else:
        rows = _ranked(found, exact_ids, exact_ids)
    match = NameMatch()
    if rows and rows[0].exact:
        match.entity, match.exact = rows[0], True
    else:
        named = [e for e in rows if e.story_count > 0]
        if len(named) == 1 or (
            len(named) > 1 and named[0].story_count >= OWNER_RATIO * named[1].story_count
        ):
            match.entity = named[0]
        else:
            match.candidates = named[:MAX_CANDIDATES]
    if match.entity is not None:
        prefetch_related_objects([match.entity], "aliases")
    return match


def _ranked(found, ids, exact_ids) -> list[Entity]:
    return list(
        found.filter(id__in=ids)
        .annotate(exact=ExpressionWrapper(Q(id__in=exact_ids), output_field=BooleanField()))
        .order_by("-exact", "-story_count", "id")[: MAX_CANDIDATES + 1]
    )


def _by_words(q: str) -> bool:
    """Whether a query is worth looking up among the words of names."""
    words = q.split()
    return bool(words) and (len(q) >= MIN_WORD_LENGTH or q.isupper()) and len(words) <= 6
