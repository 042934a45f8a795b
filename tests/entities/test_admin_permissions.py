"""Each admin action and custom admin page checks its own permission (SPEC
§11): walked as a viewer, a staff member with no permission, a logged-out
visitor and an editor, each with and without a valid CSRF token. Only the
editor with a valid token changes anything; the others' POSTs queue nothing
and write nothing."""

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client

from articles.models import Article, Feed
from entities import services
from entities.history import acting_as
from entities.models import Alias, Change, DuplicateCandidate, Entity
from tests.factories import AliasFactory, ArticleFactory, EntityFactory

ENTITIES = "/admin/entities/entity/"
ALIASES = "/admin/entities/alias/"
QUEUE = "/admin/entities/duplicatecandidate/"
CHANGES = "/admin/entities/change/"


@dataclass
class World:
    donald: Entity
    trump: Entity
    kettles: Entity
    junk: Entity
    rule: Alias
    off_rule: Alias
    pair: DuplicateCandidate
    story: Article
    feed: Feed
    change: Change
    queued: list[str]


@pytest.fixture
def world(db, monkeypatch, editor_groups) -> World:
    queued: list[str] = []

    def enqueue(task, *args, **kwargs):
        queued.append(task if isinstance(task, str) else task.name)
        return SimpleNamespace(kept=False)

    monkeypatch.setattr("entities.decisions.enqueue", enqueue)
    monkeypatch.setattr("articles.admin.enqueue", enqueue)
    monkeypatch.setattr("articles.services.articles_enqueue_extraction", lambda **kw: None)
    donald = EntityFactory(name="Donald Trump", type="PERSON")
    trump = EntityFactory(name="Trump", type="PERSON")
    kettles = EntityFactory(name="Kettles", type="ORG")
    junk = EntityFactory(name="Which", type="ORG", blocked=True)
    rule = AliasFactory(name="The Donald", entity=donald, origin=Alias.Origin.PARTIAL)
    off_rule = AliasFactory(name="DJT", entity=donald, origin=Alias.Origin.PARTIAL, active=False)
    pair = DuplicateCandidate.objects.create(entity=donald, other=trump, reason="short form")
    story = ArticleFactory(attempts=3)
    feed = Feed.objects.create(url="https://news.example.com/feed.xml")
    editor = get_user_model().objects.create_user("setup", is_staff=True)
    with acting_as(editor.pk):
        services.entities_block(entity_ids=[kettles.pk])
    change = Change.objects.get(action=Change.Action.BLOCK)
    Entity.objects.filter(pk=kettles.pk).update(blocked=False)
    return World(donald, trump, kettles, junk, rule, off_rule, pair, story, feed, change, queued)


def _changelist_action(url: str, action: str, ids: Callable[[World], list[int]], **extra):
    def post(world: World) -> tuple[str, dict]:
        return url, {"action": action, "_selected_action": ids(world), "index": "0", **extra}

    return post


@dataclass
class Case:
    name: str
    request: Callable[[World], tuple[str, dict]]
    happened: Callable[[World], bool]


def _queued(task: str) -> Callable[[World], bool]:
    return lambda world: task in world.queued


CASES = [
    Case(
        "merge",
        lambda w: _changelist_action(
            ENTITIES,
            "merge",
            lambda w: [w.donald.pk, w.trump.pk],
            apply="Apply",
            target=str(w.donald.pk),
        )(w),
        _queued("entities.tasks.merge_entities"),
    ),
    Case(
        "block",
        _changelist_action(ENTITIES, "block", lambda w: [w.kettles.pk]),
        _queued("entities.tasks.block_entities"),
    ),
    Case(
        "unblock",
        _changelist_action(ENTITIES, "unblock", lambda w: [w.junk.pk]),
        _queued("entities.tasks.unblock_entities"),
    ),
    Case(
        "rename",
        _changelist_action(
            ENTITIES, "rename", lambda w: [w.kettles.pk], apply="Apply", name="Kettle Ltd"
        ),
        _queued("entities.tasks.rename_entity"),
    ),
    Case(
        "change type",
        _changelist_action(
            ENTITIES, "change_type", lambda w: [w.kettles.pk], apply="Apply", type="GPE"
        ),
        lambda w: Entity.objects.get(pk=w.kettles.pk).type == "GPE",
    ),
    Case(
        "rename in the change form",
        lambda w: (
            f"{ENTITIES}{w.kettles.pk}/change/",
            {
                "name": "Kettle Ltd",
                "type": "ORG",
                "aliases-TOTAL_FORMS": "0",
                "aliases-INITIAL_FORMS": "0",
                "aliases-MIN_NUM_FORMS": "0",
                "aliases-MAX_NUM_FORMS": "1000",
                "_save": "Save",
            },
        ),
        _queued("entities.tasks.rename_entity"),
    ),
    Case(
        "turn a rule off",
        _changelist_action(ALIASES, "turn_off", lambda w: [w.rule.pk]),
        _queued("entities.tasks.set_alias_active"),
    ),
    Case(
        "turn a rule on",
        _changelist_action(ALIASES, "turn_on", lambda w: [w.off_rule.pk]),
        _queued("entities.tasks.set_alias_active"),
    ),
    Case(
        "turn a rule off in its form",
        lambda w: (
            f"{ALIASES}{w.rule.pk}/change/",
            {"name": w.rule.name, "entity": str(w.donald.pk), "_save": "Save"},
        ),
        _queued("entities.tasks.set_alias_active"),
    ),
    Case(
        "accept",
        _changelist_action(QUEUE, "accept", lambda w: [w.pair.pk]),
        _queued("entities.tasks.accept_duplicate"),
    ),
    Case(
        "reject",
        _changelist_action(QUEUE, "reject", lambda w: [w.pair.pk]),
        lambda w: DuplicateCandidate.objects.get(pk=w.pair.pk).status == "rejected",
    ),
    Case(
        "accept on the pair page",
        lambda w: (f"{QUEUE}{w.pair.pk}/decide/", {"decision": "accept"}),
        _queued("entities.tasks.accept_duplicate"),
    ),
    Case(
        "reject on the pair page",
        lambda w: (f"{QUEUE}{w.pair.pk}/decide/", {"decision": "reject"}),
        lambda w: DuplicateCandidate.objects.get(pk=w.pair.pk).status == "rejected",
    ),
    Case(
        "undo a change",
        lambda w: (f"{CHANGES}{w.change.pk}/undo/", {}),
        _queued("entities.tasks.undo_change"),
    ),
    Case(
        "re-extract",
        _changelist_action("/admin/articles/article/", "reextract", lambda w: [w.story.pk]),
        lambda w: Article.objects.get(pk=w.story.pk).status == Article.Status.PENDING,
    ),
    Case(
        "ingest",
        lambda w: (
            "/admin/articles/article/ingest/",
            {
                "url": "https://news.example.com/world/added/",
                "title": "Added by hand",
                "text": "A story added in the admin.\n\nIt has two paragraphs.",
            },
        ),
        lambda w: Article.objects.filter(title="Added by hand").exists(),
    ),
    Case(
        "poll a feed",
        _changelist_action("/admin/articles/feed/", "poll_now", lambda w: [w.feed.pk]),
        _queued("articles.tasks.poll_feed"),
    ),
]


