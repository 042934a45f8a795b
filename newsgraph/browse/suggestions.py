"""Entity suggestions: names that start like the query (the search box's
drop-down, `/suggest/` and `/api/suggest/`), and names close to a query that
found little ("Did you mean", SPEC §1).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from django.db import connection
from django.db.models import Q

from articles.textsearch import TOKEN
from entities.models import Entity, EntityType
from entities.namewords import suggested
from entities.normalize import name_key
from newsgraph.browse.query import clean_query
from newsgraph.infra.addresses import address


def nearest_entities(q: str, *, limit: int = 5) -> list[Entity]:
    """Entity names close to a query ("Tehram" → Tehran), best first."""
    key = name_key(clean_query(q))
    if not key or len(key) > 80:
        return []
    visible = Entity.objects.visible().filter(story_count__gt=0)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
        from django.db.models.functions import Greatest

        # Both lookups use the GIN index; the annotations only rank their hits.
        # Word similarity finds a misspelt surname in a full name ("Nimma").
        return list(
            visible.filter(Q(key__trigram_similar=key) | Q(key__trigram_word_similar=key))
            .annotate(
                similarity=Greatest(
                    TrigramSimilarity("key", key), TrigramWordSimilarity(key, "key")
                )
            )
            .order_by("-similarity", "-story_count", "id")[:limit]
        )
    pool = list(visible.order_by("-story_count", "id").values_list("id", "key")[:20000])
    keys = {k: i for i, k in reversed(pool)}
    close = difflib.get_close_matches(key, list(keys), n=limit, cutoff=0.72)
    by_word: dict[str, str] = {}
    if len(key) >= 4 and " " not in key:
        for k in reversed(keys):  # the most-read entity keeps a shared word
            for word in TOKEN.findall(k):
                if len(word) >= 4:
                    by_word[word] = k
    words = difflib.get_close_matches(key, list(by_word), n=limit, cutoff=0.8)
    containing = [k for k in keys if len(key) >= 3 and key in k]
    chosen: list[int] = []
    for k in [*close, *(by_word[w] for w in words), *containing]:
        if keys[k] not in chosen:
            chosen.append(keys[k])
    chosen = chosen[:limit]
    found = Entity.objects.in_bulk(chosen)
    return [found[i] for i in chosen if i in found]


def suggest_entities(q: str, *, limit: int = 8, entity_type: str = "") -> list[Entity]:
    """Entities with a name or alias having a word that starts like the query
    ("sud" → Mohammed al-Sudani, "leyen" → Ursula von der Leyen), most
    stories first; of `entity_type` only, when given."""
    return suggested(clean_query(q), limit=limit, entity_type=entity_type)


def entity_summary(entity) -> dict:
    """An entity as JSON: an Entity, or an about-list entry (same attribute names)."""
    return {
        "name": entity.name,
        "type": entity.type,
        "type_label": EntityType(entity.type).label,
        "stories": entity.story_count,
        "url": address("entities:detail", entity.slug),
    }


def suggestions(
    q: str, *, row: Callable[[Entity], dict] = entity_summary, entity_type: str = ""
) -> list[dict]:
    """The suggestions for what was typed, as JSON-ready rows: the search
    box's `/suggest/` uses `entity_summary`, the API its own fuller row."""
    return [row(e) for e in suggest_entities(q, entity_type=entity_type)]
