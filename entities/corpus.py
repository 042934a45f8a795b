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

import difflib
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import slugify

from entities.models import Alias, DuplicateCandidate, Entity, Mention
from entities.normalize import key_variants, name_key, surname_key
from entities.places import place_for
from entities.resolution import ACRONYM, StoryEntity

logger = logging.getLogger(__name__)

PARTIAL_LABELS = frozenset({"PERSON", "ORG", "NORP", "GPE"})
PLACE_LABELS = frozenset({"GPE", "LOC", "ORG"})
# A competitor must keep company with the story's entities at least this many
# times as often as the next one, for the story's context to decide.
CONTEXT_MARGIN = 2.0
# Co-occurrence is counted over a candidate's most recent stories, at most.
CONTEXT_SAMPLE = 200
# Settling type and display name looks at an entity's latest mentions, at most.
SETTLE_SAMPLE = 300
SETTLE_BATCH = 2000


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
                _propose(e.entity_id, e.ambiguous, surface=e.name)
    for article_id, ents in stories.items():
        _learn_definitions(article_id, ents, rules=rules, follow_up=follow_up)
    return follow_up


# --- 2. places ------------------------------------------------------------------------


def _assign_places(pending: list[StoryEntity], *, rules: CorpusRules, follow_up: FollowUp):
    for e in pending:
        if e.label not in PLACE_LABELS or rules.turned_off(e.key):
            continue
        place = place_for(e.name)
        if place is None or name_key(place.name) in key_variants(e.key):
            continue
        target = _entity_named(place.name, "GPE")
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
        and place_for(e.name) is None  # "Jordan" the country is no one's surname here
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
        chosen, evidence = _by_context(candidates, others)
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


def _by_context(candidates: list[Entity], others: set[int]) -> tuple[Entity | None, dict]:
    """The candidate whose stories share the most entities with this one, if
    it leads clearly; with the evidence either way."""
    together = {}
    for candidate in candidates:
        recent = list(
            Mention.objects.filter(entity_id=candidate.id)
            .order_by("-article_id")
            .values_list("article_id", flat=True)[:CONTEXT_SAMPLE]
        )
        together[candidate.id] = (
            Mention.objects.filter(article_id__in=recent, entity_id__in=others)
            .values("article_id")
            .distinct()
            .count()
            if recent and others
            else 0
        )
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
    for entity in Entity.objects.filter(key__in=wanted).order_by("-story_count", "id"):
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
    created = dict(zip(keys, _create_entities([missing[k] for k in keys]), strict=True))
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
    stories = set(
        Mention.objects.filter(entity__key__in=partial_keys).values_list("article_id", flat=True)[
            :50_000
        ]
    )
    for alias in stale:
        # Stories the rule resolved: the name is in their mention's surfaces.
        stories.update(
            Mention.objects.filter(
                entity_id=alias.entity_id, surfaces__icontains=alias.name
            ).values_list("article_id", flat=True)[:50_000]
        )
        logger.info("corpus rule %s no longer the one full name: removed", alias)
    Alias.objects.filter(pk__in=[a.pk for a in stale]).delete()
    return stories


def _entity_named(name: str, type_: str) -> Entity:
    """The entity the data's name stands for: by that name, or by a rule for
    it (after the entity took the corpus's spelling: "Britain")."""
    key = name_key(name)
    entity = Entity.objects.filter(key=key).order_by("-story_count", "id").first()
    if entity is None:
        rule = Alias.objects.filter(key=key, active=True).select_related("entity").first()
        entity = rule.entity if rule else _create_entities([(name, type_)])[0]
    return entity


def _create_entities(names: list[tuple[str, str]]) -> list[Entity]:
    """Insert new entities in one statement; a concurrent worker inserting the
    same name wins harmlessly (unique key+type), and a slug clash falls back to
    one-by-one creation with a suffixed slug."""
    new = [Entity(name=name, key=name_key(name), type=type_) for name, type_ in names]
    slugs = [slugify(e.name)[:200] or "entity" for e in new]
    taken = set(Entity.objects.filter(slug__in=set(slugs)).values_list("slug", flat=True))
    unique = []
    for entity, slug in zip(new, slugs, strict=True):
        entity.surname_key = surname_key(entity.key, entity.type)
        if slug not in taken:
            entity.slug = slug
            taken.add(slug)
            unique.append(entity)
    Entity.objects.bulk_create(unique, ignore_conflicts=True)
    found = {
        (e.key, e.type): e
        for e in Entity.objects.filter(key__in=[e.key for e in new]).order_by("-story_count", "id")
    }
    created = []
    for entity in new:
        match = found.get((entity.key, entity.type)) or next(
            (e for (k, _), e in found.items() if k == entity.key), None
        )
        created.append(match or _create_entity(name=entity.name, type_=entity.type))
    return created


