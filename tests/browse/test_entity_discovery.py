"""Discovery: suggestions while typing, "did you mean", trending entities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from entities import selectors
from entities.scoring import rescore_all
from newsgraph.browse import suggestions as article_selectors
from tests.factories import ArticleFactory, EntityFactory, MentionFactory

NOW = datetime(2025, 3, 31, 12, tzinfo=UTC)


def story(when: datetime, *entities):
    article = ArticleFactory(published_at=when)
    for entity in entities:
        MentionFactory(article=article, entity=entity)
    return article


@pytest.mark.django_db
def test_suggest_endpoint_matches_prefixes_aliases_and_inner_words(client):
    sudani = EntityFactory(name="Mohammed al-Sudani", type="PERSON")
    sudani.aliases.create(name="Sudani")
    mohammed = EntityFactory(name="Mohammed bin Salman", type="PERSON")
    unused = EntityFactory(name="Mohammed Nobody", type="PERSON")  # no stories
    for _ in range(3):
        story(NOW, sudani)
    story(NOW, mohammed)
    rescore_all()

    results = client.get("/suggest/", {"q": "moha"}).json()["results"]
    assert [r["name"] for r in results] == ["Mohammed al-Sudani", "Mohammed bin Salman"]
    assert results[0] == {
        "name": "Mohammed al-Sudani",
        "type": "PERSON",
        "type_label": "Person",
        "stories": 3,
        "url": sudani.get_absolute_url(),
    }
    assert [r["name"] for r in client.get("/suggest/", {"q": "sudan"}).json()["results"]] == [
        "Mohammed al-Sudani"
    ]
    assert [r["name"] for r in client.get("/suggest/", {"q": "salm"}).json()["results"]] == [
        "Mohammed bin Salman"
    ]
    assert unused.name not in str(client.get("/suggest/", {"q": "mohammed"}).json())
    assert client.get("/suggest/", {"q": ""}).json() == {"results": []}
    assert client.get("/suggest/", {"q": "%_*\"'"}).json() == {"results": []}


@pytest.mark.django_db
def test_did_you_mean_finds_near_misses(client):
    tehran = EntityFactory(name="Tehran", type="GPE")
    story(NOW, tehran)
    story(NOW, EntityFactory(name="Tel Aviv", type="GPE"))
    rescore_all()
    assert tehran in article_selectors.nearest_entities("Tehram")
    assert tehran in article_selectors.nearest_entities("tehrn")
    assert article_selectors.nearest_entities("zzzzqqq") == []
    html = client.get("/", {"q": "Tehram"}).content.decode()
    assert "Did you mean" in html and "?q=Tehran" in html


@pytest.mark.django_db
def test_trending_is_distinctive_this_week_against_the_baseline():
    steady = EntityFactory(name="United States", type="GPE")
    burst = EntityFactory(name="Greenland", type="GPE")
    once = EntityFactory(name="Once", type="PERSON")
    blocked = EntityFactory(name="Junk", type="ORG", blocked=True)
    # Eight earlier weeks: "United States" in half the stories, Greenland in none.
    for week in range(1, 9):
        for i in range(4):
            when = NOW - timedelta(weeks=week, days=i)
            story(when, steady) if i % 2 else story(when)
    # This week: the usual share of "United States", and a Greenland burst.
    for i in range(6):
        when = NOW - timedelta(days=i % 6, hours=1)
        entities = [steady] if i % 2 else []
        entities += [burst, blocked] if i < 4 else []
        story(when, *entities)
    story(NOW, once)
    rescore_all()  # the baseline comes from the story counts rescoring keeps
    trending = selectors.trending_entities()
    names = [e.name for e in trending]
    assert names[0] == "Greenland"
    assert trending[0].week == 4
    assert "United States" not in names  # frequent, but not more than usual
    assert "Once" not in names  # below the minimum support
    assert "Junk" not in names


@pytest.mark.django_db
def test_trending_without_history_ranks_the_window_alone():
    a, b = EntityFactory(name="A"), EntityFactory(name="B")
    for i in range(5):
        story(NOW - timedelta(days=i), a, *([b] if i < 2 else []))
    names = [e.name for e in selectors.trending_entities()]
    assert names == ["A", "B"]
    assert selectors.trending_entities(limit=1)[0].name == "A"


@pytest.mark.django_db
def test_trending_of_an_empty_corpus_is_empty():
    assert selectors.trending_entities() == []


@pytest.mark.django_db
def test_trending_is_cached_until_new_stories_arrive(run_on_commit, django_assert_num_queries):
    a = EntityFactory(name="A")
    for i in range(3):
        story(NOW - timedelta(days=i), a)
    assert [e.name for e in selectors.trending_entities()] == ["A"]
    with django_assert_num_queries(0):
        assert [e.name for e in selectors.trending_entities()] == ["A"]
    b = EntityFactory(name="B")
    with run_on_commit():
        for i in range(4):
            story(NOW - timedelta(hours=i), b)
    assert "B" in [e.name for e in selectors.trending_entities()]
