"""The seam where stories hand over to entity extraction.

Stories (`articles/`) know nothing of entities. When a story is stored, or an
editor asks for a story to be read again, ingest asks for extraction by the
Celery task *names* below; `entities/tasks.py` registers tasks under exactly
these names. With a broker the task runs in a worker; in the embedded default
(no broker) Celery runs it in-process. Nothing here imports `entities`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from newsgraph.infra.queue import enqueue, task_named

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
        enqueue(EXTRACT_TASK, ids[start : start + size])


def extract_here(*, article_ids: Sequence[int]) -> dict:
    """Extract in this process, now, without scheduling a rescoring (bulk
    ingest in the embedded default rescores once at the end)."""
    return task_named(EXTRACT_TASK)(list(article_ids), rescore=False)


def rescore_here() -> dict:
    return task_named(RESCORE_ALL_TASK)()
