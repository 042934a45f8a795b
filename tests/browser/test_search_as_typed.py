"""Search as people type (SPEC §13) in headless Chromium: acronyms stay
acronyms, and a surname or a word of a name lands on its entity (typed in the
box, picked from the suggestions, or offered among candidates)."""

from __future__ import annotations

import re

import pytest

from tests.factories import AliasFactory, ArticleFactory, EntityFactory, MentionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (acronym, the entity's name, a story naming it in capitals, look-alikes)
ACRONYMS = [
    ("US", "United States", "US troops left the base.", ["Officials use the base.", "Tell us."]),
    ("UN", "United Nations", "The UN council met.", ["An un-American act.", "Un peu, dit-il."]),
    ("IT", "Information technology", "The IT budget was cut.", ["It was cut, and it hurt."]),
    ("AI", "Artificial intelligence", "AI models were trained.", ["Ai Weiwei opened a show."]),
    ("WHO", "World Health Organization", "The WHO warned of a wave.", ["Doctors who warned."]),
]


def search(page, live_server, q: str) -> list[str]:
    page.goto(live_server.url + "/")
    page.fill("#q", q)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"\?q="))
    return page.locator("article.story .story-title").all_inner_texts()


@pytest.mark.parametrize(("acronym", "name", "naming", "lookalikes"), ACRONYMS)
def test_an_acronym_lists_only_stories_naming_it(
    page, live_server, acronym, name, naming, lookalikes
):
    entity = EntityFactory(name=name, type="ORG", story_count=1)
    AliasFactory(entity=entity, name=acronym)
    about = ArticleFactory(title=f"About the {name}", text="Nothing else.")
    MentionFactory(article=about, entity=entity, stars=3)
    ArticleFactory(title="Naming it without a mention", text=naming)
    for n, text in enumerate(lookalikes):
        ArticleFactory(title=f"Look-alike {n}", text=text)
    titles = search(page, live_server, acronym)
    assert titles == [f"About the {name}", "Naming it without a mention"]
    assert page.locator(".entity-card h2").inner_text() == name
    assert "1 more mentioning it" in page.locator("#results-heading").inner_text()
    assert page.js_errors == []


@pytest.fixture
def people():
    sudani = EntityFactory(name="Mohammed al-Sudani", type="PERSON", story_count=12)
    leyen = EntityFactory(name="Ursula von der Leyen", type="PERSON", story_count=30)
    EntityFactory(name="Leyen Shipping", type="ORG", story_count=2)
    john = EntityFactory(name="John Smith", type="PERSON", story_count=9)
    adam = EntityFactory(name="Adam Smith", type="PERSON", story_count=7)
    for entity in (sudani, leyen, john, adam):
        MentionFactory(article=ArticleFactory(title=f"About {entity.name}"), entity=entity)


@pytest.mark.parametrize(
    ("typed", "card"),
    [
        ("Sudani", "Mohammed al-Sudani"),
        ("al-Sudani", "Mohammed al-Sudani"),
        ("Leyen", "Ursula von der Leyen"),
        ("von der Leyen", "Ursula von der Leyen"),
    ],
)
def test_a_word_of_a_name_lands_on_its_entity(page, live_server, people, typed, card):
    assert search(page, live_server, typed)[0] == f"About {card}"
    assert page.locator(".entity-card h2").inner_text() == card
    assert page.locator(".did-you-mean").count() == 0


def test_a_shared_surname_offers_the_candidates(page, live_server, people):
    search(page, live_server, "Smith")
    assert page.locator(".entity-card").count() == 0
    offered = page.locator("section.candidates li a").all_inner_texts()
    assert offered == ["John Smith", "Adam Smith"]
    page.locator("section.candidates li a").first.click()
    page.wait_for_url(re.compile(r"\?q=John"))
    assert page.locator(".entity-card h2").inner_text() == "John Smith"


def test_the_suggestions_find_a_word_after_a_particle(page, live_server, people):
    page.goto(live_server.url + "/")
    page.locator("#q").press_sequentially("Sud", delay=30)
    page.wait_for_selector("#q-suggestions:not([hidden]) [role=option]")
    options = page.locator("#q-suggestions [role=option]")
    assert options.count() == 1 and "Mohammed al-Sudani" in options.nth(0).inner_text()
    page.locator("#q").press("ArrowDown")
    page.locator("#q").press("Enter")
    page.wait_for_url(re.compile(r"\?q=Mohammed"))
    assert page.locator(".entity-card h2").inner_text() == "Mohammed al-Sudani"
    assert page.js_errors == []
