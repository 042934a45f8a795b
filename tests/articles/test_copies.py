"""Copies of one story (issue #24): detection at ingest, groups, editors."""

import json
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from articles.models import Article, StoryBand
from articles.services import article_ingest

GOLD = {
    r["id"]: r
    for r in map(
        json.loads,
        (Path(__file__).parent.parent / "data" / "copies" / "gold.jsonl").read_text().splitlines(),
    )
}


def store(story_id: str, *, published_at: str | None = None, url: str | None = None) -> Article:
    r = GOLD[story_id]
    return article_ingest(
        url=url or f"https://{r['source'].replace(' ', '').lower()}.example/{story_id}",
        title=r["title"],
        text=r["text"],
        source=r["source"],
        published_at=published_at or r["published_at"],
        enqueue=False,
    ).article


def fresh(article: Article) -> Article:
    article.refresh_from_db()
    return article


@pytest.mark.django_db
def test_a_syndicated_copy_joins_the_original():
    original = store("dam/original")
    copy = store("dam/trimmed-boilerplate")  # another site: last paragraphs cut, boilerplate
    reworded = store("dam/everything")  # byline, trimmed, boilerplate, reworded
    assert fresh(copy).copy_of == original
    assert fresh(reworded).copy_of == original
    assert fresh(original).copy_of is None
    assert 0.6 <= fresh(copy).copy_similarity <= 1


@pytest.mark.django_db
def test_an_update_with_a_new_lead_joins_its_story():
    original = store("quake/original")
    update = store("quake/update")
    assert fresh(update).copy_of == original


@pytest.mark.django_db
@pytest.mark.parametrize(
    "first, second",
    [
        ("football-1/original", "football-5/original"),  # same teams' template, other result
        ("weather-1/original", "weather-4/original"),  # same bulletin, other region
        ("markets-1/original", "markets-3/original"),  # same report, other day
        ("police-1/original", "police-2/original"),  # same town and day, other incident
        ("dam/original", "grain/original"),  # same dateline
        ("whale/original", "whale-day2/original"),  # next day's story on the same event
    ],
)
def test_stories_sharing_a_template_with_other_facts_stay_apart(first, second):
    a, b = store(first), store(second)
    assert fresh(a).copy_of is None
    assert fresh(b).copy_of is None


@pytest.mark.django_db
def test_a_copy_of_a_template_story_joins_its_own_original_not_a_sibling():
    store("football-1/original")
    five = store("football-5/original")
    copy = store("football-5/byline-boilerplate")
    assert fresh(copy).copy_of == five


@pytest.mark.django_db
def test_an_earlier_copy_ingested_later_represents_the_group():
    later = store("strike/original", published_at="2026-05-12T12:00:00+00:00")
    copy = store("strike/headline-byline", published_at="2026-05-12T13:00:00+00:00")
    earliest = store("strike/reworded", published_at="2026-05-12T08:00:00+00:00")
    assert fresh(earliest).copy_of is None
    assert fresh(later).copy_of == earliest
    assert fresh(copy).copy_of == earliest


@pytest.mark.django_db
def test_the_threshold_is_a_setting(settings):
    settings.COPY_THRESHOLD = 0.99
    store("rates/original")
    reworded = store("rates/everything")
    assert fresh(reworded).copy_of is None


@pytest.mark.django_db
def test_each_story_stores_its_band_keys(settings):
    article = store("vaccine/original")
    assert StoryBand.objects.filter(article=article).count() == settings.COPY_LSH_BANDS


@pytest.mark.django_db
def test_the_lookup_reads_the_stored_keys_not_the_stories_text():
    """A rebuild or a re-ingest needs no recomputation: candidates come from
    the keys stored at ingest (here: the original's text is changed under
    it, and its copy is still found through its keys)."""
    original = store("bridge/original")
    Article.objects.filter(pk=original.pk).update(text=GOLD["bridge/original"]["text"] + " .")
    copy = store("bridge/headline-byline")
    assert fresh(copy).copy_of == original


@pytest.mark.django_db
def test_the_same_url_ingested_again_is_one_story_in_its_group():
    original = store("merger/original")
    copy = store("merger/headline-byline", url="https://copy.example/merger")
    again = store("merger/headline-byline", url="https://copy.example/merger")
    assert again.pk == copy.pk
    assert fresh(copy).copy_of == original
    assert StoryBand.objects.filter(article=copy).count() > 0


# -- editors -----------------------------------------------------------------


@pytest.fixture
def group(db):
    original = store("election/original")
    copies = [store("election/headline-byline"), store("election/reworded")]
    return original, copies


def _action(client, action: str, ids: list[int]):
    return client.post(
        reverse("admin:articles_article_changelist"),
        {"action": action, "_selected_action": [str(i) for i in ids]},
        follow=True,
    )


def test_an_editor_splits_a_copy_out_and_it_stays_out(admin_client, group, run_on_commit):
    original, (first, second) = group
    with run_on_commit():
        response = _action(admin_client, "split_copy", [first.pk])
    assert response.status_code == 200
    first = fresh(first)
    assert first.copy_of is None and first.copy_by_editor
    assert fresh(second).copy_of == original
    entry = LogEntry.objects.get(object_id=str(first.pk))
    assert "Split" in entry.get_change_message()
    # Re-extraction leaves the editor's decision alone.
    from articles.services import articles_reset_for_extraction

    with run_on_commit():
        articles_reset_for_extraction(article_ids=[first.pk, original.pk])
    assert fresh(first).copy_of is None
    assert fresh(second).copy_of == original


def test_splitting_the_representative_leaves_the_earliest_copy_representing(
    admin_client, group, run_on_commit
):
    original, (first, second) = group
    with run_on_commit():
        _action(admin_client, "split_copy", [original.pk])
    assert fresh(original).copy_of is None
    assert fresh(first).copy_of is None  # the earliest remaining copy
    assert fresh(second).copy_of == first


def test_an_editor_joins_two_stories_and_chooses_the_representative(
    admin_client, db, run_on_commit
):
    a = store("court/original")
    b = store("vaccine/original")
    with run_on_commit():
        _action(admin_client, "join_copies", [a.pk, b.pk])
    assert fresh(a).copy_of is None  # the earliest
    assert fresh(b).copy_of == a
    assert LogEntry.objects.filter(object_id=str(b.pk)).exists()
    with run_on_commit():
        _action(admin_client, "make_representative", [b.pk])
    assert fresh(b).copy_of is None
    assert fresh(a).copy_of == b
    # A later automatic match does not displace the editor's representative.
    copy = store("court/headline-byline", published_at="2020-01-01T00:00:00+00:00")
    assert fresh(copy).copy_of == b


def test_the_story_admin_shows_the_group(admin_client, group):
    original, (first, _) = group
    response = admin_client.get(reverse("admin:articles_article_change", args=[first.pk]))
    page = response.content.decode()
    assert original.title in page
    assert "(representative)" in page
    response = admin_client.get(reverse("admin:articles_article_changelist") + "?copies=copy")
    assert first.title in response.content.decode()
