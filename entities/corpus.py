"""Identity across stories (SPEC §10): each name a story resolved on its own is
given the one entity the corpus knows it as.

In order, for each of a story's names (`StoryEntity`, from resolution.py):

1. a rule (`Alias`): an editor's, or one the corpus wrote before; dotted and
   undotted spellings are one name ("U.S." / "US" / "U.S");
2. a country or US state named from maintained data (places.py): "U.S." and
   "Britain" join "United States" and "United Kingdom", and the corpus writes
   the rule down for editors to see;
3. a partial name ("Yeltsin", "Clinton", "R. Croft", "von der Leyen") joins
   the full name of the *person* the corpus knows it by: the one full name
   there is (written down as a rule when the evidence is strong), or, when
   two compete, the one the story's other entities keep company with; a case
   that stays ambiguous is left apart and proposed to editors. A known place
   ("Houston", "Moscow") is never a partial name, and a full name that is not
   clean ("Gillingham v Chesterfield", "Briton Ian Woosnam") is never one's
   target;
4. the name itself, whatever type NER gave it this time (one type per
   entity, decided later by the corpus majority: `settle`);
5. else a new entity.

An acronym a story defines ("Popular Mobilization Forces (PMF)") becomes a
rule for every story. Every automatic rule carries its confidence and
evidence (`Alias.confidence`, `Alias.evidence`); one below
settings.IDENTITY_RULE_CONFIDENCE is not written: the pair is proposed to
editors ("Possible duplicates") and the story keeps the name apart. A new
rule, or a new full name, re-resolves the stories it touches in the
background, from their stored spans (extraction.py, `articles_reresolve`),
never by running NER again. An editor who turns an
automatic rule off keeps it off: the corpus never writes it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from wordfreq import zipf_frequency

from entities.languages.across import propose_translations
from entities.models import Alias, Entity, Mention
from entities.new_entities import create_entities
from entities.normalize import clean_person_name, key_variants, name_key
from entities.places import known_place, place_for
from entities.proposals import propose_candidates, propose_rule
from entities.resolution import ACRONYM, StoryEntity

logger = logging.getLogger(__name__)

# NER may read a surname as an organisation or a place (headlines); a group
# ("Serb", "Kurds") is never a person's short name.
PARTIAL_LABELS = frozenset({"PERSON", "ORG", "GPE"})
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
# Confidence of each kind of automatic rule when its evidence is clean.
DATA_CONFIDENCE = 0.99  # a whole country or state name in maintained data
DEFINITION_CONFIDENCE = 0.97  # "Popular Mobilization Forces (PMF)" in a story
PARTIAL_CONFIDENCE = 0.96  # the one clean full name of a person with that surname
# A short form standing on its own in this many times the full name's stories
# (plus a few) is a thing of its own as far as the corpus can tell ("Houston"
# the city beside "Tyler Houston"): it is proposed, not joined.
FREQUENT_ALONE = 2.0
FREQUENT_ALONE_SLACK = 2
# wordfreq's Zipf scale: 4 is a word met once in 10,000 ("trainer").
COMMON_WORD_ZIPF = 4.0


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
    _assign_partials(stories, [e for e in pending if id(e) in partials], rules=rules, known=known)
    for e in pending:
        if e.entity_id is None and id(e) in known:
            e.entity_id = known[id(e)].id
    pending = [e for e in pending if e.entity_id is None]
    _assign_new(pending, follow_up=follow_up)
    for ents in stories.values():
        for e in ents:
            if e.ambiguous:
                propose_candidates(e.entity_id, e.ambiguous, surface=e.name)
            if e.proposal is not None and e.entity_id != e.proposal[0].id:
                propose_rule(e.entity_id, *e.proposal, surface=e.name)
    learned = len(rules.alias_targets)
    for article_id, ents in stories.items():
        _learn_definitions(article_id, ents, rules=rules, follow_up=follow_up)
    if len(rules.alias_targets) > learned:
        # A definition one story of this batch gave ("European Union (EU)")
        # holds for the batch's other stories too: they are not stored yet, so
        # no re-resolution would reach them.
        for e in (e for ents in stories.values() for e in ents):
            target = None if rules.turned_off(e.key) else rules.target(e.key)
            if target is not None and e.ambiguous is None:
                e.entity_id = target
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
        if _write_rule(e.name, target, Alias.Origin.DATA, place.source, rules, DATA_CONFIDENCE):
            follow_up.article_ids.update(_stories_named(e.key, exclude=target.id))


# --- 3. partial names -----------------------------------------------------------------


def _partial_names(pending: list[StoryEntity], *, rules: CorpusRules) -> set[int]:
    """ids of the names that may be part of a person's full name."""
    return {
        id(e)
        for e in pending
        if e.label in PARTIAL_LABELS
        and len(_without_particles(e.key)) <= 2
        and not ACRONYM.match(e.name)
        and not rules.turned_off(e.key)
        # "Jordan" the country, "Houston" the city are no one's short name here
        and known_place(e.name) is None
        and place_for(e.name, e.language, e.label) is None
    }


