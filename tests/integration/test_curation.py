"""Editors' curation in the admin, applied by the worker on PostgreSQL, and
debounced rescoring under a burst of extractions."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from articles.services import article_ingest
from entities.models import Alias, BlockedName, Change, Entity, Mention
from entities.normalize import name_key
from tests.integration.helpers import (
    EXTRACT,
    EXTRACT_DONE,
    RESCORE_DONE,
    about_lists,
    log_lines_after,
    wait_extracted,
    wait_rescored_after,
)
from tests.integration.processes import wait_for
from tests.integration.stories import DUNMORE_STORIES, burst_story

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),  # no collectstatic here
]

CHANGELIST = "admin:entities_entity_changelist"
BURST = 30


def entity(name: str) -> Entity:
    return Entity.objects.get(key=name_key(name))


def search(q: str) -> str:
    response = Client().get("/", {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def about_names(*queries: str) -> set[str]:
    """Every name in the about-lists of the stories found by the queries."""
    return {name for q in queries for items in about_lists(search(q)).values() for name, _ in items}


DUNMORE = ("Dunmore Shipyards", "Dunmore Shipbuilding")


@pytest.fixture
def dunmore(start_worker):
    """A worker, and the two Dunmore stories extracted and rescored by it."""
    worker = start_worker("curator", concurrency=1)
    ids = [article_ingest(**story).article.id for story in DUNMORE_STORIES]
    wait_extracted(ids, [worker])
    wait_rescored_after(worker, EXTRACT)
    return worker


def test_merge_from_the_admin_is_applied_by_the_worker(dunmore, staff_client):
    worker = dunmore
    shipyards, shipbuilding = entity("Dunmore Shipyards"), entity("Dunmore Shipbuilding")
    selected = [shipyards.pk, shipbuilding.pk]

    # The action's intermediate page, then its form with the target.
    page = staff_client.post(reverse(CHANGELIST), {"action": "merge", "_selected_action": selected})
    assert page.status_code == 200 and b"Merge into" in page.content
    start = len(worker.log().splitlines())
    done = staff_client.post(
        reverse(CHANGELIST),
        {"action": "merge", "_selected_action": selected, "apply": "Apply", "target": shipyards.pk},
    )
    assert done.status_code == 302
    wait_rescored_after(worker, r"entities\.tasks\.merge_entities", after=start)

    assert not Entity.objects.filter(pk=shipbuilding.pk).exists()
    assert Entity.objects.get(pk=shipyards.pk).story_count == 2
    assert Alias.objects.get(key=name_key("Dunmore Shipbuilding")).entity_id == shipyards.pk
    for query in ("Dunmore Shipyards", "Dunmore Shipbuilding"):  # the old name finds it too
        page = search(query)
        assert f"2 stories about “{query}”" in page
        assert '<h2><a href="/entities/dunmore-shipyards/">Dunmore Shipyards</a></h2>' in page
        assert "Also known as: Dunmore Shipbuilding" in page
        lists = about_lists(page)
        assert set(lists) == {s["title"] for s in DUNMORE_STORIES}
        for items in lists.values():
            names = [name for name, _ in items]
            assert "Dunmore Shipyards" in names and "Dunmore Shipbuilding" not in names
    old = Client().get(f"/entities/{shipbuilding.slug}/")
    assert (old.status_code, old["Location"]) == (301, f"/entities/{shipyards.slug}/")

    # Undone from its history entry, in the background too (SPEC §11).
    merge = Change.objects.get(action=Change.Action.MERGE)
    assert merge.user.get_username() == "editor"
    start = len(worker.log().splitlines())
    undone = staff_client.post(reverse("admin:entities_change_undo", args=[merge.pk]))
    assert undone.status_code == 302
    wait_for(
        lambda: Entity.objects.filter(pk=shipbuilding.pk).exists(),
        what="the undo",
        on_timeout=worker.tail,
    )
    wait_rescored_after(worker, r"entities\.tasks\.undo_change", after=start)
    assert Entity.objects.get(pk=shipbuilding.pk).slug == shipbuilding.slug
    assert Client().get(f"/entities/{shipbuilding.slug}/").status_code == 200
    assert Change.objects.get(undo_of=merge).user.get_username() == "editor"
    names = about_names(*DUNMORE)
    assert {"Dunmore Shipyards", "Dunmore Shipbuilding"} <= names


def test_block_from_the_admin_is_applied_by_the_worker(dunmore, staff_client):
    worker = dunmore
    glasgow = entity("Glasgow")
    assert "Glasgow" in about_names(*DUNMORE)

    start = len(worker.log().splitlines())
    done = staff_client.post(
        reverse(CHANGELIST), {"action": "block", "_selected_action": [glasgow.pk]}
    )
    assert done.status_code == 302
    assert Entity.objects.get(pk=glasgow.pk).blocked  # saved with the request
    wait_for(
        lambda: not Mention.objects.filter(entity=glasgow).exists(),
        what="the block",
        on_timeout=worker.tail,
    )
    assert BlockedName.objects.filter(key=name_key("Glasgow")).exists()
    names = about_names(*DUNMORE)
    assert "Glasgow" not in names
    assert "Glasgow City Council" in names  # a longer name containing it stays
    # Stars and story counts still get recomputed with a blocked entity around.
    wait_rescored_after(worker, r"entities\.tasks\.block_entities", after=start)
    assert entity("Dunmore Shipyards").story_count == 1


def test_a_burst_of_extractions_is_rescored_a_few_times(start_worker):
    worker = start_worker("burst", concurrency=1)
    ids = [article_ingest(**burst_story(i)).article.id for i in range(BURST)]
    wait_extracted(ids, [worker])
    wait_rescored_after(worker, EXTRACT)

    extractions = log_lines_after(worker, EXTRACT_DONE)
    rescorings = log_lines_after(worker, RESCORE_DONE)
    print(f"\n{len(extractions)} extraction tasks, {len(rescorings)} rescorings:")
    print("\n".join(rescorings))
    assert len(extractions) == BURST  # one task per story, as the admin queues them
    assert 1 <= len(rescorings) <= BURST // 5
    assert entity("Tarnwick").story_count == BURST
