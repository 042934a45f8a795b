"""Curation: the editors' writes (merge, block, rename, type, alias and block
rules, SPEC §4), each applied to stored stories as future extraction would."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from articles.handover import request_extraction
from articles.models import Article
from articles.textsearch import article_ids_containing
from entities import history
from entities.extraction import request_reresolution
from entities.models import (
    Alias,
    BlockedName,
    Change,
    DuplicateCandidate,
    Entity,
    EntitySlug,
    EntityType,
    Mention,
)
from entities.normalize import key_variants, name_key, rule_key, surname_key
from entities.rescore_requests import schedule_rescore
from entities.salience import mention_stats
from newsgraph.infra import pagecache

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
    (and aliases) become aliases of the target, and stars are recomputed.
    Recorded with what an undo needs to bring the sources back."""
    target, sources, restore = _merge(target_id=target_id, source_ids=source_ids)
    if sources:
        history.record(
            action=Change.Action.MERGE,
            summary=f"Merged {_names(sources)} into {target.name}",
            entity_ids=[target.pk, *(s["entity"]["id"] for s in restore["sources"])],
            before={"entities": [s.name for s in sources] + [target.name]},
            after={"entity": target.name},
            stories=_stories_moved(restore),
            restore=restore,
            logged=[target],
        )
    return target


def _names(entities: Iterable[Entity]) -> str:
    return ", ".join(f"“{e.name}”" for e in entities)


def _stories_moved(restore: dict) -> int:
    return sum(len(source["mentions"]) for source in restore.get("sources", []))


MENTION_FIELDS = (
    "article_id",
    "count",
    "in_title",
    "in_lead",
    "spread",
    "spans",
    "surfaces",
    "salience",
    "stars",
    "label",
    "published_at",
)
ENTITY_FIELDS = (
    "id",
    "name",
    "type",
    "slug",
    "blocked",
    "story_count",
    "specificity",
    "first_seen",
    "last_seen",
    "created_at",
    "name_locked",
    "type_locked",
)
ALIAS_FIELDS = ("name", "entity_id", "origin", "active", "evidence")


def _merge(*, target_id: int, source_ids: Sequence[int]) -> tuple[Entity, list[Entity], dict]:
    target = Entity.objects.select_for_update().get(pk=target_id)
    sources = list(
        Entity.objects.select_for_update().filter(pk__in=source_ids).exclude(pk=target_id)
    )
    restore: dict = {"target": target.pk, "sources": [], "aliases_removed": []}
    new_aliases = []
    for source in sources:
        restore["sources"].append(_source_snapshot(source, target))
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
        # Its addresses now lead to the target; a decided pair keeps its name.
        EntitySlug.objects.filter(entity=source, merged_from="").update(merged_from=source.name)
        EntitySlug.objects.filter(entity=source).update(entity=target)
        EntitySlug.objects.create(slug=source.slug, entity=target, merged_from=source.name)
        DuplicateCandidate.objects.filter(entity=source).update(entity_name=source.name)
        DuplicateCandidate.objects.filter(other=source).update(other_name=source.name)
        source.delete()
    # The canonical name needs no alias.
    restore["aliases_removed"] = list(Alias.objects.filter(key=target.key).values(*ALIAS_FIELDS))
    Alias.objects.filter(key=target.key).delete()
    _reextract_surfaces(new_aliases, exclude_entity_ids=[target.pk])
    schedule_rescore()
    return target, sources, restore


def _source_snapshot(source: Entity, target: Entity) -> dict:
    """All a merge changes about one source, to split it back out."""
    mentions = list(Mention.objects.filter(entity=source).values(*MENTION_FIELDS))
    shared = Mention.objects.filter(
        entity=target, article_id__in=[m["article_id"] for m in mentions]
    )
    return {
        "entity": {field: getattr(source, field) for field in ENTITY_FIELDS},
        "old_slugs": list(
            EntitySlug.objects.filter(entity=source).values_list("slug", "merged_from")
        ),
        "aliases": list(Alias.objects.filter(entity=source).values_list("pk", flat=True)),
        "name_alias": Alias.objects.filter(key=source.key).values(*ALIAS_FIELDS).first(),
        "mentions": mentions,
        "target_mentions": list(shared.values(*MENTION_FIELDS)),
        "candidates": {
            "entity": list(
                DuplicateCandidate.objects.filter(entity=source).values_list("pk", flat=True)
            ),
            "other": list(
                DuplicateCandidate.objects.filter(other=source).values_list("pk", flat=True)
            ),
        },
    }


