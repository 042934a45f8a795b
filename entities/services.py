"""Curation: the editors' writes (merge, block, rename, type, alias and block
rules, SPEC §4), each applied to stored stories as future extraction would."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.handover import request_extraction
from articles.models import Article
from articles.textsearch import article_ids_containing
from entities.extraction import request_reresolution
from entities.models import Alias, BlockedName, DuplicateCandidate, Entity, EntityType, Mention
from entities.normalize import key_variants, name_key, rule_key, surname_key
from entities.rescore_requests import schedule_rescore
from entities.salience import mention_stats

logger = logging.getLogger(__name__)


class CurationError(ValueError):
    """An editor asked for something that contradicts the existing rules."""


def _surface_article_ids(name: str, *, exclude_entity_ids: Iterable[int] = ()) -> list[int]:
    """Stories where this surface form was seen but resolved to another entity."""
    return list(
        Mention.objects.filter(surfaces__icontains=name)
        .exclude(entity_id__in=list(exclude_entity_ids))
        .values_list("article_id", flat=True)
        .distinct()
    )


def _reextract(article_ids: Sequence[int]) -> None:
    if article_ids:
        request_extraction(article_ids=article_ids)


def _reextract_surfaces(names: Iterable[str], *, exclude_entity_ids: Iterable[int] = ()) -> None:
    """A new rule about these names (alias, block) must also hold in the
    stories where a name was read as part of another entity ("Trump" as
    Melania Trump's surname): re-extract those, as future extraction would."""
    exclude = list(exclude_entity_ids)
    ids: set[int] = set()
    for name in names:
        ids.update(_surface_article_ids(name, exclude_entity_ids=exclude))
    _reextract(sorted(ids))


def mentions_sync_published_at(*, article_id: int) -> int:
    """Copy a story's (changed) date onto its mentions, which rank and count
    an entity's stories by it (Mention.published_at)."""
    published_at = (
        Article.objects.filter(pk=article_id).values_list("published_at", flat=True).first()
    )
    return (
        Mention.objects.filter(article_id=article_id)
        .exclude(published_at=published_at)
        .update(published_at=published_at)
    )


@transaction.atomic
def entities_merge(*, target_id: int, source_ids: Sequence[int]) -> Entity:
    """Merge the sources into the target: their mentions move, their names
    (and aliases) become aliases of the target, and stars are recomputed."""
    target = Entity.objects.select_for_update().get(pk=target_id)
    sources = list(
        Entity.objects.select_for_update().filter(pk__in=source_ids).exclude(pk=target_id)
    )
    new_aliases = []
    for source in sources:
        Alias.objects.filter(entity=source).update(entity=target)
        if source.key != target.key:
            Alias.objects.update_or_create(
                key=source.key,
                defaults={
                    "name": source.name,
                    "entity": target,
                    "origin": Alias.Origin.EDITOR,
                    "active": True,
                },
            )
            new_aliases.append(source.name)
        _move_mentions(source=source, target=target)
        source.delete()
    Alias.objects.filter(key=target.key).delete()  # the canonical name needs no alias
    _reextract_surfaces(new_aliases, exclude_entity_ids=[target.pk])
    schedule_rescore()
    return target


def _move_mentions(*, source: Entity, target: Entity) -> None:
    shared = Mention.objects.filter(entity=source, article__mentions__entity=target).select_related(
        "article"
    )
    for mention in shared:
        kept = Mention.objects.get(article=mention.article, entity=target)
        kept.spans = sorted(kept.spans + mention.spans)
        kept.surfaces = "\n".join(
            dict.fromkeys(kept.surfaces.split("\n") + mention.surfaces.split("\n"))
        )
        for name, value in mention_stats(
            kept.spans, title=mention.article.title, text=mention.article.text
        ).items():
            setattr(kept, name, value)
        kept.save()
        mention.delete()
    Mention.objects.filter(entity=source).update(entity=target)


@transaction.atomic
def entities_block(*, entity_ids: Sequence[int]) -> int:
    """Junk: mentions disappear now and the names are never extracted again."""
    entities = list(Entity.objects.filter(pk__in=entity_ids).prefetch_related("aliases"))
    blocked_names = []
    for entity in entities:
        for name in [entity.name, *(a.name for a in entity.aliases.all())]:
            BlockedName.objects.get_or_create(key=name_key(name), defaults={"name": name})
            blocked_names.append(name)
        Mention.objects.filter(entity=entity).delete()
        entity.blocked = True
        entity.story_count = 0
        entity.save(update_fields=["blocked", "story_count"])
    _reextract_surfaces(blocked_names, exclude_entity_ids=[e.pk for e in entities])
    schedule_rescore()
    return len(entities)


@transaction.atomic
def entities_unblock(*, entity_ids: Sequence[int]) -> int:
    """Lift the block and re-extract the stories that contain the name."""
    entities = list(Entity.objects.filter(pk__in=entity_ids).prefetch_related("aliases"))
    for entity in entities:
        names = [entity.name, *(a.name for a in entity.aliases.all())]
        BlockedName.objects.filter(key__in=[name_key(n) for n in names]).delete()
        entity.blocked = False
        entity.save(update_fields=["blocked"])
        for name in names:
            _reextract(article_ids_containing(name))
    schedule_rescore()
    return len(entities)


def entity_rename_check(*, entity: Entity, name: str) -> None:
    """Raise CurationError if renaming would be refused. The admin calls it
    before queueing the rename, which runs in the background where an error
    would reach no editor."""
    name = " ".join(name.split())
    if not name:
        raise CurationError("The new name is empty.")
    key = name_key(name)
    if Entity.objects.filter(key=key, type=entity.type).exclude(pk=entity.pk).exists():
        return  # renaming onto another entity's name merges the two
    clash = Alias.objects.filter(key=key).exclude(entity=entity).select_related("entity").first()
    if clash:
        raise CurationError(f"“{name}” is already an alias of {clash.entity.name}.")


@transaction.atomic
def entity_rename(*, entity_id: int, name: str) -> Entity:
    """Change the canonical name; the old name stays as an alias. Renaming
    onto another entity's name merges the two."""
    entity = Entity.objects.select_for_update().get(pk=entity_id)
    entity_rename_check(entity=entity, name=name)
    name = " ".join(name.split())
    key = name_key(name)
    other = Entity.objects.filter(key=key, type=entity.type).exclude(pk=entity.pk).first()
    if other:
        return entities_merge(target_id=other.pk, source_ids=[entity.pk])
    old_name, old_key = entity.name, entity.key
    entity.name = name
    entity.name_locked = True  # an editor's choice: the corpus's spelling never overrides it
    if slugify(name)[:200] != slugify(old_name)[:200]:
        # A new address only for a new name: "IRAN" → "Iran" keeps its links.
        entity.slug = Entity.unique_slug(name, entity.type)
    entity.save()
    Alias.objects.filter(key=key).delete()
    if old_key != key:
        Alias.objects.get_or_create(key=old_key, defaults={"name": old_name, "entity": entity})
        _reextract_surfaces([old_name], exclude_entity_ids=[entity.pk])
    return entity


@transaction.atomic
def entity_change_type(*, entity_id: int, type_: str) -> Entity:
    if type_ not in EntityType.values:
        raise CurationError(f"Unknown entity type {type_!r}.")
    entity = Entity.objects.select_for_update().get(pk=entity_id)
    other = Entity.objects.filter(key=entity.key, type=type_).exclude(pk=entity.pk).first()
    if other:
        return entities_merge(target_id=other.pk, source_ids=[entity.pk])
    entity.type = type_
    entity.type_locked = True  # an editor's choice: the corpus majority never overrides it
    entity.surname_key = surname_key(entity.key, type_)
    entity.save(update_fields=["type", "type_locked", "surname_key"])
    return entity


@transaction.atomic
def alias_apply(*, alias_id: int) -> None:
    """Make an alias true of the stories already stored: entities named by the
    alias merge into its target; stories where the surface was resolved to
    some other entity are re-extracted."""
    alias = Alias.objects.select_related("entity").get(pk=alias_id)
    same_name = list(
        Entity.objects.filter(key=alias.key)
        .exclude(pk=alias.entity_id)
        .values_list("pk", flat=True)
    )
    if same_name:
        # The merge re-extracts where the name was read as another entity.
        entities_merge(target_id=alias.entity_id, source_ids=same_name)
    else:
        _reextract_surfaces([alias.name], exclude_entity_ids=[alias.entity_id])
    schedule_rescore()


@transaction.atomic
def blocked_name_apply(*, blocked_name_id: int) -> None:
    blocked = BlockedName.objects.get(pk=blocked_name_id)
    named = list(Entity.objects.filter(key=blocked.key).values_list("pk", flat=True))
    if named:
        # Blocking re-extracts where the name was read as part of another entity.
        entities_block(entity_ids=named)
    else:
        _reextract_surfaces([blocked.name])
    schedule_rescore()


@transaction.atomic
def rules_remove_apply(
    *, alias_names: Sequence[str] = (), blocked_names: Sequence[str] = ()
) -> None:
    """Editors deleted rules: stored stories are read again without them, as
    future extraction will. A deleted block lifts the block of the entity it
    had blocked; a deleted alias lets its name resolve on its own again."""
    _reextract_surfaces(alias_names)
    keys = {rule_key(name) for name in blocked_names}
    blocked = list(Entity.objects.with_keys(keys).filter(blocked=True).values_list("pk", flat=True))
    if blocked:
        entities_unblock(entity_ids=blocked)
    ids: set[int] = set()
    for name in blocked_names:
        ids.update(article_ids_containing(name))
    _reextract(sorted(ids))
    schedule_rescore()


# --- automatic rules and the review queue (SPEC §10) ----------------------------------------


@transaction.atomic
def alias_set_active(*, alias_id: int, active: bool) -> Alias:
    """Turn an automatic rule off (undo: the names it joined stand apart
    again, in stored stories too) or back on. A rule turned off is kept, so
    the corpus never writes it again."""
    alias = Alias.objects.select_for_update().select_related("entity").get(pk=alias_id)
    if alias.active == active:
        return alias
    alias.active = active
    note = "turned off by an editor" if not active else "turned on again by an editor"
    alias.evidence = f"{alias.evidence}\n{timezone.now():%Y-%m-%d %H:%M} {note}".strip()
    alias.save(update_fields=["active", "evidence"])
    keys = key_variants(alias.key)
    stories = set(
        Mention.objects.filter(entity_id=alias.entity_id, surfaces__icontains=alias.name)
        .values_list("article_id", flat=True)
        .distinct()
    )
    stories.update(
        Mention.objects.filter(entity__key__in=keys).values_list("article_id", flat=True)
    )
    request_reresolution(article_ids=sorted(stories))
    return alias


@transaction.atomic
def duplicate_accept(*, candidate_id: int) -> Entity:
    """Merge the pair: the fuller name absorbs the other ("Johnson" into
    "Michael Johnson"), or, as long, the one with more stories."""
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate_id)
    pair = Entity.objects.filter(pk__in=[candidate.entity_id, candidate.other_id])
    first, second = sorted(pair, key=lambda e: (-len(e.key.split()), -e.story_count, e.pk))
    candidate.status = DuplicateCandidate.Status.ACCEPTED
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["status", "decided_at"])
    return entities_merge(target_id=first.pk, source_ids=[second.pk])


def duplicates_reject(*, candidate_ids: Sequence[int]) -> int:
    """Keep the pairs apart; a rejected pair is never proposed again."""
    return DuplicateCandidate.objects.filter(
        pk__in=candidate_ids, status=DuplicateCandidate.Status.OPEN
    ).update(status=DuplicateCandidate.Status.REJECTED, decided_at=timezone.now())
