"""Real-shaped web pages (issue #12): every readable page stored, under its
real URL, with its real date, headline and language.

The saved pages in tests/data/pages are original pages written in the
shapes real sites have (see truth.json beside them); fetched pages are
served by pytest-httpserver.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.models import Article
from articles.services import article_ingest, article_ingest_url
from articles.webpages import choose_url, is_story_url, parse_html, read_page
from entities.extraction import articles_extract
from entities.models import Mention
from tests.articles.feed_docs import HTML, RSS, rss
from tests.browse import pages as page_reader

pytestmark = pytest.mark.django_db

PAGES = Path(__file__).resolve().parent.parent / "data" / "pages"
TRUTH = {k: v for k, v in json.loads((PAGES / "truth.json").read_text()).items() if k[0] != "_"}
ALL_PAGES = [str(PAGES / name) for name in sorted(TRUTH)]


def ingest(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("ingest", *args, "--no-extract", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_a_saved_page_is_stored_with_its_url_title_date_and_language(name):
    want = TRUTH[name]
    assert "1 added" in ingest(str(PAGES / name))
    article = Article.objects.get()
    if want["url"] == "file:":
        assert article.url.startswith("file:sha256:")
    else:
        assert article.url == want["url"]
    assert article.title == want["title"]
    assert article.language == want["language"]
    if want["date"]:
        assert article.date_source == Article.DateSource.PAGE
        assert article.published_at.date().isoformat() == want["date"]
    else:
        assert article.date_source == Article.DateSource.INGESTED
    assert article.page_metadata  # kept, for manage.py redate


def test_a_folder_of_saved_pages_stores_every_one(tmp_path):
    for name in TRUTH:
        shutil.copy(PAGES / name, tmp_path / name)
    out = ingest(str(tmp_path))
    assert f"{len(TRUTH)} added, 0 duplicates, 0 failed" in out


def test_page_dates_are_utc_and_keep_their_time():
    ingest(str(PAGES / "date-jsonld-only.html"))
    # 2024-11-05T01:30:00+03:00 in the page's JSON-LD
    assert Article.objects.get().published_at == datetime(2024, 11, 4, 22, 30, tzinfo=UTC)


def test_three_stories_from_a_site_whose_canonical_is_its_front_page_are_three(tmp_path):
    for name in ("frontpage-canonical-a.html", "frontpage-canonical-b.html"):
        shutil.copy(PAGES / name, tmp_path / name)
    shutil.copy(PAGES / "frontpage-canonical-c.html", tmp_path / "c.html")
    out = ingest(str(tmp_path), "--base-url", "https://archive.example.org/valley/")
    assert "3 added, 0 duplicates" in out
    assert sorted(Article.objects.values_list("url", flat=True)) == [
        "https://archive.example.org/valley/c.html",
        "https://archive.example.org/valley/frontpage-canonical-a.html",
        "https://archive.example.org/valley/frontpage-canonical-b.html",
    ]


def test_three_fetched_stories_whose_canonical_is_the_front_page_are_three(httpserver):
    root = httpserver.url_for("/")
    for n, name in enumerate("abc"):
        html = (PAGES / f"frontpage-canonical-{name}.html").read_text()
        html = html.replace("https://www.valleyherald.example/", root)
        httpserver.expect_request(f"/news/story-{n}").respond_with_data(html, content_type=HTML)
    for n in range(3):
        assert article_ingest_url(url=httpserver.url_for(f"/news/story-{n}"), enqueue=False).created
    assert Article.objects.count() == 3
    assert {a.url for a in Article.objects.all()} == {
        httpserver.url_for(f"/news/story-{n}") for n in range(3)
    }


def test_a_fetched_page_is_stored_under_its_canonical_url_on_the_same_site(httpserver):
    html = (PAGES / "early-body-element.html").read_text()
    canonical = httpserver.url_for("/local/2024/10/ferry-timetable-cut-for-winter")
    html = html.replace(
        "https://www.harbourtimes.example/local/2024/10/ferry-timetable-cut-for-winter", canonical
    )
    httpserver.expect_request("/amp/ferry").respond_with_data(html, content_type=HTML)
    article = article_ingest_url(url=httpserver.url_for("/amp/ferry"), enqueue=False).article
    assert article.url == canonical
    assert article.published_at.date().isoformat() == "2024-10-03"
    # Asked for again by either address: the same story.
    assert not article_ingest_url(url=canonical, enqueue=False).created


def test_a_canonical_url_on_another_site_is_not_taken(httpserver):
    html = (PAGES / "og-url-differs.html").read_text()  # its canonical is elsewhere
    httpserver.expect_request("/mill").respond_with_data(html, content_type=HTML)
    article = article_ingest_url(url=httpserver.url_for("/mill"), enqueue=False).article
    assert article.url == httpserver.url_for("/mill")
    assert article.title == "Paper mill reopens three months after the flood"


@pytest.mark.parametrize(
    ("url", "story"),
    [
        ("https://news.example.com/", False),
        ("https://news.example.com/index.html", False),
        ("https://news.example.com/news/", False),
        ("https://news.example.com/world/europe", False),
        ("https://news.example.com/tag/iran", False),
        ("https://news.example.com/2024/05/", False),
        ("https://news.example.com/world/geneva-talks", True),
        ("https://news.example.com/news/2024-12/01/content_58213.htm", True),
        ("https://news.example.com/article.php?id=991", True),
        ("https://news.example.com/lokales/bruecke-gesperrt-id4471", True),
    ],
)
def test_which_urls_name_a_story(url, story):
    assert is_story_url(url) is story


def test_a_canonical_above_the_fetched_page_is_a_section_front():
    tree = parse_html('<link rel="canonical" href="https://x.example/politics/elections">')
    fetched = "https://x.example/politics/elections/2024/results-night"
    assert choose_url(tree, fetched_url=fetched) == (fetched, "fetched")


def test_the_headline_is_never_the_site_name_alone():
    # <title> and og:title are the site's name; the headline is the <h1>.
    assert read_page((PAGES / "de-bridge-closure.html").read_text()).title == (
        "Alte Brücke wird monatelang gesperrt"
    )


def test_a_page_date_in_the_future_is_not_taken():
    future = (timezone.now().year + 2, 5, 1)
    html = (
        (PAGES / "undated.html")
        .read_text()
        .replace(
            "<head>",
            f'<head><meta property="article:published_time" content="{future[0]}-05-01">',
        )
    )
    assert read_page(html).published_at is None


# --- what people see ----------------------------------------------------------------


def _russian_story() -> Article:
    ingest(str(PAGES / "ru-tram-line.html"))
    return Article.objects.get(language="ru")


def test_a_story_in_a_language_without_a_model_gets_no_entities_and_says_so(client):
    article = _russian_story()
    articles_extract(article_ids=[article.id])
    article.refresh_from_db()
    assert article.status == Article.Status.EXTRACTED
    assert not Mention.objects.filter(article=article).exists()

    page = page_reader.parse(client.get(article.get_absolute_url()))
    assert page_reader.texts(page, ".about-none") == ["No entities: language ru (Russian)"]
    assert "Russian" in page_reader.text(page_reader.one(page, ".story-meta"))
    assert page_reader.one(page, "h1").get("lang") == "ru"
    story = client.get(reverse("api:story_detail", kwargs={"story_id": article.id})).json()
    assert story["language"] == "ru"
    assert story["entities_note"] == "No entities: language ru (Russian)"


def test_a_configured_model_reads_its_language(settings):
    settings.SPACY_MODELS = {"en": settings.SPACY_MODEL, "de": settings.SPACY_MODEL}
    article = article_ingest(
        url="https://zeitung.example/politik/merkel-besucht-paris",
        title="Angela Merkel besucht Paris",
        text="Die frühere Bundeskanzlerin Angela Merkel hat am Montag Paris besucht. "
        "Sie traf dort Emmanuel Macron und sprach mit ihm über die Zukunft Europas.",
        enqueue=False,
    ).article
    assert article.language == "de"
    articles_extract(article_ids=[article.id])
    assert Mention.objects.filter(article=article).exists()


def test_stories_in_other_languages_are_found_by_text_and_filtered_by_language(client):
    ingest(*ALL_PAGES)
    ids = list(Article.objects.values_list("id", flat=True))
    articles_extract(article_ids=ids)

    page = page_reader.parse(client.get(reverse("articles:search"), {"q": "трамвайная"}))
    assert page_reader.titles(page) == ["В Заречном районе откроют новую трамвайную линию"]

    page = page_reader.parse(client.get(reverse("articles:search"), {"language": "pt"}))
    assert page_reader.titles(page) == ["Feira livre volta ao centro depois de dois anos"]
    options = page_reader.texts(page, "select[name=language] option")
    assert {"Any language", "Chinese", "English", "Portuguese", "Russian"} <= set(options)

    found = client.get(reverse("api:search"), {"language": "zh"}).json()
    assert [s["title"] for s in found["results"]] == ["市图书馆延长夜间开放时间"]
    assert found["results"][0]["date_source"] == "page"


def test_an_undated_story_says_it_was_dated_at_ingest(client):
    ingest(str(PAGES / "undated.html"))
    article = Article.objects.get()
    page = page_reader.parse(client.get(article.get_absolute_url()))
    assert "(date of ingest)" in page_reader.text(page_reader.one(page, ".story-meta"))
    found = client.get(reverse("api:search")).json()
    assert found["results"][0]["date_source"] == "ingested"


def test_a_saved_page_without_a_url_has_no_original_link(client):
    ingest(str(PAGES / "no-url.html"))
    article = Article.objects.get()
    page = page_reader.parse(client.get(article.get_absolute_url()))
    assert page_reader.texts(page, ".breadcrumb") == ["saved page, no web address"]
    assert not page_reader.select(page, ".story-meta a")
    assert "No web address" in page_reader.text(page_reader.one(page, ".story-meta"))
    results = page_reader.parse(client.get(reverse("articles:search"), {"q": "allotment"}))
    link = page_reader.one(results, ".story-title a")
    assert link.get("href") == article.get_absolute_url()


# --- feeds ------------------------------------------------------------------------------


def test_a_feed_entry_is_dated_by_the_feed_else_by_its_page(httpserver):
    from articles.feeds import feed_ingest

    dated = (PAGES / "date-time-element-only.html").read_text()
    other = (PAGES / "date-url-only.html").read_text()
    httpserver.expect_request("/bus").respond_with_data(dated, content_type=HTML)
    httpserver.expect_request("/library").respond_with_data(other, content_type=HTML)
    feed = rss(
        [
            {"title": "Night bus", "link": httpserver.url_for("/bus"), "date": ""},
            {"title": "Library", "link": httpserver.url_for("/library")},
        ]
    )
    httpserver.expect_request("/feed").respond_with_data(feed, content_type=RSS)
    report = feed_ingest(url=httpserver.url_for("/feed"), enqueue=False)
    assert len(report.added) == 2, report.failed
    bus, library = (Article.objects.get(title=t) for t in ("Night bus", "Library"))
    assert (bus.date_source, bus.published_at.date().isoformat()) == ("page", "2023-06-14")
    assert (library.date_source, library.published_at.isoformat()) == (
        "feed",
        "2025-02-04T10:00:00+00:00",
    )


# --- manage.py redate -------------------------------------------------------------------


def redate(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("redate", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_redate_reads_the_date_again_from_the_kept_page_metadata():
    ingest(str(PAGES / "zh-library-hours.html"), str(PAGES / "undated.html"))
    zh = Article.objects.get(language="zh")
    # As stored before issue #12: dated at ingest.
    Article.objects.filter(pk=zh.pk).update(
        published_at=timezone.now(), date_source=Article.DateSource.INGESTED
    )
    given = article_ingest(
        url="https://example.com/given",
        text="A story whose date was given with it.",
        published_at="2020-01-01T00:00:00Z",
        enqueue=False,
    ).article

    out = redate()
    assert "redate: 1 redated, 0 unchanged, 1 no date found, 0 skipped" in out
    zh.refresh_from_db()
    assert zh.date_source == Article.DateSource.PAGE
    assert zh.published_at.date().isoformat() == "2024-12-01"
    given.refresh_from_db()
    assert given.published_at == datetime(2020, 1, 1, tzinfo=UTC)


def test_redate_refetches_stories_that_were_stored_as_text(httpserver):
    url = httpserver.url_for("/local/2024/10/ferry")
    httpserver.expect_request("/local/2024/10/ferry").respond_with_data(
        (PAGES / "early-body-element.html").read_text(), content_type=HTML
    )
    article = article_ingest(url=url, text="The ferry story, stored as text.", enqueue=False)
    assert article.article.date_source == Article.DateSource.INGESTED

    assert "1 skipped" in redate()  # nothing kept to read it from
    assert "1 redated" in redate("--refetch")
    article.article.refresh_from_db()
    assert article.article.published_at.date().isoformat() == "2024-10-03"
    assert article.article.page_metadata