def _without_particles(key: str) -> list[str]:
    """The words of a name but its leading particles ("von der leyen" → leyen)."""
    from entities.resolution import _particles

    words = key.split()
    while len(words) > 1 and words[0] in _particles():
        words = words[1:]
    return words


def _assign_partials(
    stories: dict[int, list[StoryEntity]],
    partials: list[StoryEntity],
    *,
    rules: CorpusRules,
    known: dict[int, Entity] | None = None,
) -> None:
    if not partials:
        return
    known = known or {}
    surnames = {e.key.split()[-1] for e in partials}  # "yeltsin", "m. atherton" → "atherton"
    people: dict[str, list[Entity]] = {}
    for person in Entity.objects.filter(
        surname_key__in=surnames, blocked=False, type="PERSON"
    ).only("id", "key", "name", "story_count", "surname_key", "type"):
        if clean_person_name(person.name):  # never "Gillingham v Chesterfield"
            people.setdefault(person.surname_key, []).append(person)
    groups = _group_words({p.key.split()[0] for found in people.values() for p in found})
    for surname, found in people.items():
        # "Ethiopian Haile Gebrselassie": a group's word in front is a description
        people[surname] = [p for p in found if p.key.split()[0] not in groups]
    story_of = {id(e): article_id for article_id, ents in stories.items() for e in ents}
    profiles: dict[int, list[set[int]]] = {}
    for e in partials:
        words = e.key.split()
        candidates = [p for p in people.get(words[-1], []) if _stands_for(words, p.key.split())]
        candidates = _without_descriptions([p for p in candidates if p.id != e.entity_id])
        if not candidates:
            continue
        article_id = story_of[id(e)]
        others = {o.entity_id for o in stories[article_id] if o.entity_id and o is not e}
        if len(candidates) == 1:
            full = candidates[0]
            together = _together(full, others, profiles)
            confidence, evidence = _partial_confidence(
                e, full, known.get(id(e)), stories=len(profiles[full.id])
            )
            if confidence >= settings.IDENTITY_RULE_CONFIDENCE:
                confidence, evidence = _with_competition(
                    e,
                    full,
                    confidence,
                    evidence,
                    together=together,
                    profiles_of_full=profiles[full.id],
                )
            if confidence >= settings.IDENTITY_RULE_CONFIDENCE:
                e.entity_id = full.id
                _write_rule(e.name, full, Alias.Origin.PARTIAL, evidence, rules, confidence)
            else:
                e.proposal = (full, confidence, evidence)  # proposed once its entity exists
            continue
        chosen, evidence = _by_context(candidates, others, profiles)
        if chosen is not None:
            e.entity_id = chosen.id
        else:
            e.ambiguous = evidence  # proposed to editors once its entity exists


def _group_words(words: set[str]) -> set[str]:
    """Those of `words` that name a group the corpus knows ("bosnian",
    "ethiopian", "briton" beside "Britons")."""
    if not words:
        return set()
    forms = {w: [w, f"{w}s", f"{w}es"] for w in words}
    found = set(
        Entity.objects.filter(
            type="NORP", key__in={f for fs in forms.values() for f in fs}
        ).values_list("key", flat=True)
    )
    return {w for w, fs in forms.items() if found.intersection(fs)}


def _without_descriptions(candidates: list[Entity]) -> list[Entity]:
    """Nested full names are one person, named most cleanly by the shortest:
    "Patrick Rafter" beside "Unseeded Patrick Rafter"."""
    keys = {c.key for c in candidates}
    return [
        c
        for c in candidates
        if not any(other != c.key and c.key.endswith(f" {other}") for other in keys)
    ]


