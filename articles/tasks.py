import logging

from celery import shared_task
from django.db import OperationalError

from articles.models import Article
from articles.services import articles_enqueue_extraction, feed_poll, feeds_claim_due
from entities.services import articles_extract
from newsgraph.queue import enqueue

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def extract_articles(article_ids: list[int]) -> dict:
    if len(article_ids) > 1 and Article.objects.filter(id__in=article_ids, attempts__gt=0).exists():
        # A run of this batch died before finishing (finished runs give their
        # attempt back): retry story by story, so one story that kills the
        # worker uses up only its own attempts, not its neighbours'.
        logger.warning("batch %s was interrupted before; splitting it", article_ids)
        for article_id in article_ids:
            enqueue(extract_articles, [article_id])
        return {"extracted": 0, "failed": 0, "split": len(article_ids)}
    report = articles_extract(article_ids=article_ids)
    return {"extracted": len(report.extracted), "failed": len(report.failed)}


@shared_task
def sweep_pending_articles(limit: int = 5000) -> int:
    """Close the lost-enqueue gap: re-queue stories still pending."""
    ids = list(Article.objects.pending().order_by("id").values_list("id", flat=True)[:limit])
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
        poll_feed.delay(feed_id)
    return len(ids)
