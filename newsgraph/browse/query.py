"""What a search query means: the cleaned text, and the entity it names."""

from __future__ import annotations

import re

from django.db.models.expressions import RawSQL

from entities.models import Alias, Entity
from entities.normalize import name_key, rule_key

# NUL and other control characters: PostgreSQL refuses NUL in a string.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ue000\ue001]")


def clean_query(q: str, limit: int = 200) -> str:
    """User text as one line: no control characters, whitespace folded."""
    return " ".join(_CONTROL.sub(" ", q or "").split())[:limit]


def entity_for_query(q: str) -> Entity | None:
    """The entity a query names: canonical name or alias, case-insensitive."""
    if not q.strip():
        return None
    # Entity.objects.matching_name(q), as an id look-up through the key
    # indexes of both tables: its OR across a join to the aliases scans every
    # entity (7–30 ms on PostgreSQL at 20k entities).
    keys = sorted({name_key(q), rule_key(q)})
    marks = ", ".join(["%s"] * len(keys))
    ids = RawSQL(
        f"SELECT id FROM {Entity._meta.db_table} WHERE key IN ({marks})"
        f" UNION SELECT entity_id FROM {Alias._meta.db_table} WHERE key IN ({marks})"
        " AND active",
        [*keys, *keys],
    )
    return (
        Entity.objects.visible()
        .filter(id__in=ids)
        .prefetch_related("aliases")
        .order_by("-story_count", "id")
        .first()
    )
