"""Editors' admin (SPEC §4) driven through real admin POSTs, checked on the
public search page the way a reader sees it (SPEC §1)."""

from urllib.parse import urlencode

import lxml.html
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from entities.models import Alias, BlockedName, Entity, Mention
from tests.entities.conftest import (
    BARE_TRUMP,
    DONALD_TRUMP,
    KETTLES,
    MELANIA,
    PMF,
    TEHRAN,
    entity_named,
)

CHANGELIST = "/admin/entities/entity/"


# --- reading pages ------------------------------------------------------------------------


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _page(response) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.content.decode())


class SearchPage:
    """What a reader sees at /?q=…: the entity card and each story's about-list."""

    def __init__(self, client, q: str):
        self.root = _page(client.get("/?" + urlencode({"q": q})))
        cards = self.root.xpath("//section[contains(@class, 'entity-card')]")
        self.card = cards[0] if cards else None
        self.stories = self.root.xpath("//article[contains(@class, 'story')]")

    @property
    def card_name(self) -> str | None:
        return _text(self.card.xpath(".//h2")[0]) if self.card is not None else None

    @property
    def card_text(self) -> str:
        return _text(self.card) if self.card is not None else ""

    def about_lists(self) -> list[list[str]]:
        """Each story's about-list (shown and behind "show all"), as entity names."""
        return [
            [_text(a) for a in story.xpath(".//ul[contains(@class, 'about-list')]/li/a")]
            for story in self.stories
        ]

    def titles(self) -> list[str]:
        return [_text(h) for h in self.root.xpath("//h2[contains(@class, 'story-title')]")]


@pytest.fixture
def search(client):
    return lambda q: SearchPage(client, q)


# --- driving the admin ------------------------------------------------------------------------


