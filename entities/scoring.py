"""Star scoring (SPEC §6).

    salience    = ln(1 + mentions) + 1.0·in_title + 0.5·in_lead + 0.5·spread
    specificity = ln(1 + N / df)      N: extracted stories, df: stories with the entity
    score       = salience × specificity

Stars come from corpus-wide quantiles of the score: the lowest 30 % of all
(story, entity) pairs get ★, the next 35 % ★★, the next 20 % ★★★ and the top
15 % ★★★★. Salience is computed once per mention at extraction; everything
else is recomputed here with a handful of set-based statements.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Count, F, Max, Min, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, Ln

logger = logging.getLogger(__name__)

STAR_SHARES = (0.30, 0.35, 0.20, 0.15)
RESCORE_PENDING_KEY = "newsgraph:rescore-pending"


def salience(*, count: int, in_title: bool, in_lead: bool, spread: float) -> float:
    return math.log1p(count) + 1.0 * in_title + 0.5 * in_lead + 0.5 * max(0.0, min(spread, 1.0))


def specificity(*, stories: int, stories_with_entity: int) -> float:
    return math.log1p(stories / max(stories_with_entity, 1))


def star_cutoffs(sorted_scores_count: int) -> list[int]:
    """Positions (0-based, ascending order) of the last pair of each of the
    first three star bands."""
    cutoffs, cumulative = [], 0.0
    for share in STAR_SHARES[:-1]:
        cumulative += share
        cutoffs.append(max(0, math.ceil(cumulative * sorted_scores_count) - 1))
    return cutoffs


@dataclass
class RescoreReport:
    stories: int
    entities: int
    pairs: int
    thresholds: list[float]
    seconds: float


def rescore_all() -> RescoreReport:
    from articles.models import Article
    from entities.models import Entity, Mention

    started = time.perf_counter()
    with transaction.atomic():
        stories = Article.objects.extracted().count()
        visible = Mention.objects.filter(entity=OuterRef("pk"))
        story_counts = visible.order_by().values("entity").annotate(n=Count("*")).values("n")
        first_seen = (
            visible.order_by().values("entity").annotate(d=Min("article__published_at")).values("d")
        )
        last_seen = (
            visible.order_by().values("entity").annotate(d=Max("article__published_at")).values("d")
        )
        # An entity left with no mention (blocked, merged away) counts 0, not NULL.
        Entity.objects.update(
            story_count=Coalesce(Subquery(story_counts), 0),
            first_seen=Subquery(first_seen),
            last_seen=Subquery(last_seen),
        )
        _update_specificity(stories)
        _update_scores()
        pairs = Mention.objects.visible().count()
        thresholds = _thresholds(pairs)
        stars = Case(
            When(score__gt=thresholds[2], then=Value(4)),
            When(score__gt=thresholds[1], then=Value(3)),
            When(score__gt=thresholds[0], then=Value(2)),
            default=Value(1),
        )
        if pairs:
            Mention.objects.exclude(stars=stars).update(stars=stars)
        entities = Entity.objects.filter(story_count__gt=0).count()
    report = RescoreReport(stories, entities, pairs, thresholds, time.perf_counter() - started)
    logger.info(
        "rescored %d stories, %d entities, %d pairs in %.2fs",
        stories,
        entities,
        pairs,
        report.seconds,
    )
    return report


def _update_specificity(stories: int) -> None:
    from entities.models import Entity

    # LN is native on PostgreSQL and registered by Django on SQLite.
    Entity.objects.filter(story_count__gt=0).update(
        specificity=Ln(1.0 + Value(float(stories)) / F("story_count"))
    )
    Entity.objects.filter(story_count=0).update(specificity=0.0)


def _update_scores() -> None:
    from entities.models import Entity, Mention

    spec = Entity.objects.filter(pk=OuterRef("entity_id")).values("specificity")[:1]
    Mention.objects.update(score=F("salience") * Subquery(spec))


def _thresholds(pairs: int) -> list[float]:
    from entities.models import Mention

    if not pairs:
        return [0.0, 0.0, 0.0]
    ordered = Mention.objects.visible().order_by("score").values_list("score", flat=True)
    return [ordered[position] for position in star_cutoffs(pairs)]


def schedule_rescore() -> None:
    """Debounced: a burst of extractions leads to one rescoring per window."""
    from entities.tasks import rescore
    from newsgraph.queue import enqueue

    if settings.CELERY_TASK_ALWAYS_EAGER:
        enqueue(rescore)
        return

    def debounced() -> None:
        if cache.add(RESCORE_PENDING_KEY, 1, timeout=settings.RESCORE_DEBOUNCE_SECONDS + 60):
            enqueue(rescore, countdown=settings.RESCORE_DEBOUNCE_SECONDS)

    # The flag is taken only once the changes are committed: taken inside a
    # transaction that rolls back, it would hold back every rescoring for the
    # window while queueing none.
    transaction.on_commit(debounced)
