"""The seam where stories hand over to entity extraction.

Stories (`articles/`) know nothing of entities. When a story is stored, or an
editor asks for a story to be read again, ingest asks for extraction by the
Celery task *names* below; `entities/tasks.py` registers tasks under exactly
these names. With a broker the task runs in a worker; in the embedded default
(no broker) it runs in this process after commit, and a story whose
extraction raises ends *failed* with the reason, never left pending. Nothing
here imports `entities`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction

from articles.models import Article
from newsgraph.infra.failures import failure_reason, is_store_failure
from newsgraph.infra.queue import enqueue, task_named

logger = logging.getLogger(__name__)

# extract_articles(article_ids: list[int], rescore: bool = True) -> dict with
# "extracted", "failed" and "mentions" counts; a failed story says why in
# Article.error.
EXTRACT_TASK = "entities.extract_articles"
# rescore_all() -> dict: star scores of the whole corpus, recomputed now.
RESCORE_ALL_TASK = "entities.rescore_all"


def request_extraction(*, article_ids: Sequence[int]) -> None:
    """Queue extraction after the current transaction commits, in batches so
    the worker can use `nlp.pipe`."""
    ids = list(article_ids)
    size = settings.EXTRACTION_BATCH_SIZE
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        if settings.CELERY_TASK_ALWAYS_EAGER:
            transaction.on_commit(functools.partial(extract_here, article_ids=batch, rescore=True))
        else:
            enqueue(EXTRACT_TASK, batch)


def extract_here(*, article_ids: Sequence[int], rescore: bool = False) -> dict:
    """Extract in this process, now (bulk ingest in the embedded default
    rescores once at the end, hence no rescoring by default).

    The task reports a story it cannot read as failed; should it raise
    instead, the batch is run again story by story and the story that raises
    is marked failed with the reason. A database failure is raised.
    """
    ids = list(article_ids)
    try:
        return task_named(EXTRACT_TASK)(ids, rescore=rescore)
    except Exception as exc:
        if is_store_failure(exc):
            raise
        if len(ids) > 1:
            logger.warning("extraction raised on a batch of %d; story by story", len(ids))
            totals = {"extracted": 0, "failed": 0, "mentions": 0}
            for article_id in ids:
                result = extract_here(article_ids=[article_id], rescore=rescore)
                for key in totals:
                    totals[key] += result.get(key, 0)
            return totals
        logger.exception("extraction raised on story %s", ids[0])
        Article.objects.filter(id__in=ids, status=Article.Status.PENDING).update(
            status=Article.Status.FAILED, error=failure_reason(exc)
        )
        return {"extracted": 0, "failed": 1, "mentions": 0}


def extract_left_pending() -> int:
    """Embedded default, at start-up: extract here the stories an earlier
    process stored but never extracted (it crashed or was stopped before its
    in-process extraction ran), then rescore once. How many there were."""
    ids = list(Article.objects.pending().order_by("id").values_list("id", flat=True))
    size = settings.EXTRACTION_BATCH_SIZE
    for start in range(0, len(ids), size):
        extract_here(article_ids=ids[start : start + size])
    if ids:
        rescore_here()
    return len(ids)


def rescore_here() -> dict:
    return task_named(RESCORE_ALL_TASK)()
