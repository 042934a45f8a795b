"""End to end in headless Chromium: search → results with stars → an entity →
its page with the chart → a story → admin login → merge two entities → the
search shows one entity with the alias. Screenshots go to test-artifacts/,
and axe-core checks the search, entity and story pages.
"""

from __future__ import annotations

import re

import pytest

from entities.models import Entity
from tests.factories import ArticleFactory, EntityFactory, MentionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STORIES = [
    (
        "Iraq's prime minister visits Tehran",
        "Mohammed al-Sudani, the prime minister of Iraq, arrived in Tehran on Monday for talks "
        "with Iranian officials about trade and security.\n\n"
        "In Tehran, Sudani met the president of Iran, Masoud Pezeshkian, and discussed the "
        "Popular Mobilization Forces.",
        "2025-01-13T09:00:00Z",
    ),
    (
        "Baghdad hosts a regional summit",
        "Prime Minister Mohammed Shia al-Sudani welcomed leaders from Jordan and Egypt to Baghdad "
        "on Saturday.\n\nThe summit in Baghdad focused on water, electricity and trade with Iran.",
        "2025-01-25T09:00:00Z",
    ),
    (
        "Iran and Iraq sign an electricity deal",
        "Iran will keep exporting gas to Iraq under a deal signed in Baghdad, the oil minister "
        "said.\n\nOfficials in Tehran said the agreement would last two years.",
        "2025-02-04T09:00:00Z",
    ),
    (
        "Sanctions talks resume in Vienna",
        "Diplomats from Iran and the European Union met in Vienna on Thursday.\n\n"
        "The talks on sanctions against Iran will continue next month in Geneva.",
        "2025-02-20T09:00:00Z",
    ),
    (
        "Iraqi leader calls for calm",
        "Mohammed al-Sudani urged calm after protests in Basra.\n\n"
        "Sudani said the government of Iraq would hear the protesters.",
        "2025-02-27T09:00:00Z",
    ),
]


def entity_named(name: str) -> Entity:
    return Entity.objects.visible().get(name=name)


def test_search_entity_story_admin_merge(
    page, live_server, ingest_story, django_user_model, screenshot, axe_check
):
    for i, (title, text, published) in enumerate(STORIES):
        ingest_story(
            title,
            text,
            url=f"https://news.example.com/world/2025/{i}/story/",
            published_at=published,
            source="Example News",
        )
    names = set(Entity.objects.visible().values_list("name", flat=True))
    assert {"Mohammed al-Sudani", "Mohammed Shia al-Sudani", "Iran", "Tehran"} <= names, names
    url = live_server.url

    # 1. Search: results with stars.
    page.goto(f"{url}/?q=Iran")
    assert page.locator(".entity-card h2").inner_text() == "Iran"
    stories = page.locator("article.story")
    assert stories.count() >= 3
    stars = page.locator(".about-list .stars").first
    assert re.fullmatch(r"★{1,4}", stars.inner_text())
    assert re.fullmatch(r"[1-4] of 4 stars", stars.get_attribute("aria-label"))
    screenshot(page, "01-search-results")
    axe_check(page, "search")

    # 2. Click an entity in an about-list: its page, with the chart.
    page.locator(".about-list a", has_text="Mohammed al-Sudani").first.click()
    page.wait_for_url(re.compile(r"/entities/[-\w]+/$"))
    assert page.locator("h1").inner_text() == "Mohammed al-Sudani"
    chart = page.locator("svg.chart")
    assert chart.is_visible()
    assert chart.get_attribute("role") == "img"
    assert (
        "Stories per week mentioning Mohammed al-Sudani"
        in chart.locator("title").first.inner_html()
    )
    assert chart.locator("rect").count() >= 2
    assert page.locator(".entity-facts").inner_text().count("seen") == 2
    assert page.locator(".related-list a").count() >= 1
    screenshot(page, "02-entity-page")
    axe_check(page, "entity")

    # 3. A story page: every mention highlighted and linked.
    page.locator("article.story a[href^='/articles/']").first.click()
    page.wait_for_url(re.compile(r"/articles/\d+/$"))
    mentions = page.locator(".story-text a.mention")
    assert mentions.count() >= 3
    assert mentions.filter(has_text="Sudani").count() >= 1
    screenshot(page, "03-story-page")
    axe_check(page, "story")

    # 4. Admin login.
    django_user_model.objects.create_superuser("editor", "editor@example.com", "correct horse")
    page.goto(f"{url}/admin/login/?next=/admin/entities/entity/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "correct horse")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/entities/entity/"))
    screenshot(page, "04-admin-entities")

    # 5. Merge "Mohammed Shia al-Sudani" into "Mohammed al-Sudani".
    target = entity_named("Mohammed al-Sudani")
    other = entity_named("Mohammed Shia al-Sudani")
    page.goto(f"{url}/admin/entities/entity/?q=Sudani")
    for entity in (target, other):
        page.check(f"input[name=_selected_action][value='{entity.pk}']")
    page.select_option("select[name=action]", "merge")
    page.click("button[name=index]")
    page.select_option("select[name=target]", str(target.pk))
    screenshot(page, "05-admin-merge-form")
    page.click("input[name=apply]")
    page.wait_for_selector(".messagelist")
    assert "Merging 1 entity into" in page.locator(".messagelist").inner_text()
    screenshot(page, "06-admin-merged")

    # 6. The search shows one entity, with the other name as an alias.
    page.goto(f"{url}/?q=Mohammed+Shia+al-Sudani")
    card = page.locator(".entity-card")
    assert card.locator("h2").inner_text() == "Mohammed al-Sudani"
    assert "Mohammed Shia al-Sudani" in card.locator(".aliases").inner_text()
    assert "3 stories" in card.inner_text()
    screenshot(page, "07-search-after-merge")
    suggestions = page.request.get(f"{url}/suggest/?q=mohammed").json()["results"]
    assert [s["name"] for s in suggestions] == ["Mohammed al-Sudani"]
    assert page.js_errors == []