def _unmerge(restore: dict) -> list[Entity]:
    """Split merged entities back out of their target, with their names,
    addresses, aliases and mentions as they were before the merge."""
    target_id = restore["target"]
    back = []
    for snapshot in restore["sources"]:
        data = dict(snapshot["entity"])
        for field in ("first_seen", "last_seen", "created_at"):
            data[field] = parse_datetime(data[field]) if data[field] else None
        key = name_key(data["name"])
        EntitySlug.objects.filter(slug=data["slug"]).delete()  # its address back
        entity = Entity(**data)
        if Entity.objects.filter(slug=entity.slug).exists():
            entity.slug = Entity.unique_slug(entity.name, entity.type)
        entity.save(force_insert=True)
        for slug, merged_from in snapshot["old_slugs"]:
            EntitySlug.objects.filter(slug=slug).update(entity=entity, merged_from=merged_from)
        Alias.objects.filter(pk__in=snapshot["aliases"]).update(entity=entity)
        previous = snapshot["name_alias"]
        if previous and previous["entity_id"] != target_id:
            Alias.objects.filter(key=key).update(**previous)
        else:
            # Kept, turned off: the corpus never joins the two again on its own.
            Alias.objects.filter(key=key).update(
                entity_id=target_id,
                origin=Alias.Origin.EDITOR,
                active=False,
                evidence=f"{timezone.now():%Y-%m-%d %H:%M} a merge undone: kept apart",
            )
        _restore_mentions(entity, target_id, snapshot)
        DuplicateCandidate.objects.filter(pk__in=snapshot["candidates"]["entity"]).update(
            entity=entity
        )
        DuplicateCandidate.objects.filter(pk__in=snapshot["candidates"]["other"]).update(
            other=entity
        )
        back.append(entity)
    for alias in restore.get("aliases_removed", []):
        if not Alias.objects.filter(key=rule_key(alias["name"])).exists():
            Alias.objects.create(**alias)
    # Stories the merge re-read with the name as the target's (another
    # entity's surname) are read again without it.
    _reextract_surfaces([e.name for e in back], exclude_entity_ids=[e.pk for e in back])
    schedule_rescore()
    return back


def _restore_mentions(entity: Entity, target_id: int, snapshot: dict) -> None:
    def fields(row: dict) -> dict:
        row = dict(row)
        row["published_at"] = parse_datetime(row["published_at"]) if row["published_at"] else None
        return row

    shared = {m["article_id"] for m in snapshot["target_mentions"]}
    moved = [m["article_id"] for m in snapshot["mentions"] if m["article_id"] not in shared]
    Mention.objects.filter(entity_id=target_id, article_id__in=moved).delete()
    for row in snapshot["target_mentions"]:
        row = fields(row)
        Mention.objects.filter(entity_id=target_id, article_id=row.pop("article_id")).update(**row)
    stored = set(
        Article.objects.filter(pk__in=[m["article_id"] for m in snapshot["mentions"]]).values_list(
            "pk", flat=True
        )
    )
    Mention.objects.bulk_create(
        [
            Mention(entity=entity, **fields(row))
            for row in snapshot["mentions"]
            if row["article_id"] in stored
        ],
        ignore_conflicts=True,
    )


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
def entities_block(*, entity_ids: Sequence[int], undo_of: Change | None = None) -> int:
    """Junk: mentions disappear now and the names are never extracted again."""
    # The admin marks an entity blocked in the request (entities/admin.py);
    # it is done once its name is on the block list.
    entities = [
        entity
        for entity in Entity.objects.filter(pk__in=entity_ids).prefetch_related("aliases")
        if not entity.blocked or not BlockedName.objects.filter(key=name_key(entity.name)).exists()
    ]
    blocked_names = []
    stories = 0
    for entity in entities:
        for name in [entity.name, *(a.name for a in entity.aliases.all())]:
            BlockedName.objects.get_or_create(key=name_key(name), defaults={"name": name})
            blocked_names.append(name)
        stories += Mention.objects.filter(entity=entity).delete()[0]
        entity.blocked = True
        entity.story_count = 0
        entity.save(update_fields=["blocked", "story_count"])
    _reextract_surfaces(blocked_names, exclude_entity_ids=[e.pk for e in entities])
    schedule_rescore()
    if entities:
        history.record(
            action=Change.Action.BLOCK,
            summary=f"Blocked {_names(entities)}",
            entity_ids=[e.pk for e in entities],
            before={"blocked": False},
            after={"blocked": True},
            stories=stories,
            undo_of=undo_of,
            logged=entities,
        )
    return len(entities)


