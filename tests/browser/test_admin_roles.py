"""The admin as a viewer and as an editor see it, in headless Chromium (SPEC
§11): action by action, the viewer is offered nothing that changes the
corpus and the editor everything; the pages we add or template (queue, pair,
entity edit, history, changes) have no WCAG 2.1 AA violation (axe-core)."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model

from articles.models import Feed
from entities import services
from entities.history import acting_as
from entities.models import Alias, Change, DuplicateCandidate
from tests.browser.conftest import ARTIFACTS, AXE
from tests.factories import ArticleFactory, EntityFactory, MentionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "correct horse battery"

# Each action: the page it is offered on and how it shows there.
ENTITY_ACTIONS = ["merge", "block", "unblock", "rename", "change_type"]
RULE_ACTIONS = ["turn_off", "turn_on"]
QUEUE_ACTIONS = ["accept", "reject"]


def axe_wcag(page, what: str) -> None:
    """No violation at all of WCAG 2.1 A and AA, whatever its impact."""
    # Evaluated, not added as a <script>: the content security policy blocks inline scripts.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async (tags) => await axe.run(document,"
        " {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_AA,
    )
    violations = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
    (ARTIFACTS / f"axe-admin-{slug}.json").write_text(json.dumps(violations, indent=2))
    assert violations == [], f"axe on the {what} page: {violations}"


@pytest.fixture
def corpus(editor_groups):
    donald = EntityFactory(name="Donald Trump", type="PERSON", story_count=2)
    trump = EntityFactory(name="Trump", type="PERSON", story_count=1)
    for i, entity in enumerate([donald, donald, trump]):
        MentionFactory(article=ArticleFactory(title=f"Campaign story {i}"), entity=entity)
    rule = Alias.objects.create(
        name="The Donald",
        entity=donald,
        origin=Alias.Origin.PARTIAL,
        evidence="the one full name the corpus knows for “The Donald”",
    )
    pair = DuplicateCandidate.objects.create(
        entity=donald,
        other=trump,
        reason="“Trump” may be this person",
        evidence={"surface": "Trump", "candidates": []},
        stories_affected=3,
    )
    Feed.objects.create(url="https://news.example.com/feed.xml")
    setup = get_user_model().objects.create_user("setup", is_staff=True)
    with acting_as(setup.pk):
        services.entities_block(entity_ids=[trump.pk])
    change = Change.objects.get(action=Change.Action.BLOCK)
    users = {}
    for name, group in (("vera", "Viewers"), ("ed", "Editors")):
        users[name] = get_user_model().objects.create_user(name, password=PASSWORD, is_staff=True)
        users[name].groups.add(editor_groups[group])
    return {"donald": donald, "trump": trump, "rule": rule, "pair": pair, "change": change}


def log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def offered_actions(page, url: str) -> set[str]:
    page.goto(url)
    return set(
        page.locator("select[name=action] option").evaluate_all(
            "options => options.map(o => o.value).filter(Boolean)"
        )
    )


def what_each_sees(page, live_server, corpus) -> dict[str, bool]:
    """Action by action: is it offered?"""
    url = live_server.url
    seen = {}
    entity_actions = offered_actions(page, f"{url}/admin/entities/entity/")
    seen.update({a: a in entity_actions for a in ENTITY_ACTIONS})
    rule_actions = offered_actions(page, f"{url}/admin/entities/alias/")
    seen.update({a: a in rule_actions for a in RULE_ACTIONS})
    queue_actions = offered_actions(page, f"{url}/admin/entities/duplicatecandidate/")
    seen.update({a: a in queue_actions for a in QUEUE_ACTIONS})
    seen["re-extract"] = "reextract" in offered_actions(page, f"{url}/admin/articles/article/")
    seen["poll now"] = "poll_now" in offered_actions(page, f"{url}/admin/articles/feed/")

    page.goto(f"{url}/admin/entities/duplicatecandidate/{corpus['pair'].pk}/change/")
    seen["accept on the pair page"] = page.locator("button[value=accept]").count() == 1
    seen["reject on the pair page"] = page.locator("button[value=reject]").count() == 1

    page.goto(f"{url}/admin/entities/change/{corpus['change'].pk}/change/")
    seen["undo a change"] = page.get_by_role("button", name="Undo this change").count() == 1

    page.goto(f"{url}/admin/entities/entity/{corpus['donald'].pk}/change/")
    seen["rename in the form"] = page.locator("input[name=name]").count() == 1
    seen["change type in the form"] = page.locator("select[name=type]").count() == 1

    page.goto(f"{url}/admin/entities/alias/{corpus['rule'].pk}/change/")
    seen["turn a rule off in its form"] = page.locator("input[name=active]").count() == 1

    response = page.goto(f"{url}/admin/articles/article/ingest/")
    seen["add a story"] = response.status == 200 and page.locator("input[name=url]").count() == 1
    return seen


def test_a_viewer_is_offered_nothing_an_editor_is_offered_everything(
    page, live_server, corpus, screenshot
):
    log_in(page, live_server.url, "vera")
    as_viewer = what_each_sees(page, live_server, corpus)
    screenshot(page, "admin-viewer-ingest")
    page.context.clear_cookies()
    log_in(page, live_server.url, "ed")
    as_editor = what_each_sees(page, live_server, corpus)

    assert as_viewer.keys() == as_editor.keys()
    assert {action for action, offered in as_viewer.items() if offered} == set()
    assert {action for action, offered in as_editor.items() if not offered} == set()
    assert page.js_errors == []


def test_the_admin_pages_we_add_have_no_wcag_violation(page, live_server, corpus, screenshot):
    url = live_server.url
    log_in(page, url, "ed")
    pages = {
        "queue": "/admin/entities/duplicatecandidate/",
        "queue decided": "/admin/entities/duplicatecandidate/?status__exact=accepted",
        "pair": f"/admin/entities/duplicatecandidate/{corpus['pair'].pk}/change/",
        "entity edit": f"/admin/entities/entity/{corpus['donald'].pk}/change/",
        "entity history": f"/admin/entities/entity/{corpus['trump'].pk}/history/",
        "changes": "/admin/entities/change/",
        "change": f"/admin/entities/change/{corpus['change'].pk}/change/",
        "rules": "/admin/entities/alias/",
    }
    for what, path in pages.items():
        page.goto(url + path)
        screenshot(page, f"admin-{what}")
        axe_wcag(page, what)

    # The merge form, reached as an editor reaches it.
    page.goto(f"{url}/admin/entities/entity/")
    for entity in (corpus["donald"], corpus["trump"]):
        page.check(f"input[name=_selected_action][value='{entity.pk}']")
    page.select_option("select[name=action]", "merge")
    page.click("button[name=index]")
    axe_wcag(page, "merge form")
    page.click("input[name=apply]")  # no target chosen
    assert "Choose the entity to merge the others into." in page.inner_text("#content")
    axe_wcag(page, "merge form with an error")
