"""SPEC: the number of queries per page is constant, whatever the page shows."""

import pytest
from django.core.cache import caches

from newsgraph.browse import search as article_selectors
from tests.browse.pages import one, parse, stories
from tests.factories import AliasFactory, ArticleFactory, EntityFactory, MentionFactory

pytestmark = pytest.mark.django_db

# Generous enough for session, form choices (sources, and since issue #12 the
# languages stored), entity card, trending, did-you-mean; the point of these
# tests is that the count does not grow with the stories.
MAX_QUERIES = 12


def corpus(stories_count: int) -> None:
    """Adds stories_count stories, each about Iran and five people."""
    from entities.models import Entity

    iran = Entity.objects.filter(name="Iran").first()
    if iran is None:
        iran = EntityFactory(name="Iran", type="GPE", specificity=1.0)
        AliasFactory(name="Persia", entity=iran)
        AliasFactory(name="Islamic Republic", entity=iran)
    start = iran.mentions.count()
    iran.story_count = start + stories_count
    iran.save()
    for i in range(start, start + stories_count):
        article = ArticleFactory(title=f"Pipeline story {i}", text=f"Iran and a pipeline {i}.")
        MentionFactory(article=article, entity=iran, stars=1 + i % 4, score=float(i))
        for j in range(5):
            entity = EntityFactory(name=f"Person {i}-{j}", type="PERSON", story_count=1)
            AliasFactory(name=f"Alias {i}-{j}", entity=entity)
            MentionFactory(article=article, entity=entity, stars=1 + j % 4)


def count_queries(client, django_assert_max_num_queries, path, params, expected_stories):
    caches["pages"].clear()  # what a page costs when nothing of it is cached
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        page = parse(client.get(path, params))
    assert len(stories(page)) == expected_stories
    if path.startswith("/articles/"):
        assert len(page.xpath("//ul[@class='about-list']/li")) == 6
    return len(captured)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="latest"),
        pytest.param({"q": "Iran"}, id="entity"),
        pytest.param({"q": "persia", "about": "stars"}, id="entity-by-alias"),
        pytest.param({"q": "pipeline"}, id="text"),
        pytest.param({"q": "pipeline", "type": "PERSON", "date_from": "2000-01-01"}, id="filters"),
    ],
)
def test_search_page_queries_do_not_grow_with_the_stories(
    client, django_assert_max_num_queries, params, monkeypatch
):
    # "Did you mean" (one query) is only looked up when fewer than a page of
    # stories match; it is not what this test compares.
    monkeypatch.setattr(article_selectors, "nearest_entities", lambda q: [])
    corpus(3)
    few = count_queries(client, django_assert_max_num_queries, "/", params, 3)
    corpus(22)  # 25 stories: a full page of 20
    many = count_queries(client, django_assert_max_num_queries, "/", params, 20)
    assert few == many


def test_second_page_costs_the_same(client, django_assert_max_num_queries):
    corpus(25)
    first = count_queries(client, django_assert_max_num_queries, "/", {"q": "pipeline"}, 20)
    second = count_queries(
        client, django_assert_max_num_queries, "/", {"q": "pipeline", "page": 2}, 5
    )
    assert first == second


def test_entity_card_costs_the_same_with_many_aliases(client, django_assert_max_num_queries):
    corpus(3)
    few = count_queries(client, django_assert_max_num_queries, "/", {"q": "Iran"}, 3)
    iran = one(parse(client.get("/", {"q": "Iran"})), ".entity-card")
    assert "Persia" in iran.text_content()
    from entities.models import Entity

    for i in range(10):
        AliasFactory(name=f"Iran alias {i}", entity=Entity.objects.get(name="Iran"))
    assert few == count_queries(client, django_assert_max_num_queries, "/", {"q": "Iran"}, 3)


def test_story_page_queries_do_not_grow_with_its_entities(client, django_assert_max_num_queries):
    corpus(1)
    small = ArticleFactory()
    for _ in range(6):
        MentionFactory(article=small, entity=EntityFactory())
    big = ArticleFactory()
    for _ in range(40):
        MentionFactory(article=big, entity=EntityFactory())
    counts = []
    for article in (small, big):
        with django_assert_max_num_queries(MAX_QUERIES) as captured:
            response = client.get(f"/articles/{article.pk}/")
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
