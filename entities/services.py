"""Writes that span models: extraction, and the editors' curation rules."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from articles.models import Article
from entities import nlp
from entities.models import Alias, BlockedName, Entity, EntityType, Mention
from entities.normalize import name_key, rule_key
from entities.resolution import RawSpan, StoryEntity, resolve_story
from entities.scoring import salience, schedule_rescore

logger = logging.getLogger(__name__)


class CurationError(ValueError):
    """An editor asked for something that contradicts the existing rules."""


# --- extraction ---------------------------------------------------------------


@dataclass
class ExtractReport:
    extracted: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    mentions: int = 0


@dataclass(frozen=True)
class Rules:
    blocked_keys: frozenset[str]
    alias_targets: dict[str, int]

    @classmethod
    def load(cls) -> Rules:
        return cls(
            blocked_keys=frozenset(BlockedName.objects.values_list("key", flat=True)),
            alias_targets=dict(Alias.objects.values_list("key", "entity_id")),
        )


def story_text(article: Article) -> str:
    """What NER reads; mention offsets point into this string."""
    return f"{article.title}\n\n{article.text}"


def mention_stats(
    spans: Sequence[Sequence[int]], *, title: str, text: str
) -> dict[str, float | int | bool]:
    body_start = len(title) + 2
    lead_end = body_start + len(text.strip().split("\n\n", 1)[0])
    starts = [start for start, _ in spans]
    body = [s for s in starts if s >= body_start]
    spread = (max(body) - min(body)) / len(text) if len(body) > 1 and text else 0.0
    stats = {
        "count": len(starts),
        "in_title": any(s < len(title) for s in starts),
        "in_lead": any(body_start <= s < lead_end for s in starts),
        "spread": round(min(spread, 1.0), 4),
    }
    stats["salience"] = salience(
        count=stats["count"],
        in_title=stats["in_title"],
        in_lead=stats["in_lead"],
        spread=stats["spread"],
    )
    return stats


def articles_extract(*, article_ids: Sequence[int], rescore: bool = True) -> ExtractReport:
    """Run NER over the stories and replace their mentions atomically.

    Idempotent: running it twice leaves the same mentions. A story whose
    unfinished attempts exceed the budget (a worker keeps dying on it) is
    marked failed instead of being tried again.
    """
    report = ExtractReport()
    Article.objects.filter(id__in=article_ids).update(attempts=F("attempts") + 1)
    articles = list(Article.objects.filter(id__in=article_ids).order_by("id"))
    runnable = []
    for article in articles:
        if article.attempts > settings.EXTRACTION_MAX_ATTEMPTS:
            report.failed[article.id] = f"gave up after {article.attempts - 1} attempts"
        else:
            runnable.append(article)

    rules = Rules.load()
    resolved: dict[int, list[StoryEntity]] = {}
    # What leaves the zone is plain Python strings and offsets, never a Doc.
    with nlp.memory_zone():
        for article, doc in _parsed(runnable, report):
            try:
                spans = [RawSpan(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents]
                resolved[article.id] = resolve_story(
                    spans,
                    text=doc.text,
                    blocked_keys=rules.blocked_keys,
                    alias_targets=rules.alias_targets,
                )
            except Exception as exc:  # one bad story must not sink the batch
                logger.exception("extraction failed for article %s", article.id)
                report.failed[article.id] = f"{type(exc).__name__}: {exc}"

    entity_ids = _entities_for(e for ents in resolved.values() for e in ents)
    blocked_ids = set(
        Entity.objects.filter(id__in=set(entity_ids.values()), blocked=True).values_list(
            "id", flat=True
        )
    )
    by_id = {a.id: a for a in runnable}
    mentions = []
    for article_id, story_entities in resolved.items():
        article = by_id[article_id]
        seen: dict[int, Mention] = {}
        for story_entity in story_entities:
            entity_id = story_entity.entity_id or entity_ids[(story_entity.key, story_entity.label)]
            if entity_id in blocked_ids:
                continue
            if entity_id in seen:  # two story groups resolved to one entity
                previous = seen[entity_id]
                spans = sorted(previous.spans + [list(s) for s in story_entity.spans])
                surfaces = previous.surfaces.split("\n") + story_entity.surfaces
            else:
                spans = [list(s) for s in story_entity.spans]
                surfaces = story_entity.surfaces
            mention = Mention(
                article_id=article_id,
                entity_id=entity_id,
                spans=spans,
                surfaces="\n".join(dict.fromkeys(surfaces)),
                published_at=article.published_at,
                **mention_stats(spans, title=article.title, text=article.text),
            )
            seen[entity_id] = mention
        mentions.extend(seen.values())

    now = timezone.now()
    with transaction.atomic():
        Mention.objects.filter(article_id__in=list(resolved)).delete()
        Mention.objects.bulk_create(mentions, batch_size=500)
        # The attempt counter catches stories that keep killing workers; a run
        # that finishes gives the budget back, so duplicate deliveries (sweeps
        # of a backlog, acks_late redelivery) never fail a good story.
        Article.objects.filter(id__in=list(resolved)).update(
            status=Article.Status.EXTRACTED, error="", extracted_at=now, attempts=0
        )
        for article_id, reason in report.failed.items():
            Article.objects.filter(id=article_id).update(
                status=Article.Status.FAILED, error=reason[:2000]
            )
        if rescore and resolved:
            schedule_rescore(full=False)
    report.extracted = sorted(resolved)
    report.mentions = len(mentions)
    return report


def _parsed(articles: list[Article], report: ExtractReport) -> Iterator[tuple[Article, object]]:
    """(article, spaCy doc) for each story, batched by `nlp.pipe`. If spaCy
    fails on a batch, its stories are parsed one by one, so only the story
    that breaks it is marked failed, with spaCy's error as the reason."""
    try:
        docs = list(
            nlp.pipe([story_text(a) for a in articles], batch_size=settings.EXTRACTION_BATCH_SIZE)
        )
    except Exception as exc:  # spaCy's errors have no common base class
        if len(articles) > 1:
            logger.warning("spaCy failed on a batch of %d; parsing one by one", len(articles))
            for article in articles:
                yield from _parsed([article], report)
            return
        logger.exception("spaCy failed on article %s", articles[0].id)
        report.failed[articles[0].id] = f"{type(exc).__name__}: {exc}"
        return
    yield from zip(articles, docs, strict=True)


