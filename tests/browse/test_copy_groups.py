"""Copy groups on the pages, the API and the export (issue #24): each group
shown once, with its copies; counts and charts count a group once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from entities import selectors
from entities.scoring import rescore_all
from tests.factories import ArticleFactory, EntityFactory, MentionFactory, SourceFactory

MONDAY = datetime(2025, 2, 3, 12, tzinfo=UTC)


def story(when, *entities, source="Meridian Wire", copy_of=None, title=None, text=None):
    fields = {"published_at": when, "source": SourceFactory(name=source), "copy_of": copy_of}
    if title:
        fields["title"] = title
    if text:
        fields["text"] = text
    article = ArticleFactory(**fields)
    for entity in entities:
        MentionFactory(article=article, entity=entity)
    return article


@pytest.fixture
def wire(db):
    """A wire story on Iran published by five more sites, and another story."""
    iran = EntityFactory(name="Iran", type="GPE")
    text = "Negotiators said the Vienna talks would resume on Monday."
    original = story(MONDAY, iran, title="Iran talks resume in Vienna", text=text)
    sites = ["Daily Courier", "Valley Gazette", "Metro Times", "The Northern Post", "Globe <b>"]
    copies = [
        story(
            MONDAY + timedelta(hours=n + 1),
            iran,
            source=site,
            copy_of=original,
            title=f"Talks resume ({site})",
            text=text,
        )
        for n, site in enumerate(sites)
    ]
    other = story(MONDAY + timedelta(days=8), iran, title="Iran's oil exports rise")
    rescore_all()
    iran.refresh_from_db()
    return iran, original, copies, other


def test_an_entitys_story_count_and_chart_count_a_group_once(wire):
    iran, *_ = wire
    assert iran.story_count == 2
    assert selectors.entity_span(iran).stories == 2
    weeks = selectors.weekly_counts(iran)
    assert [w.stories for w in weeks] == [1, 1]


def test_search_shows_a_group_once_with_who_else_published_it(client, wire):
    _iran, original, copies, other = wire
    response = client.get("/", {"q": "Iran"})
    shown = [s.pk for s in response.context["page_obj"].object_list]
    assert shown == [original.pk, other.pk] or shown == [other.pk, original.pk]
    html = response.content.decode()
    assert "Also published by" in html
    assert f'href="{copies[0].get_absolute_url()}"' in html and "Daily Courier" in html
    assert "(+2)" in html  # five copies: three named, two more on the story page
    assert f"{original.get_absolute_url()}#copies" in html


def test_the_latest_stories_and_a_text_search_show_a_group_once(client, wire):
    _, original, copies, other = wire
    latest = [s.pk for s in client.get("/").context["page_obj"].object_list]
    assert original.pk in latest and other.pk in latest
    assert not set(latest) & {c.pk for c in copies}
    found = client.get("/", {"q": "Vienna negotiators"}).context["page_obj"].object_list
    assert [s.pk for s in found] == [original.pk]


def test_the_entity_page_lists_a_group_once_and_counts_it_once(client, wire):
    iran, original, _copies, other = wire
    response = client.get(iran.get_absolute_url())
    shown = [s.pk for s in response.context["page_obj"].object_list]
    assert sorted(shown) == sorted([original.pk, other.pk])
    html = response.content.decode()
    assert "2 stories" in html
    assert "Also published by" in html


def test_a_copy_naming_what_its_representative_does_not_still_shows(client, wire):
    _, _original, copies, _ = wire
    envoy = EntityFactory(name="Envoy Rahimi", type="PERSON")
    MentionFactory(article=copies[2], entity=envoy)  # an update's new paragraph
    rescore_all()
    response = client.get(envoy.get_absolute_url())
    assert [s.pk for s in response.context["page_obj"].object_list] == [copies[2].pk]


def test_the_story_page_lists_the_versions_and_what_differs(client, wire):
    _, original, copies, _ = wire
    html = client.get(original.get_absolute_url()).content.decode()
    assert 'id="copies"' in html and "Copies of this story (6 versions)" in html
    assert "Talks resume (Daily Courier)" in html and "other headline" in html
    assert "Globe &lt;b&gt;" in html and "Globe <b>" not in html
    assert "characters" in html
    copy_page = client.get(copies[1].get_absolute_url()).content.decode()
    assert "A copy of" in copy_page and original.get_absolute_url() in copy_page


def test_a_story_without_copies_says_nothing_about_copies(client, wire):
    *_, other = wire
    html = client.get(other.get_absolute_url()).content.decode()
    assert "Also published by" not in html and 'id="copies"' not in html


def test_the_api_carries_copy_of_and_the_copies(client, wire):
    _, original, copies, other = wire
    results = client.get("/api/search/", {"q": "Iran"}).json()["results"]
    by_id = {r["id"]: r for r in results}
    assert by_id[original.pk]["copy_of"] is None
    assert [c["id"] for c in by_id[original.pk]["copies"]] == [c.pk for c in copies]
    assert by_id[other.pk]["copies"] == []
    detail = client.get(f"/api/stories/{copies[0].pk}/").json()
    assert detail["copy_of"] == original.url
    assert original.pk in [c["id"] for c in detail["copies"]]


def test_the_export_carries_copy_of(wire):
    _, original, copies, other = wire
    out = StringIO()
    call_command("export", stdout=out, stderr=StringIO())
    records = {r["id"]: r for r in map(json.loads, out.getvalue().splitlines())}
    assert records[original.pk]["copy_of"] is None
    assert records[other.pk]["copy_of"] is None
    assert all(records[c.pk]["copy_of"] == original.url for c in copies)