def _create_entity(*, name: str, type_: str) -> Entity:
    """Create, or fetch the one a concurrent worker just created."""
    key = name_key(name)
    for _ in range(3):
        try:
            with transaction.atomic():
                return Entity.objects.create(name=name, type=type_)
        except IntegrityError:
            found = Entity.objects.filter(key=key, type=type_).first()
            if found:
                return found
            # The slug was taken between checking and inserting: try again.
    raise RuntimeError(f"could not create entity {name!r}")


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


# --- rules, proposals ------------------------------------------------------------------


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


def _propose(entity_id: int, evidence: dict, *, surface: str) -> None:
    """Editors decide what the story's context could not."""
    counts = {c["id"]: c["stories"] for c in evidence.get("candidates", [])}
    for candidate_id, stories in counts.items():
        if candidate_id == entity_id:
            continue
        pair = sorted([entity_id, candidate_id])
        DuplicateCandidate.objects.get_or_create(
            entity_id=pair[0],
            other_id=pair[1],
            defaults={
                "reason": f"“{surface}” may be this person",
                "evidence": {"surface": surface, **evidence},
                "stories_affected": stories,
            },
        )


# --- settling: one type, one display name ------------------------------------------------


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
    changed, renamed = [], []
    for entity in entities:
        rows = list(
            Mention.objects.filter(entity_id=entity.id)
            .order_by("-article_id")
            .values_list("label", "surfaces")[:SETTLE_SAMPLE]
        )
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
    for entity in entities:
        if not entity.blocked:
            _propose_look_alikes(entity)
    Entity.objects.filter(pk__in=[e.pk for e in entities]).update(unsettled=False)
    return len(entities)


LOOK_ALIKE_RATIO = 0.88
SHORT_FORM_TYPES = frozenset({"ORG", "PERSON"})
LOOK_ALIKE_POOL = 100


def _propose_look_alikes(entity: Entity) -> None:
    """Spellings close enough to be one name ("Teheran" / "Tehran",
    "Mohammad" / "Mohammed al-Sudani"), and an acronym whose initials a name
    in its own stories spells without a definition: for editors to decide."""
    if len(entity.key) < 4:
        return
    pool = (
        Entity.objects.filter(key__startswith=entity.key[:3], type=entity.type, blocked=False)
        .exclude(pk=entity.pk)
        .order_by("-story_count", "id")
        .only("id", "key", "name", "story_count")[:LOOK_ALIKE_POOL]
    )
    for other in pool:
        ratio = difflib.SequenceMatcher(None, entity.key, other.key).ratio()
        if ratio >= LOOK_ALIKE_RATIO:
            _propose_pair(entity, other, "similar spelling", {"similarity": round(ratio, 2)})
    if len(entity.key.split()) <= 2 and entity.type in SHORT_FORM_TYPES:
        # A short form of a company's name ("Corvane" / "Corvane Systems"); a
        # place or a group is not one ("Mexico" / "Mexico City").
        longer = Entity.objects.filter(
            key__startswith=f"{entity.key} ", type="ORG", blocked=False
        ).only("id", "key", "name", "story_count")[:LOOK_ALIKE_POOL]
        for other in longer:
            _propose_pair(entity, other, "short form", {"short": entity.name})
    if ACRONYM.match(entity.name) and " " not in entity.key:
        letters = entity.key.replace(".", "").upper()
        stories = Mention.objects.filter(entity=entity).values("article_id")[:50]
        for other in Entity.objects.filter(mentions__article_id__in=stories).distinct()[:200]:
            words = other.name.split()
            if len(words) >= 2 and letters in _initials(words):
                _propose_pair(entity, other, "initials", {"initials": letters})


def _initials(words: list[str]) -> set[str]:
    from entities.resolution import _initials as initials

    return initials(words)


def _propose_pair(entity: Entity, other: Entity, reason: str, evidence: dict) -> None:
    first, second = sorted([entity, other], key=lambda e: e.pk)
    if DuplicateCandidate.objects.filter(entity_id=first.pk, other_id=second.pk).exists():
        return
    stories = {
        e.pk: set(Mention.objects.filter(entity_id=e.pk).values_list("article_id", flat=True))
        for e in (first, second)
    }
    DuplicateCandidate.objects.get_or_create(
        entity_id=first.pk,
        other_id=second.pk,
        defaults={
            "reason": reason,
            "evidence": {
                **evidence,
                "types": [first.type, second.type],
                "stories": {
                    first.name: len(stories[first.pk]),
                    second.name: len(stories[second.pk]),
                },
                "together": len(stories[first.pk] & stories[second.pk]),
            },
            "stories_affected": len(stories[first.pk] | stories[second.pk]),
        },
    )


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


def mark_unsettled(entity_ids: Iterable[int]) -> None:
    ids = list(set(entity_ids))
    if ids:
        Entity.objects.filter(Q(pk__in=ids), unsettled=False).update(unsettled=True)