def _entities_for(story_entities: Iterable[StoryEntity]) -> dict[tuple[str, str], int]:
    """Map each (key, label) needing an entity to one, creating what is missing.

    An existing entity with the same key is reused even when spaCy labels this
    sighting differently ("Iran" as ORG once): one name, one entity, unless an
    editor has split it by type.
    """
    wanted: dict[tuple[str, str], str] = {}
    for e in story_entities:
        if e.entity_id is None:
            wanted.setdefault((e.key, e.label), e.name)
    if not wanted:
        return {}
    existing: dict[str, list[Entity]] = {}
    for entity in Entity.objects.filter(key__in={k for k, _ in wanted}).order_by(
        "-story_count", "id"
    ):
        existing.setdefault(entity.key, []).append(entity)
    missing = {}
    for (key, label), name in wanted.items():
        if key not in existing:
            missing.setdefault(key, (name, label))
    if missing:
        for entity in _create_entities(list(missing.values())):
            existing[entity.key] = [entity]
    result = {}
    for key, label in wanted:
        candidates = existing[key]
        same_type = [c for c in candidates if c.type == label]
        result[(key, label)] = (same_type or candidates)[0].id
    return result


def _create_entities(names: list[tuple[str, str]]) -> list[Entity]:
    """Insert new entities in one statement; a concurrent worker inserting the
    same name wins harmlessly (unique key+type), and a slug clash falls back to
    one-by-one creation with a suffixed slug."""
    new = [Entity(name=name, key=name_key(name), type=type_) for name, type_ in names]
    slugs = [slugify(e.name)[:200] or "entity" for e in new]
    taken = set(Entity.objects.filter(slug__in=set(slugs)).values_list("slug", flat=True))
    unique = []
    for entity, slug in zip(new, slugs, strict=True):
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


# --- curation -----------------------------------------------------------------


def _surface_article_ids(name: str, *, exclude_entity_ids: Iterable[int] = ()) -> list[int]:
    """Stories where this surface form was seen but resolved to another entity."""
    return list(
        Mention.objects.filter(surfaces__icontains=name)
        .exclude(entity_id__in=list(exclude_entity_ids))
        .values_list("article_id", flat=True)
        .distinct()
    )


def _reextract(article_ids: Sequence[int]) -> None:
    from articles.services import articles_enqueue_extraction

    if article_ids:
        articles_enqueue_extraction(article_ids=article_ids)


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
                key=source.key, defaults={"name": source.name, "entity": target}
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
    from articles.selectors import article_ids_containing

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
    entity.save(update_fields=["type"])
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
    from articles.selectors import article_ids_containing

    _reextract_surfaces(alias_names)
    keys = {rule_key(name) for name in blocked_names}
    blocked = list(Entity.objects.filter(key__in=keys, blocked=True).values_list("pk", flat=True))
    if blocked:
        entities_unblock(entity_ids=blocked)
    ids: set[int] = set()
    for name in blocked_names:
        ids.update(article_ids_containing(name))
    _reextract(sorted(ids))
    schedule_rescore()
