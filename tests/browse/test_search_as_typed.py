"""Search as people type (SPEC §13): acronyms stay acronyms, short words are
not stemmed, real words still are, and an entity's other stories are those
naming it as written; on both databases."""

import pytest

from tests.articles.pages import one, parse, text, titles
from tests.factories import AliasFactory, ArticleFactory, EntityFactory, MentionFactory

pytestmark = pytest.mark.django_db

# (query, a story naming it, stories with the stemmed or lower-case look-alike)
ACRONYMS = [
    ("US", "US troops left the base.", ["Officials use the base.", "They used it and told us."]),
    ("UN", "The UN council met.", ["An un-American act.", "Un peu de tout, said the chef."]),
    ("IT", "The IT budget was cut.", ["It was cut, and it hurt.", "Its budget was cut."]),
    ("AI", "AI models were trained.", ["Ai Weiwei opened a show.", "The ai of the island."]),
    ("WHO", "The WHO warned of a wave.", ["Doctors who warned of a wave.", "Who warned?"]),
]


def story(title: str, body: str = "Nothing else."):
    return ArticleFactory(title=title, text=body)


def results(client, q: str, **params) -> list[str]:
    return titles(parse(client.get("/", {"q": q, **params})))


@pytest.mark.parametrize(("q", "naming", "lookalikes"), ACRONYMS)
def test_an_acronym_finds_only_itself_in_capitals(client, q, naming, lookalikes):
    story("Naming it", naming)
    for n, body in enumerate(lookalikes):
        story(f"Look-alike {n}", body)
    assert results(client, q) == ["Naming it"]


def test_a_short_word_typed_in_lower_case_is_not_stemmed(client):
    story("Pronoun", "They told us the plan.")
    story("Verb", "They use the plan.")
    assert results(client, "us") == ["Pronoun"]


def test_a_real_word_still_stems(client):
    story("Singular", "A tariff on steel.")
    story("Plural", "Tariffs on steel.")
    story("Unrelated", "Steel prices.")
    assert sorted(results(client, "tariffs")) == ["Plural", "Singular"]


def test_an_acronym_with_other_words(client):
    story("Both", "US tariffs on steel.")
    story("Stemmed look-alike", "They use tariffs on steel.")
    assert results(client, "US tariffs") == ["Both"]


@pytest.fixture
def united_states():
    entity = EntityFactory(name="United States", type="GPE", story_count=1)
    AliasFactory(entity=entity, name="US")
    return entity


def test_an_acronym_lists_only_stories_naming_the_entity(client, united_states):
    about = story("About the United States", "Washington said so.")
    MentionFactory(article=about, entity=united_states, stars=3)
    story("Says US without a mention", "US officials met.")
    story("Says United States without a mention", "The United States embassy met.")
    story("Says use", "They use the embassy and told us.")
    page = parse(client.get("/", {"q": "US"}))
    assert titles(page)[0] == "About the United States"
    assert sorted(titles(page)[1:]) == [
        "Says US without a mention",
        "Says United States without a mention",
    ]
    heading = text(one(page, "#results-heading"))
    assert "1 story about “US”" in heading and "2 more mentioning it" in heading


def test_the_api_counts_the_same(client, united_states):
    MentionFactory(article=story("About", "Washington."), entity=united_states)
    story("Says US", "US officials met.")
    story("Says use", "They use it.")
    body = client.get("/api/search/", {"q": "US"}).json()
    assert body["total"] == 2
