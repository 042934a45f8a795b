"""The review queue's proposals (SPEC §10): pairs of entities that may be one
real thing, with the evidence an editor needs, for the admin's "Possible
duplicates". A pair is proposed once: a rejected pair is never proposed again.
"""

from __future__ import annotations

import difflib

from entities.models import DuplicateCandidate, Entity, Mention
from entities.resolution import ACRONYM, _initials

LOOK_ALIKE_RATIO = 0.88
SHORT_FORM_TYPES = frozenset({"ORG", "PERSON"})
LOOK_ALIKE_POOL = 100
# Story counts in a proposal's evidence stop here ("1,000+" for editors).
EVIDENCE_CAP = 1_000


Pools = dict[tuple[str, str], list[tuple[int, str]]]


def propose_look_alikes(entity: Entity, *, pools: Pools | None = None) -> None:
    """Spellings close enough to be one name ("Teheran" / "Tehran",
    "Mohammad" / "Mohammed al-Sudani"), and an acronym whose initials a name
    in its own stories spells without a definition: for editors to decide.
    `pools` keeps the look-alike pools read so far in a settling pass: its
    entities share first letters ("Mar…" people), and each pool is read once."""
    if len(entity.key) < 4:
        return
    pools = {} if pools is None else pools
    prefix = (entity.key[:3], entity.type)
    if prefix not in pools:
        # The most-mentioned entities of that type starting so; one more than
        # the pool, which holds every entity but the one looking.
        pools[prefix] = list(
            Entity.objects.keys_starting(prefix[0])
            .filter(type=prefix[1], blocked=False)
            .order_by("-story_count", "id")
            .values_list("id", "key")[: LOOK_ALIKE_POOL + 1]
        )
    pool = [(pk, key) for pk, key in pools[prefix] if pk != entity.pk][:LOOK_ALIKE_POOL]
    # difflib indexes its second sequence: this entity's key, once. The quick
    # upper bounds skip the full comparison for most of the pool.
    matcher = difflib.SequenceMatcher(None, b=entity.key)
    similar = {}
    for other_id, other_key in pool:
        matcher.set_seq1(other_key)
        if matcher.real_quick_ratio() < LOOK_ALIKE_RATIO:
            continue
        if matcher.quick_ratio() < LOOK_ALIKE_RATIO:
            continue
        ratio = matcher.ratio()
        if ratio >= LOOK_ALIKE_RATIO:
            similar[other_id] = ratio
    look_alikes = Entity.objects.filter(pk__in=similar).order_by("-story_count", "id")
    for other in look_alikes.only("id", "key", "name", "type"):
        evidence = {"similarity": round(similar[other.pk], 2)}
        _propose_pair(entity, other, "similar spelling", evidence)
    if len(entity.key.split()) <= 2 and entity.type in SHORT_FORM_TYPES:
        # A short form of a company's name ("Corvane" / "Corvane Systems"); a
        # place or a group is not one ("Mexico" / "Mexico City").
        longer = (
            Entity.objects.keys_starting(f"{entity.key} ")
            .filter(type="ORG", blocked=False)
            .only("id", "key", "name", "story_count")[:LOOK_ALIKE_POOL]
        )
        for other in longer:
            _propose_pair(entity, other, "short form", {"short": entity.name})
    if ACRONYM.match(entity.name) and " " not in entity.key:
        letters = entity.key.replace(".", "").upper()
        stories = Mention.objects.filter(entity=entity).values("article_id")[:50]
        for other in Entity.objects.filter(mentions__article_id__in=stories).distinct()[:200]:
            words = other.name.split()
            if len(words) >= 2 and letters in _initials(words):
                _propose_pair(entity, other, "initials", {"initials": letters})


def _propose_pair(entity: Entity, other: Entity, reason: str, evidence: dict) -> None:
    first, second = sorted([entity, other], key=lambda e: e.pk)
    if DuplicateCandidate.objects.filter(entity_id=first.pk, other_id=second.pk).exists():
        return
    counts, together = _story_overlap(first.pk, second.pk)
    DuplicateCandidate.objects.get_or_create(
        entity_id=first.pk,
        other_id=second.pk,
        defaults={
            "reason": reason,
            "evidence": {
                **evidence,
                "types": [first.type, second.type],
                "stories": {first.name: counts[0], second.name: counts[1]},
                "together": together,
            },
            "stories_affected": counts[0] + counts[1] - together,
        },
    )


def _story_overlap(first_id: int, second_id: int) -> tuple[tuple[int, int], int]:
    """Each entity's story count and the stories they share, counted up to
    EVIDENCE_CAP each: a pair of common names costs what a pair of rare ones
    does, not a read of every story they are in."""
    mentions = Mention.objects.values_list("article_id", flat=True).order_by()
    counts = {
        pk: mentions.filter(entity_id=pk)[:EVIDENCE_CAP].count() for pk in (first_id, second_id)
    }
    smaller, larger = sorted(counts, key=counts.get)
    stories = list(mentions.filter(entity_id=smaller)[:EVIDENCE_CAP])
    together = mentions.filter(entity_id=larger, article_id__in=stories).count()
    return (counts[first_id], counts[second_id]), together


def propose_candidates(entity_id: int, evidence: dict, *, surface: str) -> None:
    """Editors decide what the story's context could not."""
    counts = {c["id"]: c["stories"] for c in evidence.get("candidates", [])}
    for candidate_id, stories in counts.items():
        if candidate_id == entity_id:
            continue
        pair = sorted([entity_id, candidate_id])
        if DuplicateCandidate.objects.filter(entity_id=pair[0], other_id=pair[1]).exists():
            continue  # proposed before (or rejected: never again)
        DuplicateCandidate.objects.get_or_create(
            entity_id=pair[0],
            other_id=pair[1],
            defaults={
                "reason": f"“{surface}” may be this person",
                "evidence": {"surface": surface, **evidence},
                "stories_affected": stories,
            },
        )


def propose_rule(
    entity_id: int | None, target: Entity, confidence: float, evidence: str, *, surface: str
) -> None:
    """A rule the corpus was not sure enough to write ("Houston" may be
    "Tyler Houston"): the pair goes to editors with its confidence and
    evidence; accepting merges it."""
    if entity_id is None or entity_id == target.pk:
        return
    entity = Entity.objects.filter(pk=entity_id).first()
    if entity is None:
        return
    _propose_pair(
        entity,
        target,
        f"“{surface}” may be {target.name}",
        {"rule": f"{surface} → {target.name}", "confidence": confidence, "why": evidence},
    )
