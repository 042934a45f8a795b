"""The story page /articles/<id>/ (SPEC §3): its basics, as a reader sees them."""

import pytest

from tests.browse.pages import one, parse, select, story_about, text, texts
from tests.factories import ArticleFactory, EntityFactory, SourceFactory

pytestmark = pytest.mark.django_db

URL = "https://www.theatlantic.com/international/archive/2025/02/iraq-leaving-irans-axis/681825/"


@pytest.fixture
def story(ingest_story):
    return ingest_story(
        "Even Iraq Wants to Leave Iran's Axis",
        "Iraqi President Abdul Latif Rashid met Ali Nima in Baghdad on Monday.\n\n"
        "Prime Minister Mohammed al-Sudani said Iraq would not be a battlefield for Iran. "
        "Sudani spoke after the meeting.",
        url=URL,
        source="The Atlantic",
        published_at="2025-02-01T10:00:00+00:00",
    )


def test_title_source_date_breadcrumb_and_original_link(client, story):
    page = parse(client.get(f"/articles/{story.pk}/"))
    assert text(one(page, "h1")) == "Even Iraq Wants to Leave Iran's Axis"
    assert "Even Iraq Wants to Leave Iran's Axis" in text(one(page, "title"))
    assert text(one(page, ".breadcrumb")) == (
        "www.theatlantic.com › international › archive › 2025 › 02"
        " › iraq-leaving-irans-axis › 681825"
    )
    meta = text(one(page, ".story-meta"))
    assert meta.startswith("The Atlantic · 1 Feb 2025")
    original = [a for a in select(page, "a") if a.get("href") == URL]
    assert original, "no link to the original"


def test_about_list_sorted_linked_and_starred(client, story):
    page = parse(client.get(f"/articles/{story.pk}/"))
    assert text(page).count("This story seems to be about:") == 1
    names = texts(page, ".about-list li > a")
    assert names == sorted(names, key=str.casefold)
    assert {"Abdul Latif Rashid", "Ali Nima", "Mohammed al-Sudani", "Iran"} <= set(names)
    mentions = {m.entity.name: m for m in story.mentions.select_related("entity")}
    assert set(names) == set(mentions)
    for item in select(page, ".about-list li"):
        link = one(item, "a")
        mention = mentions[text(link)]
        assert link.get("href") == mention.entity.get_absolute_url()
        stars = one(item, ".stars")
        assert text(stars) == "★" * mention.stars
        assert stars.get("aria-label") == f"{mention.stars} of 4 stars"


def test_the_text_is_shown_in_paragraphs(client, story):
    page = parse(client.get(f"/articles/{story.pk}/"))
    paragraphs = texts(page, ".story-text p")
    assert paragraphs == [
        "Iraqi President Abdul Latif Rashid met Ali Nima in Baghdad on Monday.",
        "Prime Minister Mohammed al-Sudani said Iraq would not be a battlefield for Iran. "
        "Sudani spoke after the meeting.",
    ]


def test_story_with_many_entities_has_a_show_all_disclosure(client):
    article = story_about(
        {EntityFactory(name=f"Name {i:02d}"): (1 + i % 4, float(i)) for i in range(35)}
    )
    page = parse(client.get(f"/articles/{article.pk}/"))
    assert len(select(page, ".about > .about-list li")) == 30
    assert len(select(page, "details .about-list li")) == 5


def test_markup_in_the_story_is_inert(client):
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    article = story_about(
        {EntityFactory(name=f"Name {evil}"): 2},
        title=f"Title {evil}",
        text=f"Body {evil}\n\nMore {evil}",
        source=SourceFactory(name=f"Source {evil}"),
    )
    response = client.get(f"/articles/{article.pk}/")
    page = parse(response)
    assert not [s for s in select(page, "script") if not s.get("src")]
    assert not select(page, "img, [onerror]")
    assert b"<script>alert" not in response.content
    assert text(one(page, "h1")) == f"Title {evil}"
    assert texts(page, ".story-text p") == [f"Body {evil}", f"More {evil}"]
    assert texts(page, ".about-list li > a") == [f"Name {evil}"]


def test_pending_story_says_entities_are_coming(client):
    article = ArticleFactory(status="pending")
    page = parse(client.get(f"/articles/{article.pk}/"))
    assert "being extracted" in text(page)
    assert not select(page, ".about-list")


@pytest.mark.parametrize("path", ["/articles/999999/", "/articles/0/"])
def test_unknown_story_is_404(client, path):
    ArticleFactory()
    assert client.get(path).status_code == 404


def test_non_numeric_id_is_404(client):
    assert client.get("/articles/abc/").status_code == 404


def test_search_result_links_to_the_story_page(client, story):
    page = parse(client.get("/", {"q": "Iran"}))
    links = [a.get("href") for a in select(page, "article.story a")]
    assert f"/articles/{story.pk}/" in links
