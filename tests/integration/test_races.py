"""Two workers extracting stories that name the same new entities at the same moment."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Count
from django.test import override_settings

from articles.services import article_ingest, articles_enqueue_extraction
from entities.models import Entity, Mention
from entities.normalize import name_key
from entities.tasks import extract_articles
from tests.integration.helpers import EXTRACT_DONE, log_lines_after, wait_extracted
from tests.integration.processes import wait_for
from tests.integration.stories import RACE_SHARED, race_story

pytestmark = [pytest.mark.postgres_only, pytest.mark.integration]

STORIES = 20
_SUCCEEDED = re.compile(r"^\[([\d-]+ [\d:,]+): .* succeeded in ([\d.]+)s")


def task_interval(line: str) -> tuple[datetime, datetime]:
    """(start, end) of a task from its "succeeded in Ns" log line."""
    stamp, seconds = _SUCCEEDED.match(line).groups()
    end = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
    return end - timedelta(seconds=float(seconds)), end


def test_two_workers_create_each_new_entity_exactly_once(start_worker, broker):
    workers = [start_worker(name, concurrency=1, wait=False) for name in ("racer-a", "racer-b")]
    for worker in workers:
        worker.wait_ready()

    # Warm up: both pool children have loaded spaCy once each has run a task.
    def both_warm() -> bool:
        if broker.queue_lengths()["extraction"] == 0:
            extract_articles.delay([])
        return all(w.lines(EXTRACT_DONE) for w in workers)

    wait_for(both_warm, interval=0.3, what="both workers to run a task", on_timeout=lambda: "")
    wait_for(lambda: broker.queue_lengths()["extraction"] == 0, what="the warm-up to drain")
    offsets = [len(w.log().splitlines()) for w in workers]

    # Twenty stories saved, then twenty one-story tasks published back to back.
    with transaction.atomic():
        ids = [article_ingest(**race_story(i), enqueue=False).article.id for i in range(STORIES)]
    assert not Entity.objects.exists()
    with override_settings(EXTRACTION_BATCH_SIZE=1):
        articles_enqueue_extraction(article_ids=ids)

    wait_extracted(ids, workers)

    def story_tasks() -> dict[str, list[str]]:
        """Each worker's log lines for the one-story tasks (not the warm-up)."""
        one_story = EXTRACT_DONE + r".*'extracted': 1,"
        return {
            w.name: log_lines_after(w, one_story, after=n)
            for w, n in zip(workers, offsets, strict=True)
        }

    wait_for(lambda: sum(map(len, story_tasks().values())) == STORIES, what="every task's log line")
    done = story_tasks()
    print(f"\nstories extracted per worker: { {name: len(v) for name, v in done.items()} }")
    assert all(done.values()), "both workers must have taken part"
    # Their first stories, where every name was new, ran at the same time.
    (a_start, a_end), (b_start, b_end) = (task_interval(lines[0]) for lines in done.values())
    print(f"first tasks: {a_start:%H:%M:%S.%f}–{a_end:%S.%f}, {b_start:%H:%M:%S.%f}–{b_end:%S.%f}")
    assert a_start < b_end and b_start < a_end, "the first extractions did not overlap"

    duplicates = list(
        Entity.objects.values("key").annotate(n=Count("id")).filter(n__gt=1).values("key", "n")
    )
    assert not duplicates, f"entities created twice: {duplicates}"
    for name in RACE_SHARED:
        entity = Entity.objects.get(key=name_key(name))
        assert Mention.objects.filter(entity=entity).count() == STORIES, name
    assert Mention.objects.values("article").distinct().count() == STORIES
    for worker in workers:
        assert not worker.lines(r"IntegrityError|Traceback|ERROR/"), worker.tail()
