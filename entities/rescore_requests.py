"""Asking for a rescoring: debounced, through the one queueing seam
(newsgraph/infra/queue.py, by task name: nothing outside the Celery entry
points imports a tasks module), with the page-cache versions bumped. The
pass itself is entities/scoring.py (`rescore_due` picks full or recent).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from entities.scoring import RESCORE_FULL_NEEDED_KEY
from newsgraph.infra import pagecache
from newsgraph.infra.queue import enqueue

logger = logging.getLogger(__name__)

# The debounced rescoring task (entities/tasks.py), queued by name.
RESCORE_TASK = "entities.tasks.rescore"
RESCORE_PENDING_KEY = "newsgraph:rescore-pending"
# Cache backends raise their own errors (redis.exceptions.ConnectionError, …).
CACHE_UNREACHABLE = Exception


def schedule_rescore(*, full: bool = True) -> None:
    """Debounced: a burst of extractions leads to one rescoring per window.
    `full=False` (new stories) lets the pass score just the new pairs;
    curation asks for a full pass."""
    # New stories or curation: which stories are about which entity changed;
    # after curation, cached entity pages may list a merged or blocked entity.
    stale = [pagecache.CORPUS] + ([pagecache.ENTITY_PROFILES] if full else [])
    transaction.on_commit(lambda: pagecache.bump(*stale))
    if full:
        transaction.on_commit(_ask_for_a_full_pass)

    if settings.CELERY_TASK_ALWAYS_EAGER:
        enqueue(RESCORE_TASK)
        return

    def debounced() -> None:
        try:
            take = cache.add(RESCORE_PENDING_KEY, 1, timeout=settings.RESCORE_DEBOUNCE_SECONDS + 60)
        except CACHE_UNREACHABLE:
            # Redis (the cache and the broker) is down: no flag to debounce
            # with; the seam keeps the task until the broker is back.
            logger.warning("cache unreachable: rescoring queued without debouncing")
            take = True
        if take:
            enqueue(RESCORE_TASK, countdown=settings.RESCORE_DEBOUNCE_SECONDS)

    # The flag is taken only once the changes are committed: taken inside a
    # transaction that rolls back, it would hold back every rescoring for the
    # window while queueing none.
    transaction.on_commit(debounced)


def _ask_for_a_full_pass() -> None:
    try:
        cache.set(RESCORE_FULL_NEEDED_KEY, 1, timeout=None)
    except CACHE_UNREACHABLE:
        # The pass still runs; it is a full one if the cut-offs are due anyway.
        logger.warning("cache unreachable: the next rescoring may not be a full pass")