def _partial_confidence(
    e: StoryEntity, full: Entity, alone: Entity | None, *, stories: int
) -> tuple[float, str]:
    """How sure the corpus is that `e` is `full`, and why (shown to editors).
    `stories`: the full name's stories (its recent ones, up to CONTEXT_SAMPLE)."""
    confidence = PARTIAL_CONFIDENCE
    reasons = [f"“{full.name}” is the one person the corpus knows as “{e.name}”"]
    reasons.append(f"{stories}{'+' if stories >= CONTEXT_SAMPLE else ''} stories name {full.name}")
    alone_stories = (
        Mention.objects.filter(entity_id=alone.id).values("article_id")[:CONTEXT_SAMPLE].count()
        if alone is not None
        else 0
    )
    if alone_stories > FREQUENT_ALONE * stories + FREQUENT_ALONE_SLACK:
        confidence *= 0.5
        reasons.append(f"“{e.name}” stands alone in {alone_stories} stories: maybe another")
    elif alone is not None and alone.type != "PERSON":
        confidence *= 0.9
        reasons.append(f"“{e.name}” on its own is a {alone.get_type_display().lower()}")
    if len(e.key.split()) >= 2 and clean_person_name(e.name):
        # "Haile Gebrselassie" is a full name itself: a longer one that ends
        # in it ("Ethiopian Haile Gebrselassie") may be a description of it
        confidence *= 0.5
        reasons.append(f"“{e.name}” is a full name itself")
    if e.label != "PERSON":
        confidence *= 0.97
        reasons.append(f"NER read “{e.name}” here as {e.label}")
    first = full.name.split()[0]
    if len(full.name.split()) >= 3 and zipf_frequency(first.casefold(), "en") >= COMMON_WORD_ZIPF:
        # "Trainer Berti Vogts": a description may stand before the name
        confidence *= 0.9
        reasons.append(f"“{first}” is a common word")
    return round(confidence, 3), "; ".join(reasons)


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
    together = {candidate.id: _together(candidate, others, profiles) for candidate in candidates}
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


def _together(candidate: Entity, others: set[int], profiles: dict[int, list[set[int]]]) -> int:
    """How many of the candidate's recent stories share an entity with
    `others` (a story's other names); `profiles` caches per batch."""
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
    return sum(1 for entities in profiles[candidate.id] if entities & others)


def _with_competition(
    e: StoryEntity,
    full: Entity,
    confidence: float,
    evidence: str,
    *,
    together: int,
    profiles_of_full: list[set[int]],
) -> tuple[float, str]:
    """Competing readings lower a rule's confidence: the story shares no other
    name with the full name's stories ("Hussein" in a story about Jordan,
    "Saddam Hussein" in stories about Iraq), or the short name is the first
    name of another person the corpus knows ("Mushtaq" of Mushtaq Ahmed beside
    Saqlain Mushtaq)."""
    reasons = [evidence]
    if together == 0 and len(profiles_of_full) >= 2:
        confidence *= 0.85
        reasons.append(f"this story shares no other name with {full.name}'s stories")
    else:
        reasons.append(f"{together} of {full.name}'s stories share names with this one")
    if len(e.key.split()) == 1:
        given = (
            Entity.objects.keys_starting(f"{e.key} ")
            .filter(type="PERSON", blocked=False)
            .exclude(pk=full.pk)
            .values_list("name", flat=True)[:3]
        )
        given = list(given)
        if given:
            confidence *= 0.85
            reasons.append(f"“{e.name}” is also the first name of {', '.join(given)}")
    return round(confidence, 3), "; ".join(reasons)


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
            confidence = DEFINITION_CONFIDENCE
            if _write_rule(surface, target, Alias.Origin.DEFINITION, evidence, rules, confidence):
                follow_up.article_ids.update(_stories_named(key, exclude=e.entity_id))


# --- rules ------------------------------------------------------------------


def _write_rule(
    name: str, target: Entity, origin: str, evidence: str, rules: CorpusRules, confidence: float
) -> bool:
    """An automatic rule, unless one exists for the name: True if written."""
    alias = Alias(
        name=name,
        entity_id=target.id,
        origin=origin,
        evidence=evidence[:2000],
        confidence=confidence,
    )
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