@transaction.atomic
def entities_unblock(*, entity_ids: Sequence[int], undo_of: Change | None = None) -> int:
    """Lift the block and re-extract the stories that contain the name."""
    entities = list(
        Entity.objects.filter(pk__in=entity_ids, blocked=True).prefetch_related("aliases")
    )
    stories: set[int] = set()
    for entity in entities:
        names = [entity.name, *(a.name for a in entity.aliases.all())]
        BlockedName.objects.filter(key__in=[name_key(n) for n in names]).delete()
        entity.blocked = False
        entity.save(update_fields=["blocked"])
        for name in names:
            ids = article_ids_containing(name)
            stories.update(ids)
            _reextract(ids)
    schedule_rescore()
    if entities:
        history.record(
            action=Change.Action.UNBLOCK,
            summary=f"Unblocked {_names(entities)}",
            entity_ids=[e.pk for e in entities],
            before={"blocked": True},
            after={"blocked": False},
            stories=len(stories),
            undo_of=undo_of,
            logged=entities,
        )
    return len(entities)


def _names_changed() -> None:
    """An entity's name or type shows in the about-lists kept under the
    corpus version and on the entity pages: stale once this commits."""
    transaction.on_commit(lambda: pagecache.bump(pagecache.CORPUS, pagecache.ENTITY_PROFILES))


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
def entity_rename(*, entity_id: int, name: str, undo_of: Change | None = None) -> Entity:
    """Change the canonical name; the old name stays as an alias, the old
    address redirects. Renaming onto another entity's name merges the two."""
    entity = Entity.objects.select_for_update().get(pk=entity_id)
    entity_rename_check(entity=entity, name=name)
    name = " ".join(name.split())
    key = name_key(name)
    other = Entity.objects.filter(key=key, type=entity.type).exclude(pk=entity.pk).first()
    if other:
        return entities_merge(target_id=other.pk, source_ids=[entity.pk])
    old_name, old_key, old_slug = entity.name, entity.key, entity.slug
    entity.name = name
    entity.name_locked = True  # an editor's choice: the corpus's spelling never overrides it
    if slugify(name)[:200] != slugify(old_name)[:200]:
        # A new address only for a new name: "IRAN" → "Iran" keeps its links.
        entity.slug = Entity.unique_slug(name, entity.type, entity_id=entity.pk)
        EntitySlug.objects.filter(slug=entity.slug).delete()  # its own, from before
        EntitySlug.objects.update_or_create(
            slug=old_slug, defaults={"entity": entity, "merged_from": ""}
        )
    entity.save()
    _names_changed()
    Alias.objects.filter(key=key).delete()
    if old_key != key:
        Alias.objects.get_or_create(key=old_key, defaults={"name": old_name, "entity": entity})
        _reextract_surfaces([old_name], exclude_entity_ids=[entity.pk])
    history.record(
        action=Change.Action.RENAME,
        summary=f"Renamed “{old_name}” to “{name}”",
        entity_ids=[entity.pk],
        before={"name": old_name, "slug": old_slug},
        after={"name": name, "slug": entity.slug},
        stories=entity.story_count,
        undo_of=undo_of,
        logged=[entity],
    )
    return entity


@transaction.atomic
def entity_change_type(*, entity_id: int, type_: str, undo_of: Change | None = None) -> Entity:
    if type_ not in EntityType.values:
        raise CurationError(f"Unknown entity type {type_!r}.")
    entity = Entity.objects.select_for_update().get(pk=entity_id)
    other = Entity.objects.filter(key=entity.key, type=type_).exclude(pk=entity.pk).first()
    if other:
        return entities_merge(target_id=other.pk, source_ids=[entity.pk])
    old_type = entity.type
    if old_type == type_:
        return entity
    entity.type = type_
    entity.type_locked = True  # an editor's choice: the corpus majority never overrides it
    entity.surname_key = surname_key(entity.key, type_)
    entity.save(update_fields=["type", "type_locked", "surname_key"])
    _names_changed()
    history.record(
        action=Change.Action.RETYPE,
        summary=f"“{entity.name}”: type {EntityType(old_type).label} → {EntityType(type_).label}",
        entity_ids=[entity.pk],
        before={"type": old_type},
        after={"type": type_},
        stories=entity.story_count,
        undo_of=undo_of,
        logged=[entity],
    )
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
    if not alias.automatic:  # the corpus's own are recorded as it writes them
        history.record(
            action=Change.Action.RULE_ADDED,
            summary=f"Rule “{alias.name}” → {alias.entity.name}",
            entity_ids=[alias.entity_id],
            after={"name": alias.name, "entity": alias.entity.name, "active": alias.active},
            restore={"alias_id": alias.pk},
            logged=[alias],
        )
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
    history.record(
        action=Change.Action.NAME_BLOCKED,
        summary=f"Name “{blocked.name}” blocked",
        entity_ids=named,
        after={"blocked name": blocked.name},
        logged=[blocked],
    )
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
    for name in alias_names:
        history.record(
            action=Change.Action.RULE_REMOVED,
            summary=f"Rule “{name}” deleted",
            entity_ids=[],
            before={"name": name},
        )
    for name in blocked_names:
        history.record(
            action=Change.Action.NAME_UNBLOCKED,
            summary=f"Blocked name “{name}” deleted",
            entity_ids=blocked,
            before={"blocked name": name},
            stories=len(ids),
        )
    schedule_rescore()


