"""Identity across stories (SPEC §10): each name a story resolved on its own is
given the one entity the corpus knows it as.

In order, for each of a story's names (`StoryEntity`, from resolution.py):

1. a rule (`Alias`): an editor's, or one the corpus wrote before; dotted and
   undotted spellings are one name ("U.S." / "US" / "U.S");
2. a country or US state named from maintained data (places.py): "U.S." and
   "Britain" join "United States" and "United Kingdom", and the corpus writes
   the rule down for editors to see;
3. a partial name ("Yeltsin", "Clinton") joins the full name the corpus knows
   it by: the one full name there is (written down as a rule), or, when two
   compete, the one the story's other entities keep company with; a case that
   stays ambiguous is left apart and proposed to editors;
4. the name itself, whatever type NER gave it this time (one type per
   entity, decided later by the corpus majority: `settle`);
5. else a new entity.

An acronym a story defines ("Popular Mobilization Forces (PMF)") becomes a
rule for every story. A new rule, or a new full name, re-resolves the stories
it touches in the background, from their stored spans (extraction.py,
`articles_reresolve`), never by running NER again. An editor who turns an
automatic rule off keeps it off: the corpus never writes it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q

from entities.languages.across import propose_translations
from entities.models import Alias, Entity, Mention
from entities.new_entities import create_entities
from entities.normalize import key_variants, name_key
from entities.places import place_for
from entities.proposals import propose_candidates
from entities.resolution import ACRONYM, StoryEntity

logger = logging.getLogger(__name__)

PARTIAL_LABELS = frozenset({"PERSON", "ORG", "NORP", "GPE"})
PLACE_LABELS = frozenset({"GPE", "LOC", "ORG"})
# A competitor must keep company with the story's entities at least this many
# times as often as the next one, for the story's context to decide.
CONTEXT_MARGIN = 2.0
# Co-occurrence is counted over a candidate's most recent stories, at most.
CONTEXT_SAMPLE = 200
# A new full name is re-read into the newest stories that name the person by a
# partial only: news about a newcomer is recent, and older stories were
# resolved against the names the corpus knew then. Without a bound, one new
# "… Kowalski" re-resolved every story of a bare "Kowalski", up to 50,000.
NEW_NAME_STORIES = 1_000
# Settling type and display name looks at an entity's latest mentions, at most.


@dataclass
class CorpusRules:
    """The rules as extraction sees them: active rules by key, and the keys
    of automatic rules editors turned off (never written again)."""

    alias_targets: dict[str, int]
    inactive_keys: frozenset[str]

    @classmethod
    def load(cls) -> CorpusRules:
        active, inactive = {}, set()
        for key, entity_id, is_active in Alias.objects.values_list("key", "entity_id", "active"):
            if is_active:
                active[key] = entity_id
            else:
                inactive.add(key)
        return cls(alias_targets=active, inactive_keys=frozenset(inactive))

    def target(self, key: str) -> int | None:
        for variant in key_variants(key):
            if variant in self.alias_targets:
                return self.alias_targets[variant]
        return None

    def turned_off(self, key: str) -> bool:
        return any(variant in self.inactive_keys for variant in key_variants(key))


@dataclass
class FollowUp:
    """What a batch learned that older stories must hear about: their ids."""

    article_ids: set[int] = field(default_factory=set)


def assign_entities(stories: dict[int, list[StoryEntity]], *, rules: CorpusRules) -> FollowUp:
    """Set `entity_id` on every story entity, creating entities and rules as
    needed. Returns the stored stories to re-resolve in the background."""
    follow_up = FollowUp()
    pending = [e for ents in stories.values() for e in ents if e.entity_id is None]
    for e in pending:
        if not rules.turned_off(e.key):
            e.entity_id = rules.target(e.key)
    pending = [e for e in pending if e.entity_id is None]
    _assign_places(pending, rules=rules, follow_up=follow_up)
    pending = [e for e in pending if e.entity_id is None]
    known = _existing(pending)
    partials = _partial_names(pending, rules=rules)
    for e in pending:
        if id(e) in known and id(e) not in partials:
            e.entity_id = known[id(e)].id
    # New names first, so that a partial name can join a full name this very
    # batch brings ("Trump" in one story, "Donald Trump" in the next).
    _assign_new(
        [
            e
            for e in pending
            if e.entity_id is None
            and id(e) not in known
            and (id(e) not in partials or len(e.key.split()) > 1)
        ],
        follow_up=follow_up,
    )
    # The story's other names are known now: its context for partial names.
    _assign_partials(stories, [e for e in pending if id(e) in partials], rules=rules)
    for e in pending:
        if e.entity_id is None and id(e) in known:
            e.entity_id = known[id(e)].id
    pending = [e for e in pending if e.entity_id is None]
    _assign_new(pending, follow_up=follow_up)
    for ents in stories.values():
        for e in ents:
            if e.ambiguous:
                propose_candidates(e.entity_id, e.ambiguous, surface=e.name)
    for article_id, ents in stories.items():
        _learn_definitions(article_id, ents, rules=rules, follow_up=follow_up)
    # Organisations named in two languages: proposed to editors (issue #26).
    propose_translations(e for ents in stories.values() for e in ents)
    return follow_up


# --- 2. places ------------------------------------------------------------------------


def _assign_places(pending: list[StoryEntity], *, rules: CorpusRules, follow_up: FollowUp):
    for e in pending:
        if e.label not in PLACE_LABELS or rules.turned_off(e.key):
            continue
        place = place_for(e.name, e.language, e.label)
        if place is None or name_key(place.name) in key_variants(e.key):
            continue
        target = _entity_named(place.name, "GPE", also=place.also)
        e.entity_id = target.id
        if _write_rule(e.name, target, Alias.Origin.DATA, place.source, rules):
            follow_up.article_ids.update(_stories_named(e.key, exclude=target.id))


# --- 3. partial names -----------------------------------------------------------------


def _partial_names(pending: list[StoryEntity], *, rules: CorpusRules) -> set[int]:
    """ids of the names that may be part of a person's full name."""
    return {
        id(e)
        for e in pending
        if e.label in PARTIAL_LABELS
        and len(e.key.split()) <= 2
        and not ACRONYM.match(e.name)
        and not rules.turned_off(e.key)
        # "Jordan" the country is no one's surname here
        and place_for(e.name, e.language, e.label) is None
    }