def test_search_box_is_a_keyboard_operable_combobox(page, live_server, screenshot, axe_check):
    iran = EntityFactory(name="Iran", type="GPE", story_count=3)
    iraq = EntityFactory(name="Iraq", type="GPE", story_count=2)
    for i in range(3):
        article = ArticleFactory(title=f"Iran story {i}")
        MentionFactory(article=article, entity=iran, stars=1 + i)
        if i < 2:
            MentionFactory(article=article, entity=iraq)
    page.goto(live_server.url + "/")
    box = page.locator("#q")
    assert box.evaluate("el => el === document.activeElement")  # autofocus
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    assert listbox.get_attribute("role") == "listbox"

    box.press_sequentially("Ir", delay=30)
    page.wait_for_selector("#q-suggestions:not([hidden]) [role=option]")
    assert box.get_attribute("aria-expanded") == "true"
    options = listbox.locator("[role=option]")
    assert options.count() == 2
    assert "Iran" in options.nth(0).inner_text() and "3 stories" in options.nth(0).inner_text()

    box.press("ArrowDown")
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active == options.nth(1).get_attribute("id")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    assert options.nth(0).get_attribute("aria-selected") == "false"
    screenshot(page, "08-suggestions-keyboard")
    axe_check(page, "search (suggestions open)")

    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    assert listbox.is_hidden()
    assert box.input_value() == "Ir"  # Escape closed the list, kept the text

    box.press("ArrowDown")
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowUp")  # wraps to the last option
    assert box.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    box.press("Enter")
    page.wait_for_url(re.compile(r"\?q=Iraq"))
    assert page.locator(".entity-card h2").inner_text() == "Iraq"

    # Focus is visible: tabbing from the box reaches the button, outlined.
    page.locator("#q").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const el = document.activeElement; const s = getComputedStyle(el);"
        " return [el.tagName, el.matches(':focus-visible'), s.outlineStyle, s.outlineWidth]; }"
    )
    assert focused[0] == "BUTTON" and focused[1] is True
    assert focused[2] != "none" and focused[3] != "0px"
    assert page.js_errors == []


def test_search_works_without_javascript(page_without_js, live_server):
    iran = EntityFactory(name="Iran", type="GPE", story_count=1)
    MentionFactory(article=ArticleFactory(title="Iran story"), entity=iran)
    page = page_without_js
    page.goto(live_server.url + "/")
    assert page.locator("#q").get_attribute("role") is None  # no combobox without the script
    page.fill("#q", "Iran")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"\?q=Iran"))
    assert page.locator(".entity-card h2").inner_text() == "Iran"
    assert page.locator("article.story").count() == 1