# --- automatic rules and the review queue (SPEC §10) ----------------------------------------


def _editor_label() -> str:
    return history.current_username() or "an editor"


@transaction.atomic
def alias_set_active(*, alias_id: int, active: bool, undo_of: Change | None = None) -> Alias:
    """Turn an automatic rule off (undo: the names it joined stand apart
    again, in stored stories too) or back on. A rule turned off is kept, so
    the corpus never writes it again."""
    alias = Alias.objects.select_for_update().select_related("entity").get(pk=alias_id)
    if alias.active == active:
        return alias
    alias.active = active
    note = f"turned {'on again' if active else 'off'} by {_editor_label()}"
    evidence = alias.evidence
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
    history.record(
        action=Change.Action.RULE_ON if active else Change.Action.RULE_OFF,
        summary=f"Rule “{alias.name}” → {alias.entity.name} turned {'on' if active else 'off'}",
        entity_ids=[alias.entity_id],
        before={"active": not active},
        after={"active": active},
        evidence=evidence,
        stories=len(stories),
        restore={"alias_id": alias.pk},
        undo_of=undo_of,
        logged=[alias],
    )
    return alias


@transaction.atomic
def duplicate_accept(*, candidate_id: int) -> Entity | None:
    """Merge the pair: the fuller name absorbs the other ("Johnson" into
    "Michael Johnson"), or, as long, the one with more stories."""
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate_id)
    if candidate.status != DuplicateCandidate.Status.OPEN or not (
        candidate.entity_id and candidate.other_id
    ):
        return None
    pair = Entity.objects.filter(pk__in=[candidate.entity_id, candidate.other_id])
    first, second = sorted(pair, key=lambda e: (-len(e.key.split()), -e.story_count, e.pk))
    candidate.status = DuplicateCandidate.Status.ACCEPTED
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["status", "decided_at"])
    target, _sources, restore = _merge(target_id=first.pk, source_ids=[second.pk])
    restore["candidate"] = candidate.pk
    candidate.refresh_from_db()  # the merged entity's name, its link gone
    history.record(
        action=Change.Action.ACCEPT,
        summary=f"Accepted: merged “{second.name}” into {first.name}",
        entity_ids=[first.pk, second.pk],
        before={"entities": [first.name, second.name], "status": "open"},
        after={"entity": first.name, "status": "accepted"},
        evidence=candidate.reason,
        stories=_stories_moved(restore),
        restore=restore,
        logged=[candidate, target],
    )
    return target


@transaction.atomic
def duplicates_reject(*, candidate_ids: Sequence[int]) -> int:
    """Keep the pairs apart; a rejected pair is never proposed again."""
    candidates = list(
        DuplicateCandidate.objects.select_for_update().filter(
            pk__in=candidate_ids, status=DuplicateCandidate.Status.OPEN
        )
    )
    DuplicateCandidate.objects.filter(pk__in=[c.pk for c in candidates]).update(
        status=DuplicateCandidate.Status.REJECTED, decided_at=timezone.now()
    )
    for candidate in candidates:
        history.record(
            action=Change.Action.REJECT,
            summary=f"Kept apart: {candidate.entity_label} / {candidate.other_label}",
            entity_ids=[i for i in (candidate.entity_id, candidate.other_id) if i],
            before={"status": "open"},
            after={"status": "rejected"},
            evidence=candidate.reason,
            restore={"candidate": candidate.pk},
            logged=[candidate],
        )
    return len(candidates)


# --- undo (SPEC §11) --------------------------------------------------------------------------


@transaction.atomic
def change_undo(*, change_id: int) -> Change | None:
    """Undo a change from the history: a merge split back, a block lifted, a
    rename reverted, a rule turned back. The undo is a change of its own;
    a change already undone is left alone (the task may run twice)."""
    change = Change.objects.select_for_update().get(pk=change_id)
    if not change.can_be_undone:
        return None
    change_undo_check(change=change)
    return _UNDO[change.action](change)