@pytest.fixture
def post(admin_client, django_capture_on_commit_callbacks):
    """POST as a staff editor, running the background tasks it queues."""

    def run(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return admin_client.post(url, data)

    return run


def action(post, name: str, entities: list[Entity], **extra):
    """Submit the changelist's action form for the selected entities."""
    data = {
        "action": name,
        "_selected_action": [str(e.pk) for e in entities],
        "index": "0",
        **extra,
    }
    return post(CHANGELIST, data)


def submit_intermediate(post, response, **fields):
    """Fill in and submit the action's intermediate form, as the editor would."""
    form = _page(response).xpath("//form[.//input[@name='apply']]")[0]
    data: dict[str, list[str]] = {}
    for name, value in form.form_values():
        data.setdefault(name, []).append(value)
    for name, value in fields.items():
        data[name] = [str(value)]
    data["apply"] = ["Apply"]
    return post(CHANGELIST, data)


def change_form_data(admin_client, entity: Entity) -> dict[str, list[str]]:
    form = _page(admin_client.get(f"{CHANGELIST}{entity.pk}/change/")).xpath(
        "//form[@id='entity_form']"
    )[0]
    data: dict[str, list[str]] = {}
    for name, value in form.form_values():
        data.setdefault(name, []).append(value)
    return data


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [CHANGELIST, "/admin/entities/alias/add/", "/admin/entities/blockedname/"]
)
def test_admin_redirects_anonymous_users_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_redirects_non_staff_users_to_login(client, db):
    user = get_user_model().objects.create_user("reader", password="pw")
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_non_staff_action_post_changes_nothing(
    client, ingest_story, django_capture_on_commit_callbacks
):
    ingest_story(*KETTLES)
    kettles = entity_named("Kettles")
    client.force_login(get_user_model().objects.create_user("reader", password="pw"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST, {"action": "block", "_selected_action": [kettles.pk], "index": "0"}
        )
    assert response.status_code == 302
    kettles.refresh_from_db()
    assert not kettles.blocked


# --- entity actions -------------------------------------------------------------------------


def test_merge_action_shows_one_entity_everywhere(ingest_story, post, search, keep_apart):
    ingest_story(*DONALD_TRUMP)
    ingest_story(*BARE_TRUMP)
    ingest_story(*MELANIA)
    keep_apart("Trump", entity_named("Donald Trump"))  # the corpus would join them itself
    donald, trump = entity_named("Donald Trump"), entity_named("Trump")

    form_page = action(post, "merge", [trump, donald])
    assert form_page.status_code == 200
    assert b"Merge into" in form_page.content
    done = submit_intermediate(post, form_page, target=donald.pk)
    assert done.status_code == 302

    page = search("Trump")
    assert page.card_name == "Donald Trump"
    assert "Also known as: Trump" in page.card_text
    assert "3 stories" in page.card_text
    assert len(page.stories) == 3
    for about in page.about_lists():
        assert about.count("Donald Trump") == 1
        assert "Trump" not in about
    assert not Entity.objects.filter(name="Trump").exists()


def test_merge_needs_two_entities(ingest_story, post):
    ingest_story(*DONALD_TRUMP)
    response = action(post, "merge", [entity_named("Donald Trump")])
    assert response.status_code == 302
    assert Entity.objects.filter(name="Donald Trump").exists()


def test_block_action_removes_the_name_everywhere(ingest_story, post, search):
    ingest_story(*KETTLES)
    ingest_story("Kettles tested again", KETTLES[1] + "\n\nMore soon.")
    assert search("Kettles").card_name == "Kettles"

    response = action(post, "block", [entity_named("Kettles")])
    assert response.status_code == 302

    for q in ["Kettles", "", "Britain"]:
        page = search(q)
        assert page.card_name != "Kettles"
        assert page.stories, q
        assert all("Kettles" not in about for about in page.about_lists())
    assert "Britain" in search("Britain").about_lists()[0]
    # Future stories skip the name too.
    ingest_story("Kettles tested once more", KETTLES[1] + "\n\nThe end.")
    assert not Mention.objects.filter(entity__name="Kettles").exists()


def test_unblock_action_brings_the_name_back(ingest_story, post, search):
    article = ingest_story(*KETTLES)
    kettles = entity_named("Kettles")
    action(post, "block", [kettles])
    assert search("Kettles").card_name is None

    action(post, "unblock", [kettles])

    page = search("Kettles")
    assert page.card_name == "Kettles"
    assert page.titles() == [article.title]
    assert "Kettles" in page.about_lists()[0]


def test_rename_action_keeps_the_old_name_findable(ingest_story, post, search):
    ingest_story(*PMF)
    pmf = entity_named("Popular Mobilization Forces")

    form_page = action(post, "rename", [pmf])
    assert form_page.status_code == 200
    assert b"New canonical name" in form_page.content
    done = submit_intermediate(post, form_page, name="Popular Mobilisation Forces")
    assert done.status_code == 302

    page = search("Popular Mobilization Forces")
    assert page.card_name == "Popular Mobilisation Forces"
    assert "Also known as: Popular Mobilization Forces" in page.card_text
    assert page.about_lists()[0].count("Popular Mobilisation Forces") == 1


def test_rename_action_onto_another_entitys_alias_is_refused_in_the_form(ingest_story, post):
    ingest_story(*MELANIA)
    donald = Entity.objects.create(name="Donald Trump", type="PERSON")
    Alias.objects.create(name="Trump", entity=donald)
    melania = entity_named("Melania Trump")

    form_page = action(post, "rename", [melania])
    response = submit_intermediate(post, form_page, name="Trump")

    assert response.status_code == 200
    assert "already an alias of Donald Trump" in response.content.decode()
    melania.refresh_from_db()
    assert melania.name == "Melania Trump"


def test_rename_action_onto_an_existing_name_merges(ingest_story, post, search):
    ingest_story(*TEHRAN)
    form_page = action(post, "rename", [entity_named("Teheran")])
    submit_intermediate(post, form_page, name="Tehran")

    page = search("Teheran")
    assert page.card_name == "Tehran"
    assert page.about_lists()[0].count("Tehran") == 1
    assert "Teheran" not in page.about_lists()[0]


def test_change_type_action(ingest_story, post, search):
    ingest_story(*KETTLES)
    argos = entity_named("Argos")
    assert "Country, city or state" in search("Argos").card_text

    form_page = action(post, "change_type", [argos])
    submit_intermediate(post, form_page, type="ORG")

    assert "Organisation" in search("Argos").card_text


# --- entity change form ---------------------------------------------------------------------


def test_renaming_in_the_change_form_keeps_the_old_name_as_alias(
    ingest_story, admin_client, post, search
):
    ingest_story(*PMF)
    pmf = entity_named("Popular Mobilization Forces")
    data = change_form_data(admin_client, pmf)
    data["name"] = ["Popular Mobilisation Forces"]

    response = post(f"{CHANGELIST}{pmf.pk}/change/", data)

    assert response.status_code == 302
    page = search("Popular Mobilization Forces")
    assert page.card_name == "Popular Mobilisation Forces"
    assert "Also known as: Popular Mobilization Forces" in page.card_text


def test_an_alias_added_inline_moves_existing_mentions(ingest_story, admin_client, post, search):
    ingest_story(*DONALD_TRUMP)
    bare = ingest_story(*BARE_TRUMP)
    donald = entity_named("Donald Trump")
    data = change_form_data(admin_client, donald)
    data["aliases-0-name"] = ["Trump"]

    response = post(f"{CHANGELIST}{donald.pk}/change/", data)

    assert response.status_code == 302
    page = search("Trump")
    assert page.card_name == "Donald Trump"
    assert bare.title in page.titles()
    assert all(about.count("Donald Trump") == 1 for about in page.about_lists())


def test_changing_the_type_onto_an_existing_entity_in_the_change_form_merges(
    db, admin_client, post
):
    as_org = Entity.objects.create(name="Iran", type="ORG")
    as_place = Entity.objects.create(name="Iran", type="GPE")
    data = change_form_data(admin_client, as_org)
    data["type"] = ["GPE"]

    response = post(f"{CHANGELIST}{as_org.pk}/change/", data)

    assert response.status_code == 302
    assert list(Entity.objects.filter(key="iran")) == [as_place]


# --- alias and blocked-name admin -------------------------------------------------------------


def test_alias_admin_moves_existing_mentions(ingest_story, post, search):
    ingest_story(*DONALD_TRUMP)
    bare = ingest_story(*BARE_TRUMP)
    melania = ingest_story(*MELANIA)
    donald = entity_named("Donald Trump")

    response = post("/admin/entities/alias/add/", {"name": "Trump", "entity": donald.pk})

    assert response.status_code == 302
    page = search("Trump")
    assert page.card_name == "Donald Trump"
    assert "Also known as: Trump" in page.card_text
    assert sorted(page.titles()) == sorted([DONALD_TRUMP[0], bare.title, melania.title])
    for about in page.about_lists():
        assert about.count("Donald Trump") == 1
        assert "Trump" not in about
    assert not Entity.objects.filter(name="Trump").exists()


def test_alias_admin_refuses_a_name_that_is_already_an_alias(ingest_story, admin_client, post):
    ingest_story(*DONALD_TRUMP)
    donald = entity_named("Donald Trump")
    other = Entity.objects.create(name="Melania Trump", type="PERSON")
    Alias.objects.create(name="Trump", entity=donald)

    response = post("/admin/entities/alias/add/", {"name": "TRUMP", "entity": other.pk})

    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert Alias.objects.get().entity == donald


def test_blocked_name_admin_removes_the_name(ingest_story, post, search):
    ingest_story(*KETTLES)

    response = post("/admin/entities/blockedname/add/", {"name": "Kettles"})

    assert response.status_code == 302
    assert BlockedName.objects.filter(key="kettles").exists()
    assert search("Kettles").card_name is None
    assert all("Kettles" not in about for about in search("").about_lists())


def test_deleting_an_alias_in_the_admin_hands_the_name_back_to_the_corpus(
    ingest_story, post, search
):
    ingest_story(*DONALD_TRUMP)
    bare = ingest_story(*BARE_TRUMP)
    donald = entity_named("Donald Trump")
    post("/admin/entities/alias/add/", {"name": "Trump", "entity": donald.pk})
    alias = Alias.objects.get(name="Trump")

    response = post(f"/admin/entities/alias/{alias.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    # No editor's rule now: the corpus's own (the one full name it knows).
    rule = Alias.objects.get()
    assert (rule.origin, rule.entity) == (Alias.Origin.PARTIAL, donald)
    assert search("Trump").card_name == "Donald Trump"
    assert bare.title in search("Trump").titles()


def test_turning_an_automatic_rule_off_in_the_admin_undoes_it_in_stored_stories(
    ingest_story, post, search
):
    ingest_story(*DONALD_TRUMP)
    bare = ingest_story(*BARE_TRUMP)
    rule = Alias.objects.get(name="Trump")
    assert rule.automatic and rule.entity == entity_named("Donald Trump")
    assert search("Trump").card_name == "Donald Trump"

    response = post(
        "/admin/entities/alias/",
        {"action": "turn_off", "_selected_action": [rule.pk]},
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert not rule.active
    assert Entity.objects.filter(name="Trump").exists()  # read on its own again
    page = search("Trump")
    assert page.card_name == "Trump"
    assert page.titles()[0] == bare.title  # the entity's story first, then text matches


def test_deleting_a_blocked_name_in_the_admin_brings_the_name_back(ingest_story, post, search):
    ingest_story(*KETTLES)
    post("/admin/entities/blockedname/add/", {"name": "Kettles"})
    assert search("Kettles").card_name is None
    blocked = BlockedName.objects.get()

    response = post(
        "/admin/entities/blockedname/",
        {"action": "delete_selected", "_selected_action": [blocked.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not BlockedName.objects.exists()
    assert search("Kettles").card_name == "Kettles"
    assert any("Kettles" in about for about in search("").about_lists())


# --- entity changelist ------------------------------------------------------------------------


def _changelist_rows(admin_client, **params) -> dict[str, dict[str, str]]:
    root = _page(admin_client.get(CHANGELIST + "?" + urlencode(params)))
    rows = {}
    for row in root.xpath("//table[@id='result_list']/tbody/tr"):
        name = _text(row.xpath(".//th[contains(@class, 'field-name')]")[0])
        cells = row.xpath(".//td[starts-with(@class, 'field-')]")
        rows[name] = {c.get("class").split()[0].removeprefix("field-"): _text(c) for c in cells}
    return rows


def test_changelist_search_by_alias_and_story_count(ingest_story, admin_client):
    ingest_story(*DONALD_TRUMP)
    ingest_story(
        "Second campaign stop",
        "Donald Trump spoke to farmers in Iowa on Tuesday.\n\nHe promised lower taxes.",
    )
    donald = entity_named("Donald Trump")
    Alias.objects.create(name="The Donald", entity=donald)

    rows = _changelist_rows(admin_client, q="The Donald")

    assert list(rows) == ["Donald Trump"]
    assert rows["Donald Trump"]["story_count"] == "2"
    assert rows["Donald Trump"]["alias_list"] == "The Donald"


def test_changelist_filters_blocked(ingest_story, admin_client, post):
    ingest_story(*KETTLES)
    action(post, "block", [entity_named("Kettles")])
    assert list(_changelist_rows(admin_client, blocked__exact="1")) == ["Kettles"]
    assert "Kettles" not in _changelist_rows(admin_client, blocked__exact="0")


def test_renaming_in_the_change_form_onto_another_entitys_alias_is_refused(
    ingest_story, admin_client, post
):
    ingest_story(*MELANIA)
    donald = Entity.objects.create(name="Donald Trump", type="PERSON")
    Alias.objects.create(name="Trump", entity=donald)
    melania = entity_named("Melania Trump")
    data = change_form_data(admin_client, melania)
    data["name"] = ["Trump"]

    response = post(f"{CHANGELIST}{melania.pk}/change/", data)

    assert response.status_code == 200
    assert "already an alias of Donald Trump" in response.content.decode()
    melania.refresh_from_db()
    assert melania.name == "Melania Trump"


def test_blocked_name_admin_refuses_a_duplicate(db, post):
    BlockedName.objects.create(name="Kettles")
    response = post("/admin/entities/blockedname/add/", {"name": "KETTLES"})
    assert response.status_code == 200
    assert "already blocked" in response.content.decode()
    assert BlockedName.objects.count() == 1
