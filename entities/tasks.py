"""Entities' background jobs: thin, idempotent tasks that take ids and call a service.

`extract_articles` and `rescore_all` are registered under the names that
stories use to ask for them (articles/handover.py); keep the names in step.
"""

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from articles.handover import EXTRACT_TASK, RESCORE_ALL_TASK
from articles.models import Article
from entities import extraction, selectors, services, settle
from entities.extraction import RERESOLVE_TASK
from entities.history import acting_as
from entities.models import Entity
from entities.rescore_requests import RESCORE_PENDING_KEY, schedule_rescore
from entities.scoring import rescore_all as rescore_corpus
from entities.scoring import rescore_due
from newsgraph.infra import pagecache
from newsgraph.infra.queue import enqueue

logger = logging.getLogger(__name__)

SETTLE_PENDING_KEY = "newsgraph:settle-pending"
# A pass that died leaves the flag: the next one may start after this long.
SETTLE_PENDING_TIMEOUT = 600

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(name=EXTRACT_TASK, acks_late=True, **RETRY)
def extract_articles(article_ids: list[int], rescore: bool = True) -> dict:
    if len(article_ids) > 1 and Article.objects.filter(id__in=article_ids, attempts__gt=0).exists():
        # A run of this batch died before finishing (finished runs give their
        # attempt back): retry story by story, so one story that kills the
        # worker uses up only its own attempts, not its neighbours'.
        logger.warning("batch %s was interrupted before; splitting it", article_ids)
        for article_id in article_ids:
            enqueue(extract_articles, [article_id], rescore)
        return {"extracted": 0, "failed": 0, "split": len(article_ids)}
    report = extraction.articles_extract(article_ids=article_ids, rescore=rescore)
    # The reasons are on the stories (Article.error).
    return {
        "extracted": len(report.extracted),
        "failed": len(report.failed),
        "mentions": report.mentions,
    }


@shared_task(name=RERESOLVE_TASK, acks_late=True, **RETRY)
def reresolve_articles(article_ids: list[int]) -> int:
    """New evidence (a rule, a full name) for stored stories: resolved again
    from their stored spans, no NER."""
    count = extraction.articles_reresolve(article_ids=article_ids)
    if count:
        schedule_rescore(full=False)
    return count


@shared_task(name=RESCORE_ALL_TASK, acks_late=True, **RETRY)
def rescore_all() -> dict:
    settle.corpus_settle()
    report = rescore_corpus()
    _scores_changed()
    return {"pairs": report.pairs, "seconds": round(report.seconds, 3), "full": report.full}


@shared_task(acks_late=True, **RETRY)
def rescore() -> dict:
    # Cleared first: an extraction committing while we run schedules another pass.
    cache.delete(RESCORE_PENDING_KEY)
    report = rescore_due()
    if report.pairs:
        _scores_changed()
    # Stars do not depend on an entity's type or display name: they are
    # settled after, in their own pass, so new stories' stars wait for no one.
    schedule_settle()
    return {"pairs": report.pairs, "seconds": round(report.seconds, 3), "full": report.full}


def _scores_changed() -> None:
    """Stars and story counts changed since the bump that asked for the pass:
    the about-lists and trending entities kept under the corpus version are
    stale. The home page's trending entities are computed here, in the
    worker, for the new version, rather than by the next reader's request."""
    pagecache.bump(pagecache.CORPUS)
    selectors.trending_entities()


def schedule_settle() -> None:
    """One settling pass queued at a time, while entities wait for one."""
    if Entity.objects.filter(unsettled=True).exists() and cache.add(
        SETTLE_PENDING_KEY, 1, timeout=SETTLE_PENDING_TIMEOUT
    ):
        enqueue(settle_entities)


@shared_task(acks_late=True, **RETRY)
def settle_entities() -> int:
    """Type and display name (and the review queue's look-alikes) of up to
    SETTLE_BATCH entities that extraction touched; queues the next pass if
    more are waiting."""
    cache.delete(SETTLE_PENDING_KEY)
    looked_at = settle.settle()
    if looked_at:
        # Names and types show on every page that lists the entity.
        pagecache.bump(pagecache.CORPUS, pagecache.ENTITY_PROFILES)
    schedule_settle()
    return looked_at


# Curation: each runs for the editor who asked (user_id), whom its history
# entry names; None is the system.


@shared_task(acks_late=True, **RETRY)
def merge_entities(target_id: int, source_ids: list[int], user_id: int | None = None) -> None:
    with acting_as(user_id):
        services.entities_merge(target_id=target_id, source_ids=source_ids)


@shared_task(acks_late=True, **RETRY)
def block_entities(entity_ids: list[int], user_id: int | None = None) -> None:
    with acting_as(user_id):
        services.entities_block(entity_ids=entity_ids)


@shared_task(acks_late=True, **RETRY)
def unblock_entities(entity_ids: list[int], user_id: int | None = None) -> None:
    with acting_as(user_id):
        services.entities_unblock(entity_ids=entity_ids)


@shared_task(acks_late=True, **RETRY)
def rename_entity(entity_id: int, name: str, user_id: int | None = None) -> None:
    with acting_as(user_id):
        services.entity_rename(entity_id=entity_id, name=name)


@shared_task(acks_late=True, **RETRY)
def apply_alias(alias_id: int, user_id: int | None = None) -> None:
    with acting_as(user_id):
        services.alias_apply(alias_id=alias_id)


@shared_task(acks_late=True, **RETRY)
def apply_blocked_name(blocked_name_id: int, user_id: int | None = None) -> None:
    with acting_as(user_id):
        services.blocked_name_apply(blocked_name_id=blocked_name_id)


@shared_task(acks_late=True, **RETRY)
def apply_removed_rules(
    alias_names: list[str], blocked_names: list[str], user_id: int | None = None
) -> None:
    with acting_as(user_id):
        services.rules_remove_apply(alias_names=alias_names, blocked_names=blocked_names)


@shared_task(acks_late=True, **RETRY)
def set_alias_active(alias_id: int, active: bool, user_id: int | None = None) -> None:
    with acting_as(user_id):
        services.alias_set_active(alias_id=alias_id, active=active)


@shared_task(acks_late=True, **RETRY)
def accept_duplicate(candidate_id: int, user_id: int | None = None) -> None:
    with acting_as(user_id):
        services.duplicate_accept(candidate_id=candidate_id)


@shared_task(acks_late=True, **RETRY)
def undo_change(change_id: int, user_id: int | None = None) -> None:
    with acting_as(user_id):
        try:
            services.change_undo(change_id=change_id)
        except services.CurationError as exc:
            # Shown on the change's page: the editor reads why it stayed.
            logger.warning("undo of change %s refused: %s", change_id, exc)