def change_undo_check(*, change: Change) -> None:
    """Raise CurationError if undoing the change would be refused. The admin
    calls it before queueing the undo, which runs where no editor reads."""
    if change.action not in _UNDO or not change.can_be_undone:
        raise CurationError("This change cannot be undone (or it was undone already).")
    if change.action in (Change.Action.MERGE, Change.Action.ACCEPT):
        if not Entity.objects.filter(pk=change.restore["target"]).exists():
            raise CurationError(
                "The entity they were merged into is gone (merged again?): undo that first."
            )
        for snapshot in change.restore["sources"]:
            data = snapshot["entity"]
            if Entity.objects.filter(
                Q(pk=data["id"]) | Q(key=name_key(data["name"]), type=data["type"])
            ).exists():
                raise CurationError(
                    f"An entity called “{data['name']}” exists again: merge or rename it first."
                )
    rules = (Change.Action.RULE_ADDED, Change.Action.RULE_ON, Change.Action.RULE_OFF)
    if change.action in rules and not Alias.objects.filter(pk=change.restore.get("alias_id")):
        raise CurationError("The rule no longer exists.")


def _undo_merge(change: Change) -> Change:
    back = _unmerge(change.restore)
    candidate_id = change.restore.get("candidate")
    if candidate_id:
        DuplicateCandidate.objects.filter(pk=candidate_id).update(
            status=DuplicateCandidate.Status.OPEN, decided_at=None
        )
    target = Entity.objects.filter(pk=change.restore["target"]).first()
    return history.record(
        action=Change.Action.MERGE,
        summary=f"Undone: {_names(back)} split back out of {target.name if target else '?'}",
        entity_ids=[change.restore["target"], *(e.pk for e in back)],
        before=change.after,
        after=change.before,
        stories=_stories_moved(change.restore),
        undo_of=change,
        logged=[*back, *([target] if target else [])],
    )


def _undo_block(change: Change) -> Change | None:
    ids = list(change.subjects.values_list("entity_id", flat=True))
    entities_unblock(entity_ids=ids, undo_of=change)
    return Change.objects.filter(undo_of=change).first()


def _undo_unblock(change: Change) -> Change | None:
    ids = list(change.subjects.values_list("entity_id", flat=True))
    entities_block(entity_ids=ids, undo_of=change)
    return Change.objects.filter(undo_of=change).first()


def _undo_rename(change: Change) -> Change:
    entity_id = change.subjects.values_list("entity_id", flat=True).first()
    entity = entity_rename(entity_id=entity_id, name=change.before["name"], undo_of=change)
    # The name it is reverted from was no alias before the rename.
    renamed_key = name_key(change.after["name"])
    if renamed_key != entity.key:
        Alias.objects.filter(key=renamed_key, entity=entity).delete()
    return Change.objects.get(undo_of=change)


def _undo_retype(change: Change) -> Change | None:
    entity_id = change.subjects.values_list("entity_id", flat=True).first()
    entity_change_type(entity_id=entity_id, type_=change.before["type"], undo_of=change)
    return Change.objects.filter(undo_of=change).first()


def _undo_rule(change: Change) -> Change | None:
    """A rule written or turned on is turned off; one turned off, on."""
    alias_id = change.restore["alias_id"]
    alias_set_active(
        alias_id=alias_id, active=change.action == Change.Action.RULE_OFF, undo_of=change
    )
    return Change.objects.filter(undo_of=change).first()


def _undo_reject(change: Change) -> Change:
    candidate = DuplicateCandidate.objects.get(pk=change.restore["candidate"])
    candidate.status = DuplicateCandidate.Status.OPEN
    candidate.decided_at = None
    candidate.save(update_fields=["status", "decided_at"])
    return history.record(
        action=Change.Action.REJECT,
        summary=f"Undone: {candidate.entity_label} / {candidate.other_label} back in the queue",
        entity_ids=[i for i in (candidate.entity_id, candidate.other_id) if i],
        before=change.after,
        after=change.before,
        undo_of=change,
        logged=[candidate],
    )


_UNDO = {
    Change.Action.MERGE: _undo_merge,
    Change.Action.ACCEPT: _undo_merge,
    Change.Action.BLOCK: _undo_block,
    Change.Action.UNBLOCK: _undo_unblock,
    Change.Action.RENAME: _undo_rename,
    Change.Action.RETYPE: _undo_retype,
    Change.Action.RULE_ADDED: _undo_rule,
    Change.Action.RULE_ON: _undo_rule,
    Change.Action.RULE_OFF: _undo_rule,
    Change.Action.REJECT: _undo_reject,
}
