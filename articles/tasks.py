"""Stories' background jobs: the sweep of pending stories and feed polling.

Extraction itself is an `entities` task, asked for by name (articles/handover.py).
Work is queued only through `newsgraph.infra.queue.enqueue`.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from articles.feeds import feed_poll, feeds_claim_due
from articles.models import Article
from articles.services import articles_enqueue_extraction
from newsgraph.infra.queue import enqueue

logger = logging.getLogger(__name__)


@shared_task
def sweep_pending_articles(limit: int = 5000, older_than_seconds: int = 0) -> int:
    """Close the lost-enqueue gap: re-queue stories still pending (stored at
    least `older_than_seconds` ago)."""
    pending = Article.objects.pending()
    if older_than_seconds:
        stored_before = timezone.now() - timedelta(seconds=older_than_seconds)
        pending = pending.filter(created_at__lte=stored_before)
    ids = list(pending.order_by("id").values_list("id", flat=True)[:limit])
    if ids:
        logger.info("sweep: re-queueing %d pending stories", len(ids))
        articles_enqueue_extraction(article_ids=ids)
    return len(ids)


@shared_task(acks_late=True)
def poll_feed(feed_id: int) -> str:
    report = feed_poll(feed_id=feed_id)
    return report.summary() if report else "error"


@shared_task
def poll_due_feeds() -> int:
    """Beat: queue a poll for every feed whose interval has elapsed."""
    ids = feeds_claim_due()
    for feed_id in ids:
        enqueue(poll_feed, feed_id)
    return len(ids)
