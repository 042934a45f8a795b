"""Settling: one type and one display name per entity (SPEC §10), re-decided
in the background for the entities extraction touched: the corpus majority of
NER's labels, and the most frequent well-cased spelling (for a country, the
names data says are its own: "Britain"), unless an editor chose them.
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from entities.models import Alias, Entity, Mention
from entities.normalize import name_key, surname_key
from entities.proposals import Pools, propose_look_alikes
from entities.resolution import ACRONYM

SETTLE_SAMPLE = 100
SETTLE_BATCH = 2000


def settle(*, limit: int = SETTLE_BATCH) -> int:
    """Re-decide the type (corpus majority of NER's labels) and display name
    (the most frequent well-cased spelling) of entities touched since the
    last pass, unless an editor chose them. Returns how many were looked at."""
    entities = list(Entity.objects.filter(unsettled=True).order_by("id")[:limit])
    data_keys: dict[int, set[str]] = {}
    for entity_id, key in Alias.objects.filter(
        entity_id__in=[e.id for e in entities], origin=Alias.Origin.DATA, active=True
    ).values_list("entity_id", "key"):
        data_keys.setdefault(entity_id, set()).add(key)
    samples = Mention.objects.newest_of_each(
        [e.id for e in entities], "label", "surfaces", limit=SETTLE_SAMPLE
    )
    changed, renamed = [], []
    for entity in entities:
        rows = samples[entity.id]
        labels = Counter(label for label, _ in rows if label)
        # Its own spellings ("LONDON", "London"), and for a country the
        # names data says are its own ("Britain" for the United Kingdom).
        own = {entity.key} | data_keys.get(entity.id, set())
        spellings = Counter(
            s
            for _, surfaces in rows
            for s in surfaces.split("\n")
            if name_key(s) in own and _spelled_out(s)
        )
        new_type = entity.type
        if labels and not entity.type_locked:
            top = max(labels.values())
            new_type = entity.type if labels[entity.type] == top else labels.most_common(1)[0][0]
            clash = Entity.objects.filter(key=entity.key, type=new_type).exclude(pk=entity.pk)
            if new_type != entity.type and clash.exists():
                new_type = entity.type  # an editor split the name by type: keep it
        new_name = entity.name
        if spellings and not entity.name_locked:
            new_name = _display_name(spellings, current=entity.name)
        if name_key(new_name) != entity.key:
            renamed.append((entity, new_name))
            new_name = entity.name
        if (new_type, new_name) != (entity.type, entity.name):
            entity.type, entity.name = new_type, new_name
            entity.surname_key = surname_key(entity.key, new_type)
            changed.append(entity)
    if changed:
        Entity.objects.bulk_update(changed, ["type", "name", "surname_key"], batch_size=500)
    for entity, name in renamed:
        _rename_to_data_spelling(entity, name)
    pools: Pools = {}
    for entity in entities:
        if not entity.blocked:
            propose_look_alikes(entity, pools=pools)
    Entity.objects.filter(pk__in=[e.pk for e in entities]).update(unsettled=False)
    return len(entities)


def _spelled_out(surface: str) -> bool:
    """A spelling to show: not an abbreviation ("U.S.", "UK")."""
    return "." not in surface and not ACRONYM.match(surface)


@transaction.atomic
def _rename_to_data_spelling(entity: Entity, name: str) -> None:
    """A country shown by the name the corpus uses for it most ("Britain"):
    the rule for that name goes, and the data's name becomes a rule."""
    key = name_key(name)
    if Entity.objects.filter(key=key, type=entity.type).exclude(pk=entity.pk).exists():
        return
    Alias.objects.filter(key=key, origin=Alias.Origin.DATA).delete()
    Alias.objects.get_or_create(
        key=entity.key,
        defaults={
            "name": entity.name,
            "entity": entity,
            "origin": Alias.Origin.DATA,
            "evidence": f"the data's name for {name}",
        },
    )
    entity.name = name
    entity.save(update_fields=["name", "key", "surname_key"])


def _display_name(spellings: Counter, *, current: str) -> str:
    def shouted(s: str) -> bool:
        letters = [ch for ch in s if ch.isalpha()]
        return len(letters) > 5 and all(ch.isupper() for ch in letters)

    ranked = sorted(spellings, key=lambda s: (shouted(s), -spellings[s], s != current, s))
    return ranked[0]


def corpus_settle() -> int:
    """Settle every entity touched so far (the background does it per pass)."""
    total = 0
    while Entity.objects.filter(unsettled=True).exists():
        total += settle()
    return total