def _user(kind: str):
    if kind == "visitor":
        return None
    user = get_user_model().objects.create_user(kind, password="pw", is_staff=True)
    group = {"viewer": "Viewers", "editor": "Editors"}.get(kind)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def _post(kind: str, csrf: bool, url: str, data: dict):
    client = Client(enforce_csrf_checks=True)
    client.get("/admin/login/")  # sets the CSRF cookie, as any page with a form does
    user = _user(kind)
    if user:
        client.force_login(user)
    if csrf:
        data = {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    return client.post(url, data)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("kind", ["viewer", "staff", "visitor"])
@pytest.mark.parametrize("csrf", [True, False], ids=["csrf", "no-csrf"])
def test_only_an_editor_can_act(world, case, kind, csrf):
    url, data = case.request(world)
    response = _post(kind, csrf, url, data)
    assert not case.happened(world), f"{kind} could {case.name}"
    assert world.queued == []
    # A viewer's changelist offers no action: the POST shows the list again.
    assert response.status_code in (200, 302, 403), response.status_code
    if kind == "visitor" and csrf:
        assert "/admin/login/" in response["Location"]
    if not csrf:
        assert response.status_code == 403


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_editor_can_act(world, case):
    url, data = case.request(world)
    response = _post("editor", True, url, data)
    assert response.status_code in (200, 302), response.status_code
    assert case.happened(world), case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_editor_without_a_csrf_token_is_refused(world, case):
    url, data = case.request(world)
    assert _post("editor", False, url, data).status_code == 403
    assert not case.happened(world)


def test_the_groups_hold_every_action_permission_for_editors_and_view_only_for_viewers(
    editor_groups,
):
    custom = {
        "merge_entity",
        "block_entity",
        "rename_entity",
        "retype_entity",
        "toggle_alias",
        "decide_duplicatecandidate",
        "undo_change",
        "reextract_article",
        "ingest_article",
        "poll_feed",
    }
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    viewers = set(Group.objects.get(name="Viewers").permissions.values_list("codename", flat=True))
    assert custom <= editors
    assert viewers and all(codename.startswith("view_") for codename in viewers)
    assert {"view_entity", "view_change", "view_article", "view_feed"} <= viewers
    # The history is written by the code, never edited by hand.
    assert not {"change_change", "delete_change", "add_change"} & editors


def test_a_viewer_cannot_turn_an_automatic_rule_off(db, client, django_capture_on_commit_callbacks):
    """The viewer's *Undo: keep these names apart* was applied (SPEC §11):
    a staff member holding only the entities' view permissions."""
    donald = EntityFactory(name="Donald Trump", type="PERSON")
    rule = AliasFactory(name="Trump", entity=donald, origin=Alias.Origin.PARTIAL)
    viewer = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(content_type__app_label="entities", codename__startswith="view_")
    )
    client.force_login(viewer)
    assert client.get(ALIASES).status_code == 200  # they may look

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ALIASES, {"action": "turn_off", "_selected_action": [rule.pk]})

    assert response.status_code in (200, 302)
    rule.refresh_from_db()
    assert rule.active
    assert Entity.objects.matching_name("Trump").get() == donald
