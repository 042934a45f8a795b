"""Extraction: NER over stored stories, resolved names, and each story's
mentions replaced atomically (SPEC §5). Runs in the `entities.extract_articles`
task that ingest asks for by name (articles/extraction.py).
"""

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
from entities.models import Alias, BlockedName, Entity, Mention
from entities.normalize import name_key
from entities.resolution import RawSpan, StoryEntity, resolve_story
from entities.scoring import salience, schedule_rescore

logger = logging.getLogger(__name__)


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
    # A story in a language no configured model reads (SPACY_MODELS) is kept
    # and searchable, with no entities rather than junk ones (issue #12).
    for article in runnable:
        if not nlp.reads(article.language):
            resolved[article.id] = []
    # What leaves the zone is plain Python strings and offsets, never a Doc.
    with nlp.memory_zone():
        for article, doc in _parsed([a for a in runnable if a.id not in resolved], report):
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
            nlp.pipe(
                [story_text(a) for a in articles],
                batch_size=settings.EXTRACTION_BATCH_SIZE,
                languages=[a.language for a in articles],
            )
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
