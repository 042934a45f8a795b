"""At-least-once delivery (SPEC §9): a worker killed mid-extraction loses nothing.

`acks_late` keeps the message unacknowledged while the task runs;
`task_reject_on_worker_lost` puts it back when the pool child dies; when the
whole worker dies, Redis hands the message out again after the visibility
timeout. Extraction replaces a story's mentions atomically, so the second run
leaves exactly one mention per entity.
"""

from __future__ import annotations

import re
import time

import pytest

from articles.models import Article
from articles.services import article_ingest
from tests.integration.helpers import assert_mentions_consistent, wait_extracted
from tests.integration.processes import redis_client, wait_for
from tests.integration.stories import long_story_text

pytestmark = [pytest.mark.postgres_only, pytest.mark.integration]

# ~150k characters: spaCy needs a few seconds for it, time enough to kill the worker.
STORY_CHARS = 150_000
TASK_LINES = (
    r"^\[.*(extract_articles|WorkerLostError|exited with|SIGKILL|ready\.|Restor|"
    r"Connected to|loading spaCy)"
)


def ingest_long_story(seed: int) -> Article:
    return article_ingest(
        url=f"https://news.example.org/longreads/2025/08/inquiry-{seed}/",
        title="The ferry inquiry, day by day",
        text=long_story_text(chars=STORY_CHARS, seed=seed),
    ).article


def wait_until_running(article: Article, worker) -> None:
    """The task is in the child once it has counted its attempt (committed
    before spaCy starts)."""
    wait_for(
        lambda: (
            worker.lines(r"extract_articles\[.*\] received")
            and Article.objects.filter(pk=article.pk, attempts__gte=1).exists()
        ),
        what="the extraction to start",
        on_timeout=worker.tail,
    )
    assert Article.objects.get(pk=article.pk).status == Article.Status.PENDING


def show(title: str, *workers) -> None:
    print(f"\n=== {title} ===")
    for worker in workers:
        print(f"--- worker {worker.name} ---")
        print("\n".join(worker.lines(TASK_LINES)))


def test_sigkilled_pool_child_task_is_redelivered_and_extracted_once(start_worker):
    worker = start_worker("crash", concurrency=1)
    article = ingest_long_story(seed=1)
    wait_until_running(article, worker)
    child = worker.kill_pool_child()

    wait_extracted([article.id], [worker], timeout=90)
    article.refresh_from_db()
    show(f"pool child {child} SIGKILLed mid-extraction", worker)

    # The killed run counted an attempt; the complete run gave the budget back.
    assert article.attempts == 0
    assert article.error == ""
    entities = assert_mentions_consistent(article.id)
    assert entities > 50
    assert worker.lines(rf"pid:{child} exited with 'signal 9 \(SIGKILL\)'")
    assert worker.lines(r"WorkerLostError")
    received = worker.lines(r"extract_articles\[.*\] received")
    assert len(received) == 2, received  # the same message, delivered again
    task_ids = {re.search(r"\[([0-9a-f-]{36})\]", line).group(1) for line in received}
    assert len(task_ids) == 1
    assert len(worker.lines(r"extract_articles\[.*\] succeeded")) == 1


def test_sigkilled_worker_message_comes_back_after_the_visibility_timeout(start_worker, broker):
    visibility = 5
    doomed = start_worker("doomed", concurrency=1, visibility_timeout=visibility)
    article = ingest_long_story(seed=2)
    wait_until_running(article, doomed)
    redis = redis_client(broker.server)
    (tag, delivered_at), *_ = redis.zrange("unacked_index", 0, -1, withscores=True)
    killed = doomed.kill_everything()

    article.refresh_from_db()
    assert article.status == Article.Status.PENDING and article.attempts == 1
    assert redis.hexists("unacked", tag), "the message waits, unacknowledged, in Redis"
    assert broker.queue_lengths()["extraction"] == 0

    # kombu restores expired messages when a worker starts polling, then only
    # every unacked_restore_interval × unacked_restore_throttle (10 × 10 s):
    # start the successor once the message's visibility timeout has run out.
    wait_for(
        lambda: time.time() > delivered_at + visibility + 0.5,
        timeout=visibility + 5,
        what="the visibility timeout to expire",
    )
    successor = start_worker("successor", concurrency=1, visibility_timeout=visibility)
    wait_extracted([article.id], [doomed, successor], timeout=90)
    article.refresh_from_db()
    show(f"worker processes {killed} SIGKILLed mid-extraction", doomed, successor)

    assert article.attempts == 0  # the complete run gave the budget back
    assert_mentions_consistent(article.id)
    # Acknowledged once the task returns: just after its "succeeded" line.
    wait_for(lambda: not redis.hexists("unacked", tag), timeout=10, what="the message acked")
    assert successor.lines(r"extract_articles\[.*\] received")
    assert len(successor.lines(r"extract_articles\[.*\] succeeded")) == 1