def _assign_partials(
    stories: dict[int, list[StoryEntity]], partials: list[StoryEntity], *, rules: CorpusRules
) -> None:
    if not partials:
        return
    surnames = {e.key.split()[-1] for e in partials}  # "yeltsin", "m. atherton" → "atherton"
    people: dict[str, list[Entity]] = {}
    for person in Entity.objects.filter(surname_key__in=surnames, blocked=False).only(
        "id", "key", "name", "story_count", "surname_key"
    ):
        people.setdefault(person.surname_key, []).append(person)
    story_of = {id(e): article_id for article_id, ents in stories.items() for e in ents}
    profiles: dict[int, list[set[int]]] = {}
    for e in partials:
        words = e.key.split()
        candidates = [p for p in people.get(words[-1], []) if _stands_for(words, p.key.split())]
        candidates = [p for p in candidates if p.id != e.entity_id]
        if not candidates:
            continue
        if len(candidates) == 1:
            e.entity_id = candidates[0].id
            evidence = f"the one full name the corpus knows for “{e.name}”"
            _write_rule(e.name, candidates[0], Alias.Origin.PARTIAL, evidence, rules)
            continue
        article_id = story_of[id(e)]
        others = {o.entity_id for o in stories[article_id] if o.entity_id and o is not e}
        chosen, evidence = _by_context(candidates, others, profiles)
        if chosen is not None:
            e.entity_id = chosen.id
        else:
            e.ambiguous = evidence  # proposed to editors once its entity exists


def _stands_for(partial: list[str], full: list[str]) -> bool:
    """ "yeltsin" for "boris yeltsin", "robert walshe" for "arran robert
    walshe", "m. atherton" for "michael atherton"."""
    if len(full) <= len(partial):
        return False
    if full[-len(partial) :] == partial:
        return True
    initial = partial[0].rstrip(".")
    return (
        len(partial) == 2
        and len(initial) == 1
        and full[0].startswith(initial)
        and (full[-1] == partial[-1])
    )


