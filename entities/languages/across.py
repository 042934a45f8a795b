"""Organisations across languages (issue #26): the review queue's proposals.

Countries and cities are one entity across languages through maintained data
(each language's `place_for`). Organisations have no such data here: a
translated name shares no spelling with the original ("Union européenne",
"European Union"). Their acronyms, though, often spell the same letters in
another order, adjectives following nouns in French: OTAN/NATO, UE/EU,
FMI/IMF, BCE/ECB. Such a pair is evidence, not proof (EDF is not the Fed),
so it is proposed to editors, never merged automatically: accepting merges
the two, rejecting is remembered.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from entities.languages import MODULES
from entities.models import Alias, Entity
from entities.proposals import _propose_pair
from entities.resolution import ACRONYM, StoryEntity

REASON = "acronyms with the same letters in another language"


def _acronym(surface: str) -> str:
    """The letters of an acronym ("BCE", "U.E.", AFP's "Otan"), or ""."""
    word = 3 <= len(surface) <= 5 and surface.isalpha() and surface.istitle()
    if ACRONYM.match(surface) or word:
        return surface.replace(".", "").casefold()
    return ""


def propose_translations(story_entities: Iterable[StoryEntity]) -> None:
    """For each organisation of a story in a language with its own rules,
    the organisations elsewhere whose acronym is an anagram of its own."""
    wanted: dict[str, set[int]] = {}  # another language's acronym key -> our entity ids
    ours: dict[int, str] = {}
    for e in story_entities:
        if e.language not in MODULES or e.label != "ORG" or not e.entity_id:
            continue
        for surface in {e.name, *e.surfaces}:
            letters = _acronym(surface)
            if not 2 <= len(letters) <= 5:
                continue
            ours[e.entity_id] = surface
            for order in set(itertools.permutations(letters)):
                key = "".join(order)
                if key != letters:
                    wanted.setdefault(key, set()).add(e.entity_id)
    if not wanted:
        return
    found: dict[int, set[str]] = {}
    for key, entity_id in Entity.objects.filter(
        key__in=list(wanted), type="ORG", blocked=False
    ).values_list("key", "id"):
        found.setdefault(entity_id, set()).add(key)
    for key, entity_id in Alias.objects.filter(
        key__in=list(wanted), active=True, entity__type="ORG"
    ).values_list("key", "entity_id"):
        found.setdefault(entity_id, set()).add(key)
    entities = Entity.objects.in_bulk({*found, *ours})
    for other_id, keys in found.items():
        for key in sorted(keys):
            for our_id in sorted(wanted[key]):
                if our_id == other_id or our_id not in entities or other_id not in entities:
                    continue
                _propose_pair(
                    entities[our_id],
                    entities[other_id],
                    REASON,
                    {"acronyms": [ours[our_id], key.upper()]},
                )
