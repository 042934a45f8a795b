"""Search as people type (SPEC §13): acronyms stay acronyms, short words are
not stemmed, real words still are, and an entity's other stories are those
naming it as written; on both databases."""

import pytest

from tests.browse.pages import one, parse, text, titles
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


# --- names as people type them ------------------------------------------------


@pytest.fixture
def people():
    sudani = EntityFactory(name="Mohammed al-Sudani", type="PERSON", story_count=12)
    leyen = EntityFactory(name="Ursula von der Leyen", type="PERSON", story_count=30)
    EntityFactory(name="Leyen Shipping", type="ORG", story_count=2)
    john = EntityFactory(name="John Smith", type="PERSON", story_count=9)
    adam = EntityFactory(name="Adam Smith", type="PERSON", story_count=7)
    for entity in (sudani, leyen, john, adam):
        MentionFactory(article=story(f"About {entity.name}"), entity=entity, stars=3)
    return {"sudani": sudani, "leyen": leyen, "john": john, "adam": adam}


@pytest.mark.parametrize(
    ("q", "who"),
    [
        ("Sudani", "sudani"),
        ("al-Sudani", "sudani"),
        ("al Sudani", "sudani"),
        ("Leyen", "leyen"),
        ("von der Leyen", "leyen"),
        ("Ursula von der Leyen", "leyen"),
    ],
)
def test_a_word_of_a_name_lands_on_the_entity_that_owns_it(client, people, q, who):
    body = client.get("/api/search/", {"q": q}).json()
    assert body["entity"]["name"] == people[who].name
    page = parse(client.get("/", {"q": q}))
    assert titles(page)[0] == f"About {people[who].name}"
    assert "Did you mean" not in text(page)


def test_a_word_several_entities_share_offers_them_by_stories(client, people):
    page = parse(client.get("/", {"q": "Smith"}))
    assert client.get("/api/search/", {"q": "Smith"}).json()["entity"] is None
    offered = [text(a) for a in page.xpath("//section[@class='candidates']//li/a")]
    assert offered == ["John Smith", "Adam Smith"]


def test_a_word_landing_also_lists_stories_with_the_word_as_typed(client, people):
    story("Sudani in passing", "Sudani spoke on Monday.")
    page = parse(client.get("/", {"q": "Sudani"}))
    assert titles(page) == ["About Mohammed al-Sudani", "Sudani in passing"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Sudani", ["Mohammed al-Sudani"]),
        ("sud", ["Mohammed al-Sudani"]),
        ("al-Sud", ["Mohammed al-Sudani"]),
        ("Leyen", ["Ursula von der Leyen", "Leyen Shipping"]),
        ("der Le", ["Ursula von der Leyen"]),
        ("Smi", ["John Smith", "Adam Smith"]),
        ("mith", []),
    ],
)
def test_suggestions_match_any_word_start_by_stories(client, people, q, expected):
    names = [r["name"] for r in client.get("/api/suggest/", {"q": q}).json()["results"]]
    assert names == expected
    names = [r["name"] for r in client.get("/suggest/", {"q": q}).json()["results"]]
    assert names == expected


def test_suggestions_match_words_of_aliases(client, people):
    AliasFactory(entity=people["sudani"], name="Abu Haidar")
    names = [r["name"] for r in client.get("/api/suggest/", {"q": "haid"}).json()["results"]]
    assert names == ["Mohammed al-Sudani"]


# --- the type filter narrows entities, not stories ---------------------------


@pytest.fixture
def iran_and_a_person():
    iran = EntityFactory(name="Iran", type="GPE", story_count=3)
    nima = EntityFactory(name="Ali Nima", type="PERSON", story_count=1)
    for n in range(3):
        article = story(f"Iran story {n}", "Tehran said so.")
        MentionFactory(article=article, entity=iran, stars=3)
        if n == 1:
            MentionFactory(article=article, entity=nima, stars=2)
    return iran, nima


def about_names(page) -> list[str]:
    return [text(a) for a in page.xpath("//article[contains(@class,'story')]//li/a")]


def test_the_type_filter_keeps_every_story_and_narrows_the_about_lists(client, iran_and_a_person):
    page = parse(client.get("/", {"type": "PERSON"}))
    assert len(titles(page)) == 3
    assert about_names(page) == ["Ali Nima"]


def test_a_name_of_another_type_is_searched_as_words(client, iran_and_a_person):
    body = client.get("/api/search/", {"q": "Iran", "type": "PERSON"}).json()
    assert body["entity"] is None and body["total"] == 3
    page = parse(client.get("/", {"q": "Iran", "type": "PERSON"}))
    heading = text(one(page, "#results-heading"))
    assert "3 stories matching" in heading and "about" not in heading
    assert "Entities shown: Person only" in text(page)


def test_a_name_of_the_type_keeps_its_card(client, iran_and_a_person):
    body = client.get("/api/search/", {"q": "Iran", "type": "GPE"}).json()
    assert body["entity"]["name"] == "Iran" and body["total"] == 3


def test_the_type_filter_narrows_suggestions(client, people):
    rows = client.get("/api/suggest/", {"q": "Leyen", "type": "ORG"}).json()["results"]
    assert [r["name"] for r in rows] == ["Leyen Shipping"]


def test_the_type_filter_says_what_it_does(client):
    page = parse(client.get("/"))
    assert "never hides stories" in text(one(page, "#type-help"))
    assert one(page, "select[name=type]").get("aria-describedby") == "type-help"


@pytest.mark.parametrize("popular", [2000, 1])
def test_suggestions_rank_the_same_from_the_most_read_names_or_the_word_index(
    people, monkeypatch, popular
):
    """A start with enough of the most-read names is answered from them, a
    rarer one (here: with only the single most-read entity looked at) from
    the word indexes; both rank alike."""
    from entities import namewords
    from entities.namewords import suggested

    monkeypatch.setattr(namewords, "POPULAR", popular)

    AliasFactory(entity=people["adam"], name="Smithy")
    assert [e.name for e in suggested("Smi", limit=2)] == ["John Smith", "Adam Smith"]
    assert [e.name for e in suggested("Leyen", limit=1)] == ["Ursula von der Leyen"]
    assert [e.name for e in suggested("smithy", limit=1)] == ["Adam Smith"]


def test_the_snippet_marks_the_acronym_not_its_look_alikes(client):
    story("Both", "US troops said they would use the base and tell us.")
    page = parse(client.get("/", {"q": "US"}))
    assert [text(m) for m in page.xpath("//article[contains(@class,'story')]//mark")] == ["US"]
