"""Settling: one type and one display name per entity (SPEC §10), re-decided
in the background for the entities extraction touched: the corpus majority of
NER's labels, and the most frequent well-cased spelling (for a country, the
names data says are its own: "Britain"), unless an editor chose them.

Types have evidence beyond NER's vote: a one-word name that is the surname of
a person the corpus knows stays a person ("Trump"), and a known place (a
country, state or large city, places.py) stays a place. The display name is
never a mixed shout ("SAN Francisco") when a well-cased spelling exists.

Settling also checks the automatic partial rules pointing at the entity
(`withdraw_contradicted`): when the stories a rule resolved mostly read its
name as something other than a person ("Houston" → "Tyler Houston" where
NER reads a city), the rule is withdrawn (turned off, with the evidence) and
those stories are re-resolved in the background, bounded like the other
follow-ups.
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from entities import history
from entities.extraction import request_reresolution
from entities.models import Alias, Change, Entity, Mention
from entities.normalize import key_variants, name_key, surname_key
from entities.places import known_place
from entities.proposals import Pools, propose_look_alikes
from entities.resolution import ACRONYM

SETTLE_SAMPLE = 100
SETTLE_BATCH = 2000
PLACE_TYPES = frozenset({"GPE", "LOC"})
# A partial rule is withdrawn when at least this many of its sampled stories
# read its name, and fewer than half of them as a person.
WITHDRAW_MIN_STORIES = 3
# Stories re-resolved after a withdrawn rule, newest first.
WITHDRAWN_RULE_STORIES = 1_000


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
    surnames = _surnames_of_people(entities)
    withdrawn = withdraw_contradicted(entities, samples)
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
            new_type = _with_evidence(entity, new_type, labels, surnames)
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
    if withdrawn:
        transaction.on_commit(lambda: request_reresolution(article_ids=sorted(withdrawn)))
    return len(entities)


def _surnames_of_people(entities: list[Entity]) -> set[str]:
    """The one-word names among `entities` that are a known person's surname."""
    single = {e.key for e in entities if " " not in e.key}
    if not single:
        return set()
    return set(
        Entity.objects.filter(surname_key__in=single, type="PERSON", blocked=False).values_list(
            "surname_key", flat=True
        )
    )


def _with_evidence(entity: Entity, voted: str, labels: Counter, surnames: set[str]) -> str:
    """NER's vote, unless stronger evidence says otherwise: a known person's
    surname stays a person ("Trump", even where NER read an organisation); a
    known place that NER has read as a place stays a place."""
    if entity.key in surnames and known_place(entity.name) is None:
        return "PERSON"
    if voted not in PLACE_TYPES and known_place(entity.name) is not None:
        place_labels = [t for t in labels if t in PLACE_TYPES]
        if place_labels:
            return max(place_labels, key=labels.get)
    return voted


def withdraw_contradicted(entities: list[Entity], samples: dict) -> set[int]:
    """Turn off the automatic partial rules whose stories contradict them;
    returns the stories to re-resolve."""
    rules = list(
        Alias.objects.filter(
            entity_id__in=[e.id for e in entities], origin=Alias.Origin.PARTIAL, active=True
        ).select_related("entity")
    )
    # A rule turned back on from the history stays on: the editor's choice wins.
    kept_on = (
        set(
            Change.objects.filter(
                action=Change.Action.RULE_ON, restore__alias_id__in=[r.pk for r in rules]
            ).values_list("restore__alias_id", flat=True)
        )
        if rules
        else set()
    )
    stories: set[int] = set()
    for rule in rules:
        if rule.pk in kept_on:
            continue
        keys = set(key_variants(rule.key))
        read = Counter(
            label
            for label, surfaces in samples.get(rule.entity_id, [])
            if surfaces and all(name_key(s) in keys for s in surfaces.split("\n"))
        )
        total = sum(read.values())
        place = known_place(rule.name)
        if place is None and (total < WITHDRAW_MIN_STORIES or read["PERSON"] * 2 >= total):
            continue
        why = place.source if place else f"NER read “{rule.name}” as {dict(read)}"
        rule.active = False
        rule.evidence = f"withdrawn automatically: {why}. Was: {rule.evidence}"[:2000]
        rule.save(update_fields=["active", "evidence"])
        touched = set(
            Mention.objects.filter(entity_id=rule.entity_id, surfaces__icontains=rule.name)
            .newest_first()
            .values_list("article_id", flat=True)[:WITHDRAWN_RULE_STORIES]
        )
        stories.update(touched)
        # By the system, with its evidence; an editor turns it back on from the history.
        history.record(
            action=Change.Action.RULE_OFF,
            summary=f"Rule “{rule.name}” → {rule.entity.name} withdrawn automatically",
            entity_ids=[rule.entity_id],
            before={"active": True},
            after={"active": False},
            evidence=rule.evidence,
            stories=len(touched),
            restore={"alias_id": rule.pk},
        )
    return stories


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
    """The most frequent spelling, shouted ones last: all in capitals
    ("LONDON"), or in part ("SAN Francisco", "World Cup QUALIFIER") when
    another spelling of the name has fewer words in capitals."""

    def shouted(s: str) -> bool:
        letters = [ch for ch in s if ch.isalpha()]
        return len(letters) > 5 and all(ch.isupper() for ch in letters)

    def capital_words(s: str) -> int:
        return sum(1 for w in s.split() if len(w) >= 2 and w.isupper())

    ranked = sorted(
        spellings,
        key=lambda s: (shouted(s), capital_words(s), -spellings[s], s != current, s),
    )
    return ranked[0]


def corpus_settle() -> int:
    """Settle every entity touched so far (the background does it per pass)."""
    total = 0
    while Entity.objects.filter(unsettled=True).exists():
        total += settle()
    return total