def _by_context(
    candidates: list[Entity], others: set[int], profiles: dict[int, list[set[int]]]
) -> tuple[Entity | None, dict]:
    """The candidate whose stories share the most entities with this one, if
    it leads clearly; with the evidence either way. `profiles` caches, per
    candidate and for the whole batch, the entities of its recent stories."""
    together = {}
    for candidate in candidates:
        if candidate.id not in profiles:
            recent = list(
                Mention.objects.filter(entity_id=candidate.id)
                .newest_first()
                .values_list("article_id", flat=True)[:CONTEXT_SAMPLE]
            )
            stories: dict[int, set[int]] = {}
            for article_id, entity_id in Mention.objects.filter(article_id__in=recent).values_list(
                "article_id", "entity_id"
            ):
                stories.setdefault(article_id, set()).add(entity_id)
            profiles[candidate.id] = list(stories.values())
        together[candidate.id] = sum(1 for entities in profiles[candidate.id] if entities & others)
    ranked = sorted(candidates, key=lambda c: (-together[c.id], -c.story_count, c.id))
    best, second = ranked[0], ranked[1]
    evidence = {
        "candidates": [
            {"id": c.id, "name": c.name, "stories": c.story_count, "together": together[c.id]}
            for c in ranked
        ]
    }
    if together[best.id] >= 1 and together[best.id] >= CONTEXT_MARGIN * together[second.id]:
        return best, evidence
    return None, evidence


# --- 4 and 5. the name itself, or a new entity --------------------------------------------


def name_variants(key: str, label: str) -> list[str]:
    """Keys this name is also written as: dotted and undotted acronyms, and a
    group's singular, plural and adjective ("iraqi"/"iraqis", "kurds"/"kurdish")."""
    variants = key_variants(key)
    if label == "NORP" and " " not in key and len(key) > 4:
        stem = key[:-3] if key.endswith("ish") else key[:-1] if key.endswith("s") else key
        variants += [stem, f"{stem}s", f"{stem}ish"]
    return list(dict.fromkeys(variants))


def _one_spelling(e: StoryEntity) -> str:
    variants = name_variants(e.key, e.label)
    if e.label == "NORP":
        return min(variants, key=lambda k: (len(k), k))
    return next((v for v in variants if "." not in v), e.key)


def _existing(pending: list[StoryEntity]) -> dict[int, Entity]:
    """The entity each name already has, by its key or a variant of it."""
    if not pending:
        return {}
    wanted = {k for e in pending for k in name_variants(e.key, e.label)}
    existing: dict[str, list[Entity]] = {}
    for entity in Entity.objects.with_keys(wanted).order_by("-story_count", "id"):
        existing.setdefault(entity.key, []).append(entity)
    found = {}
    for e in pending:
        candidates = [c for k in name_variants(e.key, e.label) for c in existing.get(k, [])]
        if candidates:
            same_type = [c for c in candidates if c.type == e.label]
            found[id(e)] = (same_type or candidates)[0]
    return found


def _assign_new(pending: list[StoryEntity], *, follow_up: FollowUp) -> None:
    """New entities, one per name however this batch spelled it ("Iraqi" and
    "Iraqis", "U.N." and "UN" in two stories are one new entity)."""
    missing: dict[str, tuple[str, str]] = {}
    for e in pending:
        missing.setdefault(_one_spelling(e), (e.name, e.label))
    if not missing:
        return
    keys = list(missing)
    created = dict(zip(keys, create_entities([missing[k] for k in keys]), strict=True))
    for e in pending:
        e.entity_id = created[_one_spelling(e)].id
    follow_up.article_ids.update(_stories_a_new_name_resolves(created.values()))


