"""The extraction task's crash handling, run eagerly (no broker)."""

import pytest

from articles.models import Article
from articles.services import article_ingest
from articles.tasks import sweep_pending_articles
from entities.tasks import extract_articles

STORIES = [
    (
        "Oslo opens its new library",
        "The city of Oslo opened a library on the waterfront on Monday. "
        "Mayor Ingrid Haugen said Norway would build more.",
    ),
    (
        "Lisbon trams return",
        "Trams returned to the hills of Lisbon after repairs. "
        "Portugal paid for new brakes, said Rui Costa of the transport board.",
    ),
    (
        "Kenya plants forests",
        "Kenya planted a million trees near Nairobi, said Grace Wanjiru, "
        "who leads the Kenya Forest Service.",
    ),
]


@pytest.fixture
def pending(db):
    return [
        article_ingest(
            url=f"https://news.example.org/world/2025/03/story-{n}/",
            title=title,
            text=text,
            enqueue=False,
        ).article
        for n, (title, text) in enumerate(STORIES)
    ]


def test_a_story_extracted_again_and_again_is_never_failed(pending, settings):
    ids = [a.id for a in pending]
    for _ in range(settings.EXTRACTION_MAX_ATTEMPTS + 2):  # sweeps of a backlog
        extract_articles(ids)
    statuses = set(Article.objects.filter(id__in=ids).values_list("status", "attempts"))
    assert statuses == {(Article.Status.EXTRACTED, 0)}


def test_an_interrupted_batch_is_retried_story_by_story(
    pending, django_capture_on_commit_callbacks
):
    poison = pending[0]
    # A worker died on this batch: the story it was on kept its attempt.
    Article.objects.filter(pk=poison.pk).update(attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = extract_articles([a.id for a in pending])
    assert result == {"extracted": 0, "failed": 0, "split": 3}
    # Each story ran as its own task, and finished.
    assert set(Article.objects.values_list("status", "attempts")) == {(Article.Status.EXTRACTED, 0)}


def test_a_story_that_keeps_killing_workers_is_marked_failed(pending, settings):
    story = pending[0]
    Article.objects.filter(pk=story.pk).update(attempts=settings.EXTRACTION_MAX_ATTEMPTS)
    extract_articles([story.id])
    story.refresh_from_db()
    assert story.status == Article.Status.FAILED
    assert story.error == f"gave up after {settings.EXTRACTION_MAX_ATTEMPTS} attempts"


def test_the_sweep_queues_only_pending_stories(pending, django_capture_on_commit_callbacks):
    extract_articles([pending[0].id])
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_pending_articles() == 2
    assert set(Article.objects.values_list("status", flat=True)) == {Article.Status.EXTRACTED}
