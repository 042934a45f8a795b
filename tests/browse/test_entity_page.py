"""Entity page (SPEC §2): facts, weekly chart, related entities, sorted stories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from entities import selectors
from entities.models import Entity
from entities.scoring import rescore_all
from entities.selectors import WeekCount
from newsgraph.browse.charts import weekly_chart
from tests.factories import ArticleFactory, EntityFactory, MentionFactory

SVG = "{http://www.w3.org/2000/svg}"
MONDAY = datetime(2025, 2, 3, 12, tzinfo=UTC)  # a Monday


def story(when: datetime, *entities, stars: int = 2, score: float = 1.0):
    article = ArticleFactory(published_at=when)
    for entity in entities:
        MentionFactory(article=article, entity=entity, stars=stars, score=score)
    return article


# --- weekly counts and first/last seen ---------------------------------------------------


@pytest.mark.django_db
def test_weekly_counts_fill_empty_weeks():
    iran = EntityFactory(name="Iran", type="GPE")
    story(MONDAY, iran)
    story(MONDAY + timedelta(days=6), iran)  # Sunday: same week
    story(MONDAY + timedelta(weeks=2, days=3), iran)
    weeks = selectors.weekly_counts(iran)
    assert weeks == [
        WeekCount(date(2025, 2, 3), 2),
        WeekCount(date(2025, 2, 10), 0),
        WeekCount(date(2025, 2, 17), 1),
    ]


@pytest.mark.django_db
def test_weekly_counts_keep_the_newest_weeks():
    iran = EntityFactory(name="Iran", type="GPE")
    for i in range(6):
        story(MONDAY + timedelta(weeks=i), iran)
    weeks = selectors.weekly_counts(iran, max_weeks=4)
    assert [w.week for w in weeks] == [date(2025, 2, 17) + timedelta(weeks=i) for i in range(4)]


@pytest.mark.django_db
def test_weekly_counts_and_span_of_an_entity_without_stories():
    lonely = EntityFactory()
    assert selectors.weekly_counts(lonely) == []
    span = selectors.entity_span(lonely)
    assert (span.stories, span.first_seen, span.last_seen) == (0, None, None)


@pytest.mark.django_db
def test_entity_span_is_read_live():
    iran = EntityFactory(name="Iran", type="GPE")
    story(MONDAY + timedelta(days=10), iran)
    story(MONDAY, iran)
    span = selectors.entity_span(iran)
    assert span.stories == 2
    assert span.first_seen == MONDAY
    assert span.last_seen == MONDAY + timedelta(days=10)


# --- related entities --------------------------------------------------------------------


@pytest.mark.django_db
def test_related_entities_rank_distinctive_companions_above_ubiquitous_ones():
    sudani = EntityFactory(name="Mohammed al-Sudani", type="PERSON")
    us = EntityFactory(name="United States", type="GPE")
    baghdad = EntityFactory(name="Baghdad", type="GPE")
    rare = EntityFactory(name="Once Only", type="PERSON")
    # "United States" is in every story; Baghdad mostly with al-Sudani.
    for i in range(4):
        story(MONDAY + timedelta(days=i), sudani, us, baghdad)
    story(MONDAY, sudani, us, rare)
    story(MONDAY, sudani, us)
    for i in range(20):
        story(MONDAY + timedelta(days=i), us)
    story(MONDAY, baghdad, us)
    rescore_all()

    related = selectors.related_entities(sudani)
    names = [r.entity.name for r in related]
    assert names[0] == "Baghdad"
    assert names.index("Baghdad") < names.index("United States")
    by_name = {r.entity.name: r for r in related}
    assert by_name["United States"].together == 6  # more shared stories, yet ranked lower
    assert by_name["Baghdad"].lift > by_name["United States"].lift
    assert by_name["United States"].lift == pytest.approx(1.0, abs=0.01)
    # One shared story is below the minimum support for an entity with 6 stories.
    assert "Once Only" not in names


@pytest.mark.django_db
def test_small_entities_relax_the_minimum_support_and_skip_blocked():
    newcomer = EntityFactory(name="Newcomer", type="PERSON")
    friend = EntityFactory(name="Friend", type="PERSON")
    junk = EntityFactory(name="Junk", type="ORG", blocked=True)
    story(MONDAY, newcomer, friend, junk)
    story(MONDAY, friend)
    rescore_all()
    assert [r.entity.name for r in selectors.related_entities(newcomer)] == ["Friend"]


# --- chart ----------------------------------------------------------------------------------


def parse_svg(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def test_chart_is_accessible_svg_with_escaped_text():
    weeks = [WeekCount(date(2025, 2, 3) + timedelta(weeks=i), n) for i, n in enumerate([3, 0, 7])]
    svg = parse_svg(weekly_chart(weeks, title="Stories about <AT&T>", chart_id="c"))
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c-title c-desc"
    assert svg.find(f"{SVG}title").text == "Stories about <AT&T>"
    desc = svg.find(f"{SVG}desc").text
    assert "10 stories over 3 weeks" in desc and "had 7" in desc
    bars = svg.findall(f"{SVG}g/{SVG}rect")
    assert len(bars) == 3
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] == 0 and heights[2] > heights[0] > 0
    assert bars[2].find(f"{SVG}title").text == "Week of 17 Feb 2025: 7 stories"
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"0", "10"} <= set(labels)  # y axis from 0 to a round maximum
    assert {"3 Feb", "10 Feb", "17 Feb", "Stories per week"} <= set(labels)


def test_chart_labels_months_when_there_are_many_weeks():
    weeks = [WeekCount(date(2024, 1, 1) + timedelta(weeks=i), i % 5) for i in range(60)]
    svg = parse_svg(weekly_chart(weeks, title="t"))
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.text and t.text[:3].isalpha()]
    months = [label for label in labels if label != "Stories per week"]
    assert 4 <= len(months) <= 8
    assert months[0] == "Jan 2024"
    for text in svg.iter(f"{SVG}text"):  # every label inside the frame
        assert 0 <= float(text.get("x")) <= 640


def test_chart_of_nothing_is_empty():
    assert weekly_chart([], title="t") == ""


# --- the page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_entity_page_shows_facts_chart_related_and_feed(client):
    iran = EntityFactory(name="Iran", type="GPE")
    tehran = EntityFactory(name="Tehran", type="GPE")
    iran.aliases.create(name="Islamic Republic")
    story(MONDAY, iran, tehran)
    story(MONDAY + timedelta(weeks=3), iran, tehran)
    rescore_all()
    response = client.get(iran.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Iran</h1>" in html
    assert "2 stories" in html
    assert "first seen" in html and "3 Feb 2025" in html
    assert "last seen" in html and "24 Feb 2025" in html
    assert "Islamic Republic" in html
    assert '<svg class="chart"' in html and "Stories per week mentioning Iran" in html
    # The chart's data as a table, one row per week with stories.
    assert '<td><time datetime="2025-02-03">3 Feb 2025</time></td><td>1</td>' in html
    assert '<td><time datetime="2025-02-24">24 Feb 2025</time></td><td>1</td>' in html
    assert f'href="{tehran.get_absolute_url()}"' in html
    assert "2 shared stories" in html
    feed = reverse("entities:feed", args=[iran.slug])
    assert '<link rel="alternate" type="application/atom+xml"' in html and feed in html


@pytest.mark.django_db
def test_entity_page_sorts_stories_by_stars_or_date(client):
    iran = EntityFactory(name="Iran", type="GPE")
    old_major = story(MONDAY, iran, stars=4, score=9.0)
    new_minor = story(MONDAY + timedelta(days=30), iran, stars=1, score=0.1)
    url = iran.get_absolute_url()

    by_stars = client.get(url).context["page_obj"].object_list
    assert [a.pk for a in by_stars] == [old_major.pk, new_minor.pk]
    by_date = client.get(url, {"order": "date"}).context["page_obj"].object_list
    assert [a.pk for a in by_date] == [new_minor.pk, old_major.pk]
    assert "?order=stars" in client.get(url, {"order": "date"}).content.decode()
    # An unknown order falls back to stars rather than failing.
    assert client.get(url, {"order": "nonsense"}).status_code == 200


@pytest.mark.django_db
def test_entity_page_escapes_names_and_hides_blocked_entities(client):
    evil = EntityFactory(name="<script>alert(1)</script>", type="ORG")
    story(MONDAY, evil)
    html = client.get(evil.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    blocked = EntityFactory(name="Junk", blocked=True)
    assert client.get(blocked.get_absolute_url()).status_code == 410  # gone (SPEC §11)
    assert client.get("/entities/no-such-entity/").status_code == 404


@pytest.mark.django_db
def test_entity_page_figures_are_cached_until_rescoring_changes_them(
    client, django_assert_max_num_queries
):
    iran = EntityFactory(name="Iran", type="GPE")
    tehran = EntityFactory(name="Tehran", type="GPE")
    story(MONDAY, iran, tehran)
    story(MONDAY + timedelta(weeks=1), iran, tehran)
    rescore_all()
    iran.refresh_from_db()
    first = client.get(iran.get_absolute_url()).context
    assert [w.stories for w in first["weeks"]] == [1, 1]
    unchanged = Entity.objects.get(pk=iran.pk)
    with django_assert_max_num_queries(100) as uncached:
        selectors.entity_profile(unchanged)
    assert len(uncached) == 0, "a second look at an unchanged entity reads the cache"

    # New stories count once rescoring has run (it moves the entity's figures).
    story(MONDAY + timedelta(weeks=1), iran, tehran)
    story(MONDAY + timedelta(weeks=2), iran)
    rescore_all()
    html = client.get(iran.get_absolute_url()).content.decode()
    weeks = client.get(iran.get_absolute_url()).context["weeks"]
    assert [w.stories for w in weeks] == [1, 2, 1]
    assert "3 shared stories" in html


@pytest.mark.django_db
def test_blocking_an_entity_drops_it_from_cached_related_lists_at_once(client, run_on_commit):
    from entities.services import entities_block

    iran = EntityFactory(name="Iran", type="GPE")
    junk = EntityFactory(name="Which", type="ORG")
    for week in range(2):
        story(MONDAY + timedelta(weeks=week), iran, junk)
    rescore_all()
    assert (
        f'href="{junk.get_absolute_url()}"' in client.get(iran.get_absolute_url()).content.decode()
    )
    with run_on_commit():
        entities_block(entity_ids=[junk.pk])
    html = client.get(iran.get_absolute_url()).content.decode()
    assert f'href="{junk.get_absolute_url()}"' not in html