def _stories_a_new_name_resolves(created: Iterable[Entity]) -> set[int]:
    """A new full name ("Boris Yeltsin") is what stored partial names
    ("Yeltsin") were waiting for; a second full name with the same surname
    ("Hillary Clinton") makes an automatic partial rule ambiguous."""
    partial_keys = set()
    surnames = set()
    for entity in created:
        words = entity.key.split()
        if entity.type == "PERSON" and len(words) >= 2:
            surnames.add(words[-1])
            partial_keys.update(" ".join(words[-n:]) for n in range(1, len(words)))
    if not partial_keys:
        return set()
    stale = list(
        Alias.objects.filter(key__in=partial_keys, origin=Alias.Origin.PARTIAL, active=True)
    )
    newest = Mention.objects.newest_first().values_list("article_id", flat=True)
    stories = set()
    for entity_id in Entity.objects.with_keys(partial_keys).values_list("id", flat=True):
        stories.update(newest.filter(entity_id=entity_id)[:NEW_NAME_STORIES])
    for alias in stale:
        # Stories the rule resolved: the name is in their mention's surfaces.
        stories.update(
            newest.filter(entity_id=alias.entity_id, surfaces__icontains=alias.name)[
                :NEW_NAME_STORIES
            ]
        )
        logger.info("corpus rule %s no longer the one full name: removed", alias)
    Alias.objects.filter(pk__in=[a.pk for a in stale]).delete()
    return stories


def _entity_named(name: str, type_: str, *, also: tuple[str, ...] = ()) -> Entity:
    """The entity the data's name stands for: by that name, or by a rule for
    it (after the entity took the corpus's spelling: "Britain"), or by one of
    the place's other names (`also`: "Frankfurt" for "Frankfurt am Main")."""
    key = name_key(name)
    entity = Entity.objects.filter(key=key).order_by("-story_count", "id").first()
    if entity is None and also:
        others = Entity.objects.filter(key__in={name_key(n) for n in also}, type=type_)
        entity = others.order_by("-story_count", "id").first()
    if entity is None:
        rule = Alias.objects.filter(key=key, active=True).select_related("entity").first()
        entity = rule.entity if rule else create_entities([(name, type_)])[0]
    return entity


# --- acronyms defined in a story ---------------------------------------------------------


def _learn_definitions(
    article_id: int, ents: list[StoryEntity], *, rules: CorpusRules, follow_up: FollowUp
) -> None:
    """An acronym in-story resolution joined to a longer name is a definition
    the whole corpus can use ("PMF" → Popular Mobilization Forces)."""
    for e in ents:
        if e.entity_id is None or len(e.key.split()) < 2:
            continue
        for surface in e.surfaces:
            key = name_key(surface)
            if not ACRONYM.match(surface) or key in key_variants(e.key):
                continue
            if rules.turned_off(key) or rules.target(key) is not None:
                continue
            target = Entity(pk=e.entity_id, name=e.name)
            evidence = f"story {article_id}: {e.name} ({surface})"
            if _write_rule(surface, target, Alias.Origin.DEFINITION, evidence, rules):
                follow_up.article_ids.update(_stories_named(key, exclude=e.entity_id))


# --- rules ------------------------------------------------------------------


def _write_rule(name: str, target: Entity, origin: str, evidence: str, rules: CorpusRules) -> bool:
    """An automatic rule, unless one exists for the name: True if written."""
    alias = Alias(name=name, entity_id=target.id, origin=origin, evidence=evidence[:2000])
    try:
        with transaction.atomic():
            alias.save()
    except IntegrityError:
        return False  # an editor's rule or a concurrent worker's: theirs stands
    for variant in key_variants(alias.key):
        rules.alias_targets.setdefault(variant, target.id)
    logger.info("corpus rule: %s → %s (%s)", name, target.name, evidence)
    return True


def _stories_named(key: str, *, exclude: int) -> list[int]:
    """Stored stories where an entity called `key` stands apart from `exclude`."""
    return list(
        Mention.objects.filter(entity__key__in=key_variants(key))
        .exclude(entity_id=exclude)
        .values_list("article_id", flat=True)[:50_000]
    )


def mark_unsettled(entity_ids: Iterable[int]) -> None:
    ids = list(set(entity_ids))
    if ids:
        Entity.objects.filter(Q(pk__in=ids), unsettled=False).update(unsettled=True)
