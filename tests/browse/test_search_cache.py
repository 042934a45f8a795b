"""Text-search counts are shared between requests (pagecache.CORPUS)
and must follow the corpus: a story added, extracted or deleted shows up in
the next search's count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article
from tests.browse.pages import one, parse, text, titles

pytestmark = pytest.mark.django_db

STORY = "Engineers inspected the pipeline near Basra on {day}.\n\nThe pipeline carries crude oil."


def heading(client, q: str) -> str:
    return text(one(parse(client.get("/", {"q": q})), "#results-heading"))


def test_a_new_story_counts_at_once(client, ingest_story):
    ingest_story("Pipeline inspected", STORY.format(day="Monday"))
    ingest_story("Pipeline inspected again", STORY.format(day="Tuesday"))
    assert heading(client, "crude").startswith("2 stories matching")
    assert heading(client, "crude").startswith("2 stories matching")  # from the cache
    ingest_story("Pipeline reopened", STORY.format(day="Friday"))
    assert heading(client, "crude").startswith("3 stories matching")


def test_a_deleted_story_stops_counting(client, ingest_story, run_on_commit):
    first = ingest_story("Pipeline inspected", STORY.format(day="Monday"))
    ingest_story("Pipeline inspected again", STORY.format(day="Tuesday"))
    assert heading(client, "crude").startswith("2 stories matching")
    with run_on_commit():
        Article.objects.get(pk=first.pk).delete()
    assert heading(client, "crude").startswith("1 story matching")


def test_a_repeated_text_search_reuses_its_ranking_and_follows_the_corpus(client, ingest_story):
    ingest_story("Pipeline inspected", STORY.format(day="Monday"))
    ingest_story("Pipeline inspected again", STORY.format(day="Tuesday"))
    first = titles(parse(client.get("/", {"q": "crude"})))
    with CaptureQueriesContext(connection) as fresh:
        client.get("/", {"q": "crude"})
    assert not any("bm25" in q["sql"] or "ts_rank" in q["sql"] for q in fresh.captured_queries)
    assert titles(parse(client.get("/", {"q": "crude"}))) == first
    ingest_story("Pipeline reopened", STORY.format(day="Friday"))
    assert "Pipeline reopened" in titles(parse(client.get("/", {"q": "crude"})))


NO_PAGE_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Nothing listens on the discard port: every cache call fails at once.
    "pages": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
    },
}


def test_an_unreachable_page_cache_loses_nothing(client, ingest_story, settings):
    settings.CACHES = NO_PAGE_CACHE
    sudani = ingest_story(
        "Sudani meets envoys", "Prime Minister Mohammed al-Sudani met envoys in Baghdad."
    )
    assert Article.objects.filter(pk=sudani.pk, status="extracted").exists()
    assert heading(client, "envoys").startswith("1 story matching")
    entity = sudani.mentions.select_related("entity").first().entity
    assert client.get(entity.get_absolute_url()).status_code == 200
