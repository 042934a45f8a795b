"""Editors' accountability (SPEC §11), through the admin as an editor uses it:
every change recorded with who, when, before → after and the stories
touched; undone from its page; old addresses kept (301), a blocked entity's
page gone (410)."""

import lxml.html
import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from entities import services
from entities.history import acting_as
from entities.models import Alias, Change, DuplicateCandidate, Entity, Mention
from tests.entities.conftest import BARE_TRUMP, DONALD_TRUMP, KETTLES, MELANIA, PMF, entity_named
from tests.entities.test_admin import CHANGELIST, SearchPage, action, submit_intermediate


@pytest.fixture
def editor(editor_groups):
    user = get_user_model().objects.create_user("ada", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def editor_client(editor):
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def post(editor_client, django_capture_on_commit_callbacks):
    """POST as an editor, running the background tasks it queues."""

    def run(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return editor_client.post(url, data)

    return run


def _page(response) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.content.decode())


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _history(client, entity_id: int) -> str:
    root = _page(client.get(f"{CHANGELIST}{entity_id}/history/"))
    return _text(root.xpath("//div[@id='entity-history']")[0])


def _two_trumps(ingest_story, keep_apart):
    ingest_story(*DONALD_TRUMP)
    ingest_story(*BARE_TRUMP)
    ingest_story(*MELANIA)
    keep_apart("Trump", entity_named("Donald Trump"))  # the corpus would join them itself
    return entity_named("Donald Trump"), entity_named("Trump")


def _merge(post, donald, trump):
    form_page = action(post, "merge", [trump, donald])
    return submit_intermediate(post, form_page, target=donald.pk)


# --- history ----------------------------------------------------------------------------------


def test_a_rename_is_recorded_with_the_editor_and_shows_in_the_entity_history(
    ingest_story, post, editor_client, editor
):
    ingest_story(*PMF)
    pmf = entity_named("Popular Mobilization Forces")
    submit_intermediate(post, action(post, "rename", [pmf]), name="Popular Mobilisation Forces")

    change = Change.objects.get(action=Change.Action.RENAME)
    assert change.user == editor
    assert change.before["name"] == "Popular Mobilization Forces"
    assert change.after["name"] == "Popular Mobilisation Forces"
    assert change.stories == 1
    history = _history(editor_client, pmf.pk)
    assert "ada" in history and "Renamed “Popular Mobilization Forces” to" in history
    # And in Django's own admin log of the entity.
    assert LogEntry.objects.filter(object_id=str(pmf.pk), user=editor).exists()
    # Who did it outlives their account.
    editor.delete()
    assert Change.objects.get(pk=change.pk).who == "ada"


def test_a_merge_is_recorded_and_undone_from_its_page_brings_both_entities_back(
    ingest_story, keep_apart, post, editor_client, editor
):
    donald, trump = _two_trumps(ingest_story, keep_apart)
    stories = {
        e.name: set(Mention.objects.filter(entity=e).values_list("article_id", flat=True))
        for e in (donald, trump)
    }
    _merge(post, donald, trump)
    assert not Entity.objects.filter(pk=trump.pk).exists()
    merge = Change.objects.get(action=Change.Action.MERGE)
    assert merge.user == editor and merge.stories == len(stories["Trump"])
    assert "ada" in _history(editor_client, donald.pk)

    page = _page(editor_client.get(f"/admin/entities/change/{merge.pk}/change/"))
    [undo] = page.xpath("//button[normalize-space()='Undo this change']")
    response = post(undo.get("formaction"), {})

    assert response.status_code == 302
    back = Entity.objects.get(pk=trump.pk)
    assert (back.name, back.slug) == ("Trump", trump.slug)
    for entity in (donald, back):
        assert (
            set(Mention.objects.filter(entity=entity).values_list("article_id", flat=True))
            == stories[entity.name]
        )
    assert SearchPage(editor_client, "Trump").card_name == "Trump"
    undo_change = Change.objects.get(undo_of=merge)
    assert undo_change.user == editor
    assert not Change.objects.get(pk=merge.pk).can_be_undone  # once
    history = _history(editor_client, trump.pk)  # its history came back with it
    assert "Merged “Trump” into Donald Trump" in history and "split back" in history


def test_a_block_is_recorded_and_undone(ingest_story, post, editor, search_kettles):
    kettles = search_kettles()
    action(post, "block", [kettles])
    block = Change.objects.get(action=Change.Action.BLOCK)
    assert block.user == editor and block.stories == 1
    assert block.before == {"blocked": False} and block.after == {"blocked": True}

    post(f"/admin/entities/change/{block.pk}/undo/", {})

    assert not Entity.objects.get(pk=kettles.pk).blocked
    assert Change.objects.get(undo_of=block).action == Change.Action.UNBLOCK


@pytest.fixture
def search_kettles(ingest_story):
    def run():
        ingest_story(*KETTLES)
        return entity_named("Kettles")

    return run


def test_automatic_rules_are_recorded_as_the_system_with_their_evidence(
    ingest_story, post, editor, editor_client
):
    ingest_story(*DONALD_TRUMP)
    ingest_story(*BARE_TRUMP)
    rule = Alias.objects.get(name="Trump")
    written = Change.objects.get(action=Change.Action.RULE_ADDED)
    assert written.user is None and written.who == "the system"
    assert written.evidence == rule.evidence and "the corpus knows" in written.evidence

    post("/admin/entities/alias/", {"action": "turn_off", "_selected_action": [rule.pk]})

    turned_off = Change.objects.get(action=Change.Action.RULE_OFF)
    assert turned_off.user == editor and turned_off.stories >= 1
    rule.refresh_from_db()
    assert "turned off by ada" in rule.evidence
    history = _history(editor_client, entity_named("Donald Trump").pk)
    assert "the system" in history and "ada" in history


def test_the_changes_list_filters_by_action_and_by_entity(ingest_story, post, editor_client):
    ingest_story(*PMF)
    ingest_story(*KETTLES)
    pmf, kettles = entity_named("Popular Mobilization Forces"), entity_named("Kettles")
    action(post, "block", [kettles])
    submit_intermediate(post, action(post, "rename", [pmf]), name="The PMF")

    def rows(query: str) -> list[str]:
        root = _page(editor_client.get(f"/admin/entities/change/?{query}"))
        return [_text(td) for td in root.xpath("//td[contains(@class, 'field-summary')]")]

    assert rows("action__exact=block") == ["Blocked “Kettles”"]
    about_pmf = rows(f"subjects__entity_id={pmf.pk}")
    assert about_pmf[0] == "Renamed “Popular Mobilization Forces” to “The PMF”"
    assert "Rule “PMF” → Popular Mobilization Forces" in about_pmf  # the corpus's, learned
    assert "Blocked “Kettles”" not in about_pmf


# --- the review queue --------------------------------------------------------------------


def _johnsons(ingest_story):
    ingest_story("One", "Boris Johnson spoke to reporters in London on Monday.")
    ingest_story("Two", "Michael Johnson won the 200 metres in Atlanta on Thursday.")
    ingest_story("Three", "Johnson said on Friday that he would not stand again.")


def test_an_accepted_pair_stays_listed_under_merged_and_the_pair_page_decides(
    ingest_story, post, editor_client, editor
):
    _johnsons(ingest_story)
    queue = _page(editor_client.get("/admin/entities/duplicatecandidate/"))
    first_links = queue.xpath("//table[@id='result_list']//tbody/tr/th/a")
    assert first_links and all(_text(a) for a in first_links)  # no empty first link
    pair = DuplicateCandidate.objects.filter(status="open").first()

    page = _page(editor_client.get(f"/admin/entities/duplicatecandidate/{pair.pk}/change/"))
    buttons = {_text(b): b.get("formaction") for b in page.xpath("//button[@name='decision']")}
    assert set(buttons) == {"Accept: merge the pair", "Reject: keep them apart"}
    post(buttons["Accept: merge the pair"], {"decision": "accept"})

    pair.refresh_from_db()
    assert pair.status == DuplicateCandidate.Status.ACCEPTED
    merged = _page(editor_client.get("/admin/entities/duplicatecandidate/?status__exact=accepted"))
    listed = [_text(a) for a in merged.xpath("//table[@id='result_list']//tbody/tr/th/a")]
    assert listed == [f"{pair.entity_label} / {pair.other_label}"]
    assert Change.objects.get(action=Change.Action.ACCEPT).user == editor


# --- rough edges ---------------------------------------------------------------------------


def test_the_aliases_column_leaves_out_a_rule_turned_off(ingest_story, post, editor_client):
    ingest_story(*DONALD_TRUMP)
    ingest_story(*BARE_TRUMP)
    rule = Alias.objects.get(name="Trump")

    def aliases_of_donald() -> str:
        root = _page(editor_client.get(f"{CHANGELIST}?q=Donald"))
        row = root.xpath("//tr[.//th/a[normalize-space()='Donald Trump']]")[0]
        return _text(row.xpath(".//td[contains(@class, 'field-alias_list')]")[0])

    assert aliases_of_donald() == "Trump"
    post("/admin/entities/alias/", {"action": "turn_off", "_selected_action": [rule.pk]})
    assert "Trump" not in aliases_of_donald()


def test_apply_without_a_merge_target_says_what_is_missing(ingest_story, keep_apart, post):
    donald, trump = _two_trumps(ingest_story, keep_apart)
    form_page = action(post, "merge", [trump, donald])
    response = submit_intermediate(post, form_page, target="")
    page = _text(_page(response))
    assert "Please correct the errors below." in page
    assert "Choose the entity to merge the others into." in page
    assert Entity.objects.filter(pk=trump.pk).exists()


# --- addresses that never break ----------------------------------------------------------------


def test_old_addresses_redirect_after_two_renames(ingest_story, post, client):
    ingest_story(*PMF)
    pmf = entity_named("Popular Mobilization Forces")
    first = pmf.slug
    submit_intermediate(post, action(post, "rename", [pmf]), name="Hashd al-Shaabi")
    second = Entity.objects.get(pk=pmf.pk).slug
    submit_intermediate(
        post, action(post, "rename", [Entity.objects.get(pk=pmf.pk)]), name="PMF coalition"
    )
    current = Entity.objects.get(pk=pmf.pk).slug
    assert len({first, second, current}) == 3

    for old in (first, second):
        page = client.get(f"/entities/{old}/?order=date")
        assert page.status_code == 301
        assert page["Location"] == f"/entities/{current}/?order=date"
        feed = client.get(f"/entities/{old}/feed/")
        assert (feed.status_code, feed["Location"]) == (301, f"/entities/{current}/feed/")
        api = client.get(f"/api/entities/{old}/")
        assert api.status_code == 301
        assert api.json()["redirect"] == f"/api/entities/{current}/"
        assert api.json()["merged_into"] is None
    assert client.get(f"/entities/{current}/").status_code == 200
    assert client.get(f"/entities/{current}/feed/").status_code == 200


def test_renaming_back_takes_the_old_address_back(ingest_story, post, client):
    ingest_story(*PMF)
    pmf = entity_named("Popular Mobilization Forces")
    first = pmf.slug
    submit_intermediate(post, action(post, "rename", [pmf]), name="Hashd al-Shaabi")
    rename = Change.objects.get(action=Change.Action.RENAME)
    post(f"/admin/entities/change/{rename.pk}/undo/", {})

    pmf.refresh_from_db()
    assert (pmf.name, pmf.slug) == ("Popular Mobilization Forces", first)
    assert client.get(f"/entities/{first}/").status_code == 200
    assert client.get("/entities/hashd-al-shaabi/")["Location"] == f"/entities/{first}/"
    assert not Alias.objects.filter(name="Hashd al-Shaabi").exists()


def test_a_merged_entitys_address_leads_to_the_survivor(ingest_story, keep_apart, post, client):
    donald, trump = _two_trumps(ingest_story, keep_apart)
    _merge(post, donald, trump)

    page = client.get(f"/entities/{trump.slug}/")
    assert (page.status_code, page["Location"]) == (301, f"/entities/{donald.slug}/")
    feed = client.get(f"/entities/{trump.slug}/feed/")
    assert (feed.status_code, feed["Location"]) == (301, f"/entities/{donald.slug}/feed/")
    api = client.get(f"/api/entities/{trump.slug}/").json()
    assert api["merged_into"]["name"] == "Donald Trump"
    assert api["redirect"] == f"/api/entities/{donald.slug}/"


def test_a_blocked_entitys_page_is_gone_with_a_reason(ingest_story, post, client):
    ingest_story(*KETTLES)
    kettles = entity_named("Kettles")
    action(post, "block", [kettles])

    page = client.get(f"/entities/{kettles.slug}/")
    assert page.status_code == 410
    assert "Editors removed this name" in _text(lxml.html.fromstring(page.content.decode()))
    assert client.get(f"/entities/{kettles.slug}/feed/").status_code == 410
    assert client.get(f"/api/entities/{kettles.slug}/").status_code == 410
    assert client.get("/entities/no-such-entity/").status_code == 404


# --- page costs --------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_changes_list_and_an_entity_history_cost_the_same_for_3_or_30_changes(
    editor, editor_client
):
    from tests.factories import EntityFactory

    entity = EntityFactory(name="Kettles")
    counts = []
    for n in (3, 30):
        for _ in range(n - Change.objects.count()):
            with acting_as(editor.pk):
                services.entity_change_type(
                    entity_id=entity.pk, type_="GPE" if entity.type == "ORG" else "ORG"
                )
            entity.refresh_from_db()
        counts.append(
            (
                _queries(editor_client, "/admin/entities/change/"),
                _queries(editor_client, f"{CHANGELIST}{entity.pk}/history/"),
            )
        )
    assert counts[0] == counts[1], counts


def test_an_undo_that_would_be_refused_says_why_and_changes_nothing(
    ingest_story, keep_apart, post, editor_client
):
    donald, trump = _two_trumps(ingest_story, keep_apart)
    _merge(post, donald, trump)
    merge = Change.objects.get(action=Change.Action.MERGE)
    # Since the merge, an entity called "Trump" came back some other way.
    Alias.objects.filter(name="Trump").delete()
    back = Entity.objects.create(name="Trump", type="PERSON")

    response = editor_client.post(f"/admin/entities/change/{merge.pk}/undo/", follow=True)

    assert "An entity called “Trump” exists again" in response.content.decode()
    assert not Change.objects.filter(undo_of=merge).exists()
    assert list(Entity.objects.filter(name="Trump")) == [back]
