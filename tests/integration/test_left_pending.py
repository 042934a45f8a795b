"""A story a crash left pending, with a broker (issue #15): a worker starting
re-queues it (newsgraph/celery.py), as beat's periodic sweep does later
(tests/integration/test_compose.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article
from articles.services import article_ingest
from tests.integration.helpers import wait_extracted
from tests.integration.stories import GENEVA_ADMIN

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def test_a_worker_starting_requeues_a_story_a_crash_left_pending(start_worker, broker):
    # Stored, but the process died before publishing its extraction: no
    # message anywhere, and beat's next sweep is minutes away.
    article = article_ingest(**GENEVA_ADMIN, enqueue=False).article
    Article.objects.filter(pk=article.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert broker.queue_lengths() == {"extraction": 0, "default": 0}

    worker = start_worker("restarted")

    wait_extracted([article.id], [worker])
    assert worker.lines(r"sweep: re-queueing 1 pending stories")
