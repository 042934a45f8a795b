from importlib import import_module

import pytest
from django.core.cache import caches

from articles.services import article_ingest


@pytest.fixture(autouse=True)
def _empty_cache():
    """The cache (rescoring state, debounce flags, cached pages parts)
    outlives a test in the process; each test starts without it."""
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def editor_groups(db):
    """The groups *Editors* and *Viewers* of the data migration; made again
    after a transactional test flushed the database."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    if Group.objects.filter(name__in=["Editors", "Viewers"]).count() < 2:
        import_module("entities.migrations.0011_editor_and_viewer_groups").create_groups(apps)
    return {group.name: group for group in Group.objects.filter(name__in=["Editors", "Viewers"])}


@pytest.fixture
def ingest_story(db, django_capture_on_commit_callbacks):
    """Ingest a story for real: stored, extracted by spaCy, rescored."""
    counter = iter(range(1, 10_000))

    def ingest(title: str, text: str, *, url: str | None = None, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            result = article_ingest(
                url=url or f"https://news.example.com/world/2025/02/story-{next(counter)}/",
                title=title,
                text=text,
                **fields,
            )
        result.article.refresh_from_db()
        return result.article

    return ingest


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what a block of code queued with on_commit, as the eager broker would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
