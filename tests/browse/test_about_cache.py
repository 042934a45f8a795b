"""Issue 27: a story's about-list is built once per corpus version and read
whole from the page cache; curation and rescoring still show on the next
page (the version bump), and the cached links stay escaped."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from entities.models import Mention
from tests.browse.pages import parse, select, text
from tests.factories import ArticleFactory, EntityFactory, MentionFactory

pytestmark = pytest.mark.django_db


def about_names(client, path="/", **params) -> list[str]:
    page = parse(client.get(path, params))
    return [text(a) for a in select(page, ".about a")]


@pytest.fixture
def story():
    article = ArticleFactory(title="Talks on the pipeline", text="Iran and Tehran Oil talk.")
    iran = EntityFactory(name="Iran", type="GPE", story_count=1)
    oil = EntityFactory(name="Tehran Oil", type="ORG", story_count=1)
    MentionFactory(article=article, entity=iran, stars=3)
    MentionFactory(article=article, entity=oil, stars=1)
    return article, iran, oil


def test_about_lists_are_read_from_the_cache_on_the_next_page(client, story):
    assert sorted(about_names(client)) == ["Iran", "Tehran Oil"]
    with CaptureQueriesContext(connection) as again:
        assert sorted(about_names(client)) == ["Iran", "Tehran Oil"]
    tables = " ".join(q["sql"] for q in again.captured_queries)
    assert Mention._meta.db_table not in tables


def test_a_rename_shows_in_cached_about_lists_at_once(client, story, run_on_commit):
    from entities.services import entity_rename

    _, _, oil = story
    assert "Tehran Oil" in about_names(client)
    with run_on_commit():
        entity_rename(entity_id=oil.pk, name="National Iranian Oil Company")
    assert sorted(about_names(client)) == ["Iran", "National Iranian Oil Company"]


def test_a_new_type_shows_under_the_type_filter_at_once(client, story, run_on_commit):
    from entities.services import entity_change_type

    _, _, oil = story
    assert about_names(client, type="ORG") == ["Tehran Oil"]
    with run_on_commit():
        entity_change_type(entity_id=oil.pk, type_="GPE")
    assert about_names(client, type="ORG") == []


def test_blocking_drops_an_entity_from_cached_about_lists_at_once(client, story, run_on_commit):
    from entities.services import entities_block

    _, _, oil = story
    assert "Tehran Oil" in about_names(client)
    with run_on_commit():
        entities_block(entity_ids=[oil.pk])
    assert about_names(client) == ["Iran"]


def stars_of(client) -> dict[str, str]:
    page = parse(client.get("/"))
    return {text(a): a.getnext().get("aria-label") for a in select(page, ".about a")}


def test_new_stars_show_once_rescoring_is_done(client, story, monkeypatch):
    from entities import tasks
    from entities.scoring import RescoreReport

    article, iran, _ = story
    assert stars_of(client)["Iran"] == "3 of 4 stars"

    def rescore_due():  # a worker's pass, long after the bump that asked for it
        Mention.objects.filter(article=article, entity=iran).update(stars=4)
        return RescoreReport(stories=1, entities=2, pairs=2, seconds=0.0, stars_changed=1)

    monkeypatch.setattr(tasks, "rescore_due", rescore_due)
    tasks.rescore()
    assert stars_of(client)["Iran"] == "4 of 4 stars"


def test_cached_about_lists_stay_escaped(client):
    article = ArticleFactory(title="A story", text="Text.")
    evil = EntityFactory(name='<script>alert("x")</script>', type="ORG", story_count=1)
    MentionFactory(article=article, entity=evil)
    for _ in range(2):  # computed, then read from the cache
        html = client.get("/").content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert" in html


def test_a_kept_card_is_drawn_for_what_the_page_asked(client, story):
    """Cards are kept per corpus version, but each page still shows its own
    about-list order and highlighted entity."""
    article, iran, _ = story
    MentionFactory(article=article, entity=EntityFactory(name="Abadan", story_count=1), stars=1)
    for _ in range(2):  # drawn, then read from the cache
        by_name = about_names(client)
        by_stars = about_names(client, about="stars")
        home = parse(client.get("/"))
        entity_page = parse(client.get(iran.get_absolute_url()))
        assert by_name == ["Abadan", "Iran", "Tehran Oil"]
        assert by_stars[0] == "Iran"
        assert select(home, ".about li.current") == []
        assert [text(li) for li in select(entity_page, ".about li.current")] == ["Iran ★★★"]


def test_a_kept_card_follows_a_story_edit(client, story, run_on_commit):
    article, _, _ = story
    assert "Talks on the pipeline" in client.get("/").content.decode()
    with run_on_commit():
        article.title = "Talks on the gas line"
        article.save()
    html = client.get("/").content.decode()
    assert "Talks on the gas line" in html
    assert "Talks on the pipeline" not in html
