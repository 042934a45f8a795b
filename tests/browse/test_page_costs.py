"""Issue #6: what keeps the entity page and the ranked lists cheap at 100k stories
(queries per page constant, Mention.published_at in sync, bounded text ranking)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import caches

from articles import textsearch
from entities.models import Mention
from newsgraph.browse import pages as article_selectors
from tests.browse.pages import parse, stories, text
from tests.entities.conftest import SUDANI
from tests.factories import AliasFactory, ArticleFactory, EntityFactory, MentionFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2025, 2, 3, 12, tzinfo=UTC)


def add_stories(iran, count: int, *, start: int = 0) -> None:
    for i in range(start, start + count):
        article = ArticleFactory(
            title=f"Pipeline story {i}",
            text=f"Iran and a pipeline {i}.",
            published_at=MONDAY + timedelta(days=i),
        )
        MentionFactory(article=article, entity=iran, stars=1 + i % 4, score=float(i))
        for j in range(5):
            other = EntityFactory(name=f"Person {i}-{j}", type="PERSON", story_count=1)
            AliasFactory(name=f"Alias {i}-{j}", entity=other)
            MentionFactory(article=article, entity=other, stars=1 + j % 4)


@pytest.mark.parametrize("params", [{}, {"order": "date"}, {"page": 2}])
def test_entity_page_queries_do_not_grow_with_its_stories(
    client, django_assert_max_num_queries, params
):
    iran = EntityFactory(name="Iran", type="GPE", story_count=3)
    add_stories(iran, 3)
    with django_assert_max_num_queries(12) as few:
        response = client.get(iran.get_absolute_url(), {"page": 1, **params})
    assert response.status_code == 200
    add_stories(iran, 40, start=3)
    caches["pages"].clear()  # the chart and related entities computed again, too
    with django_assert_max_num_queries(12) as many:
        page = parse(client.get(iran.get_absolute_url(), params))
    assert len(stories(page)) == 20
    assert len(few) == len(many)


def test_mentions_carry_their_story_date_from_extraction(ingest_story):
    article = ingest_story(*SUDANI, published_at="2025-02-05T08:00:00+00:00")
    dates = set(Mention.objects.filter(article=article).values_list("published_at", flat=True))
    assert dates == {article.published_at}


def test_changing_a_story_date_in_the_admin_reorders_entity_lists(admin_client):
    iran = EntityFactory(name="Iran", type="GPE")
    old = ArticleFactory(published_at=MONDAY)
    new = ArticleFactory(published_at=MONDAY + timedelta(days=7))
    for article in (old, new):
        MentionFactory(article=article, entity=iran, stars=2, score=1.0)

    def newest_first():
        page = article_selectors.entity_stories(entity=iran, order="date")
        return [a.pk for a in page.object_list]

    assert newest_first() == [new.pk, old.pk]
    response = admin_client.post(
        f"/admin/articles/article/{old.pk}/change/",
        {
            "title": old.title,
            "source": old.source_id,
            "published_at_0": "2025-03-01",
            "published_at_1": "09:00:00",
            "text": old.text,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Mention.objects.get(article=old).published_at == datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert newest_first() == [old.pk, new.pk]


def test_text_search_ranks_a_bounded_candidate_set(client, monkeypatch):
    for i in range(5):
        ArticleFactory(title=f"Pipeline talks {i}", text="The pipeline talks went on.")
    page = parse(client.get("/", {"q": "pipeline"}))
    assert len(stories(page)) == 5
    assert "5 stories matching" in text(page)

    monkeypatch.setattr(textsearch, "TEXT_CANDIDATES", 3)
    page = parse(client.get("/", {"q": "pipeline"}))
    titles = [text(s.xpath(".//h2")[0]) for s in stories(page)]
    # The three most recently added matches are ranked; the count says there are more.
    assert sorted(titles) == ["Pipeline talks 2", "Pipeline talks 3", "Pipeline talks 4"]
    assert "3+ stories matching" in text(page)
    api = client.get("/api/search/", {"q": "pipeline"}).json()
    assert (api["total"], api["total_is_capped"]) == (3, True)


def test_entity_search_counts_text_only_matches_among_the_candidates(client, monkeypatch):
    iran = EntityFactory(name="Iran", type="GPE", story_count=2)
    for i in range(2):
        article = ArticleFactory(title=f"Iran story {i}", text="Iran said so.")
        MentionFactory(article=article, entity=iran)
    for i in range(3):
        ArticleFactory(title=f"Oil story {i}", text="Traders watched Iran.")
    heading = parse(client.get("/", {"q": "Iran"})).xpath("//h2[@id='results-heading']")[0]
    assert "2 stories about" in text(heading) and "3 more mentioning it" in text(heading)

    monkeypatch.setattr(textsearch, "TEXT_CANDIDATES", 2)
    page = parse(client.get("/", {"q": "Iran"}))
    heading = page.xpath("//h2[@id='results-heading']")[0]
    assert "2 stories about" in text(heading) and "2+ more mentioning it" in text(heading)
    titles = [text(s.xpath(".//h2")[0]) for s in stories(page)]
    assert sorted(titles[:2]) == ["Iran story 0", "Iran story 1"]
    assert sorted(titles[2:]) == ["Oil story 1", "Oil story 2"]


# --- issue #14: counts and charts whose cost does not grow with the corpus -------------


def test_beyond_the_count_cap_an_entity_list_counts_its_rescored_stories(client, monkeypatch):
    from newsgraph.browse import ranking

    iran = EntityFactory(name="Iran", type="GPE")
    add_stories(iran, 5)
    monkeypatch.setattr(ranking, "COUNT_CAP", 3)
    # Rescoring keeps the figure; the page does not count 5 mentions past the cap.
    iran.story_count = 5
    iran.save()
    heading = text(parse(client.get("/", {"q": "Iran"})).xpath("//h2[@id='results-heading']")[0])
    assert heading.startswith("5 stories about")

    # Under the cap, the mentions are counted as they are (no rescoring needed).
    iran.story_count = 0
    iran.save()
    monkeypatch.setattr(ranking, "COUNT_CAP", 10)
    heading = text(parse(client.get("/", {"q": "Iran"})).xpath("//h2[@id='results-heading']")[0])
    assert heading.startswith("5 stories about")


def test_the_latest_stories_are_counted_up_to_a_cap(client, settings, monkeypatch):
    from newsgraph.browse import search

    for i in range(5):
        ArticleFactory(title=f"Story {i}", published_at=MONDAY + timedelta(days=i))
    settings.SEARCH_PAGE_SIZE = 2
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    page = parse(client.get("/"))
    assert "Page 1 of 2+" in text(page.xpath("//nav[@class='pagination']")[0])
    api = client.get("/api/search/").json()
    assert (api["total"], api["total_is_capped"]) == (4, True)

    monkeypatch.setattr(search, "COUNT_CAP", 10)
    assert "Page 1 of 3" in text(parse(client.get("/")).xpath("//nav[@class='pagination']")[0])
    assert client.get("/api/search/").json()["total_is_capped"] is False


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_the_weekly_chart_shows_the_newest_weeks_in_any_time_zone(settings, zone):
    """The rows are read from the chart's own weeks only (a bounded index
    range, whichever branch of _week_rows runs); what shows is unchanged."""
    from entities import selectors

    settings.TIME_ZONE = zone
    iran = EntityFactory(name="Iran", type="GPE")
    add_stories(iran, 3)  # three days in the week of 3 February 2025
    old = ArticleFactory(published_at=MONDAY - timedelta(weeks=300))
    MentionFactory(article=old, entity=iran)
    weeks = selectors.weekly_counts(iran, max_weeks=4)
    assert [w.stories for w in weeks] == [3]
    assert weeks[0].week.isoformat() == "2025-02-03"


def test_a_rule_finds_the_stories_with_a_hyphenated_name():
    """What an alias or block rule looks at again: every story containing the
    name as written, hyphenated or not (PostgreSQL parses "Quispe-Iqbal" as
    one word and its parts)."""
    from articles.textsearch import article_ids_containing

    hyphen = ArticleFactory(text="Tomas Quispe-Iqbal said the port would reopen.")
    ArticleFactory(text="Tomas Quispe spoke; Iqbal did not.")
    title = ArticleFactory(title="Quispe-Iqbal resigns", text="No comment.")
    assert sorted(article_ids_containing("Quispe-Iqbal")) == sorted([hyphen.id, title.id])
    assert article_ids_containing("Tomas Quispe-Iqbal") == [hyphen.id]


def test_a_process_without_rescoring_state_counts_the_stories_once_per_corpus_version():
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from entities import scoring, selectors
    from newsgraph.infra import pagecache

    add_stories(EntityFactory(name="Iran", type="GPE", story_count=3), 3)
    cache.delete(scoring.RESCORE_STATE_KEY)  # a web process that never saw a pass

    def scored() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ran:
            n = selectors.scored_stories()
        return n, len(ran.captured_queries)

    assert scored() == (3, 1)
    assert scored() == (3, 0)  # the pages of that version do not count again
    ArticleFactory(title="One more")
    pagecache.bump(pagecache.CORPUS)  # as ingestion does
    assert scored() == (4, 1)
