"""Feeds: polling (conditional GET), entry pages through trafilatura, beat,
the admin's "poll now" and `manage.py ingest --feed` (SPEC §4, §5).

Feeds and the pages their entries link to are served by pytest-httpserver.
"""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from werkzeug import Response

from articles.feeds import feed_ingest, feed_poll
from articles.models import Article, Feed
from articles.services import article_ingest_url
from articles.tasks import poll_due_feeds
from tests.articles.feed_docs import ATOM, RSS, article_html, atom, rss, serve_page

pytestmark = pytest.mark.django_db

DAM = (
    "Dam talks resume in Addis Ababa",
    "Engineers from Egypt and Ethiopia met in Addis Ababa on Tuesday to resume talks over "
    "the Grand Ethiopian Renaissance Dam, officials said.",
    "The African Union has offered to mediate. Negotiators expect a draft agreement on "
    "filling the reservoir before the rainy season begins in June.",
)
PORT = (
    "Port of Rotterdam opens new terminal",
    "The Port of Rotterdam opened a container terminal on Monday, adding capacity for "
    "ships from Shanghai and Singapore.",
    "Dutch officials said the terminal would run on electricity from offshore wind farms.",
)


def _two_story_site(httpserver) -> list[dict]:
    links = [
        serve_page(httpserver, "/world/dam-talks", article_html(*DAM)),
        serve_page(httpserver, "/business/rotterdam-terminal", article_html(*PORT)),
    ]
    return [
        {"title": DAM[0], "link": links[0], "description": "Short teaser about the dam."},
        {"title": PORT[0], "link": links[1], "description": "Short teaser about the port."},
    ]


def test_poll_turns_rss_entries_into_extracted_stories(httpserver, run_on_commit):
    items = _two_story_site(httpserver)
    httpserver.expect_request("/rss.xml").respond_with_data(rss(items), content_type=RSS)
    feed = Feed.objects.create(url=httpserver.url_for("/rss.xml"))

    with run_on_commit():
        report = feed_poll(feed_id=feed.pk)

    assert report.summary() == "2 entries: 2 added, 0 duplicates, 0 failed"
    dam = Article.objects.get(url=items[0]["link"])
    # trafilatura's main text: the story, not the page's boilerplate or the teaser.
    assert "Grand Ethiopian Renaissance Dam" in dam.text
    assert "African Union has offered to mediate" in dam.text
    assert "Subscribe" not in dam.text and "Copyright" not in dam.text
    assert "teaser" not in dam.text
    assert dam.title == DAM[0]
    assert dam.source.name == "Local Wire"
    assert dam.published_at.isoformat() == "2025-02-04T10:00:00+00:00"
    # Extraction ran after commit (eagerly, as a worker would).
    assert set(Article.objects.values_list("status", flat=True)) == {"extracted"}
    assert dam.mentions.filter(entity__name="Addis Ababa").exists()
    feed.refresh_from_db()
    assert (feed.last_result, feed.last_added, feed.stories_added) == ("ok", 2, 2)
    assert feed.title == "Local Wire"
    assert feed.last_polled_at is not None and feed.next_poll_at > feed.last_polled_at


def test_atom_entry_falls_back_to_its_own_content_when_the_page_is_unreachable(httpserver):
    dead = httpserver.url_for("/gone/story")
    httpserver.expect_request("/gone/story").respond_with_data("gone", status=410)
    empty = serve_page(httpserver, "/empty/story", "<html><body><nav>Home</nav></body></html>")
    entries = [
        {
            "title": "Wind farm approved",
            "link": dead,
            "content": "<p>Regulators in <b>Denmark</b> approved the wind farm.</p>"
            "<p>Construction starts in <i>spring</i>.</p><script>alert('x')</script>",
        },
        {
            "title": "Bridge reopens",
            "link": empty,
            "content": "<div>The Øresund Bridge reopened after repairs.</div>",
        },
    ]
    httpserver.expect_request("/atom.xml").respond_with_data(atom(entries), content_type=ATOM)

    report = feed_ingest(url=httpserver.url_for("/atom.xml"), enqueue=False)

    assert len(report.added) == 2, report.failed
    wind = Article.objects.get(url=dead)
    assert wind.text == (
        "Regulators in Denmark approved the wind farm.\n\nConstruction starts in spring."
    )
    assert wind.source.name == "Atom Wire"
    assert wind.published_at.isoformat() == "2025-02-05T08:30:00+00:00"
    bridge = Article.objects.get(url=empty)
    assert bridge.text == "The Øresund Bridge reopened after repairs."


def test_second_poll_is_a_conditional_get_answered_304(httpserver, capsys, request):
    items = _two_story_site(httpserver)
    body = rss(items)
    validators = {"ETag": '"wire-v1"', "Last-Modified": "Tue, 04 Feb 2025 10:00:00 GMT"}

    def conditional(request):
        if request.headers.get("If-None-Match") == validators["ETag"]:
            return Response(status=304, headers=validators)
        return Response(body, content_type=RSS, headers=validators)

    httpserver.expect_request("/rss.xml").respond_with_handler(conditional)
    feed = Feed.objects.create(url=httpserver.url_for("/rss.xml"))

    first = feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    stored = list(Article.objects.order_by("id").values())
    assert (feed.last_result, feed.etag, feed.last_modified) == (
        "ok",
        '"wire-v1"',
        "Tue, 04 Feb 2025 10:00:00 GMT",
    )
    requests_before = len(httpserver.log)

    second = feed_poll(feed_id=feed.pk)

    feed.refresh_from_db()
    new_requests = httpserver.log[requests_before:]
    assert len(new_requests) == 1  # the feed only: no entry page fetched again
    sent, answer = new_requests[0]
    assert sent.headers["If-None-Match"] == '"wire-v1"'
    assert sent.headers["If-Modified-Since"] == "Tue, 04 Feb 2025 10:00:00 GMT"
    assert answer.status_code == 304
    assert feed.last_result == Feed.Result.NOT_MODIFIED
    assert (feed.last_added, feed.stories_added) == (0, 2)
    assert list(Article.objects.order_by("id").values()) == stored
    if request.config.get_verbosity() < 1:
        return
    with capsys.disabled():  # the evidence for the issue, with `pytest -v`
        print()
        for number, (req, resp) in enumerate([httpserver.log[0], new_requests[0]], start=1):
            conditional_headers = {
                k: v for k, v in req.headers.items() if k.startswith("If-")
            } or "none"
            print(f"  poll {number}: GET {req.path} conditional={conditional_headers}")
            print(f"          -> HTTP {resp.status_code}; ", end="")
            print((first if number == 1 else second).summary())
        print(f"  feed.last_result={feed.last_result!r} stories_added={feed.stories_added}")


def test_feed_without_etag_is_polled_with_if_modified_since(httpserver):
    def conditional(request):
        if request.headers.get("If-Modified-Since") == "Wed, 05 Feb 2025 08:00:00 GMT":
            return Response(status=304)
        return Response(
            rss([]), content_type=RSS, headers={"Last-Modified": "Wed, 05 Feb 2025 08:00:00 GMT"}
        )

    httpserver.expect_request("/rss.xml").respond_with_handler(conditional)
    feed = Feed.objects.create(url=httpserver.url_for("/rss.xml"))

    feed_poll(feed_id=feed.pk)
    feed_poll(feed_id=feed.pk)

    feed.refresh_from_db()
    assert feed.last_result == Feed.Result.NOT_MODIFIED
    assert "If-None-Match" not in httpserver.log[1][0].headers


def test_a_server_ignoring_validators_only_yields_duplicates(httpserver):
    items = _two_story_site(httpserver)
    httpserver.expect_request("/rss.xml").respond_with_data(rss(items), content_type=RSS)
    feed = Feed.objects.create(url=httpserver.url_for("/rss.xml"))

    feed_poll(feed_id=feed.pk)
    report = feed_poll(feed_id=feed.pk)

    assert report.summary() == "2 entries: 0 added, 2 duplicates, 0 failed"
    assert Article.objects.count() == 2
    feed.refresh_from_db()
    assert (feed.last_result, feed.last_added, feed.stories_added) == ("ok", 0, 2)


def test_a_big_feed_is_read_over_several_polls_without_keeping_validators(httpserver, settings):
    settings.FEED_MAX_ENTRIES_PER_POLL = 2
    entries = [
        {"title": f"Story {n}", "link": httpserver.url_for(f"/none/{n}"), "content": f"Text {n}."}
        for n in range(1, 6)
    ]
    httpserver.expect_request("/atom.xml").respond_with_data(
        atom(entries), content_type=ATOM, headers={"ETag": '"big"'}
    )
    feed = Feed.objects.create(url=httpserver.url_for("/atom.xml"))

    first = feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert first.summary() == "5 entries: 2 added, 0 duplicates, 0 failed, 3 left for the next poll"
    assert feed.etag == ""  # so the next poll is not answered 304
    assert feed.last_error == "3 entries left for the next poll"

    feed_poll(feed_id=feed.pk)
    last = feed_poll(feed_id=feed.pk)

    feed.refresh_from_db()
    assert last.summary() == "5 entries: 1 added, 4 duplicates, 0 failed"
    assert (feed.etag, feed.stories_added, feed.last_error) == ('"big"', 5, "")
    assert Article.objects.count() == 5


@pytest.mark.parametrize(
    ("status", "content_type", "body", "message"),
    [
        (500, RSS, "no", "HTTP 500"),
        (200, "image/png", b"\x89PNG", "unexpected content type 'image/png'"),
        (200, "text/xml", "hello", "not a feed"),
    ],
    ids=["http-500", "image", "not-xml"],
)
def test_a_broken_feed_is_marked_failed_and_nothing_is_lost(
    httpserver, status, content_type, body, message
):
    kept = article_ingest_url(url=serve_page(httpserver, "/kept", article_html(*DAM)))
    httpserver.expect_request("/f").respond_with_data(
        body, status=status, content_type=content_type
    )
    feed = Feed.objects.create(url=httpserver.url_for("/f"), etag='"old"', stories_added=7)

    assert feed_poll(feed_id=feed.pk) is None

    feed.refresh_from_db()
    assert feed.last_result == Feed.Result.ERROR
    assert message in feed.last_error
    assert (feed.etag, feed.stories_added) == ('"old"', 7)
    assert feed.next_poll_at > timezone.now()  # retried at its interval, not every minute
    assert list(Article.objects.all()) == [kept.article]


def test_a_feed_at_a_private_address_is_refused():
    feed = Feed.objects.create(url="http://10.0.0.1/rss.xml")

    feed_poll(feed_id=feed.pk)

    feed.refresh_from_db()
    assert feed.last_result == Feed.Result.ERROR
    assert "refused to fetch from 10.0.0.1: private address" in feed.last_error


def test_poll_due_feeds_only_polls_due_active_feeds(httpserver, run_on_commit):
    httpserver.expect_request(re.compile(r"/.*\.xml")).respond_with_data(rss([]), content_type=RSS)
    now = timezone.now()
    never = Feed.objects.create(url=httpserver.url_for("/never.xml"))
    overdue = Feed.objects.create(
        url=httpserver.url_for("/overdue.xml"), next_poll_at=now - timedelta(minutes=1)
    )
    later = Feed.objects.create(
        url=httpserver.url_for("/later.xml"), next_poll_at=now + timedelta(minutes=20)
    )
    inactive = Feed.objects.create(url=httpserver.url_for("/inactive.xml"), active=False)

    with run_on_commit():  # the polls are queued after commit
        assert poll_due_feeds() == 2

    assert sorted(req.path for req, _ in httpserver.log) == ["/never.xml", "/overdue.xml"]
    for feed in (never, overdue, later, inactive):
        feed.refresh_from_db()
    assert never.last_result == overdue.last_result == Feed.Result.OK
    assert later.last_polled_at is None and inactive.last_polled_at is None
    # Polled feeds are not due again until their interval has passed.
    assert set(Feed.objects.due()) == set()
    assert set(Feed.objects.due(now=now + timedelta(minutes=31))) == {never, overdue, later}


def test_beat_schedules_the_due_feed_poll(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["poll-due-feeds"]
    assert schedule["task"] == "articles.tasks.poll_due_feeds"


def test_admin_poll_now(admin_client, httpserver, run_on_commit):
    items = _two_story_site(httpserver)
    httpserver.expect_request("/rss.xml").respond_with_data(rss(items), content_type=RSS)
    feed = Feed.objects.create(url=httpserver.url_for("/rss.xml"))
    changelist = reverse("admin:articles_feed_changelist")

    with run_on_commit():
        response = admin_client.post(
            changelist, {"action": "poll_now", "_selected_action": [feed.pk]}, follow=True
        )

    assert response.status_code == 200
    assert "Polling 1 feed;" in response.content.decode()
    feed.refresh_from_db()
    assert (feed.last_result, feed.stories_added) == ("ok", 2)
    page = admin_client.get(changelist).content.decode()
    assert "New entries read" in page
    change = admin_client.get(reverse("admin:articles_feed_change", args=[feed.pk]))
    assert change.status_code == 200


def test_admin_add_feed_form(admin_client, httpserver):
    response = admin_client.post(
        reverse("admin:articles_feed_add"),
        {
            "url": httpserver.url_for("/rss.xml"),
            "title": "",
            "poll_interval_minutes": 15,
            "active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Feed.objects.get().poll_interval_minutes == 15


def test_manage_py_ingest_feed(httpserver):
    items = _two_story_site(httpserver)
    items.append({"title": "Broken", "link": "javascript:alert(1)", "description": "x"})
    httpserver.expect_request("/rss.xml").respond_with_data(rss(items), content_type=RSS)
    url = httpserver.url_for("/rss.xml")
    out, err = io.StringIO(), io.StringIO()

    call_command("ingest", url, "--feed", stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    assert f"{url}: 3 entries: 2 added, 0 duplicates, 1 failed" in lines
    assert re.fullmatch(
        r"ingest: 2 added, 0 duplicates, 1 failed; 2 extracted \(\d+ entity mentions\) in .*s",
        lines[-1],
    )
    assert "entry 3 (javascript:alert(1)): not an http(s) URL" in err.getvalue()
    assert Article.objects.extracted().count() == 2
    assert Feed.objects.count() == 0  # one-off: no subscription is created


def test_manage_py_ingest_feed_refused(httpserver):
    from django.core.management import CommandError

    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was ingested"):
        call_command("ingest", "http://169.254.169.254/feed", "--feed", stderr=err)
    assert "link-local address" in err.getvalue()


def test_feedparser_never_sees_a_path_or_url(tmp_path):
    """feedparser.parse(bytes) opens the bytes as a file name: a feed whose
    body is a local path must not read that file."""
    from articles.feeds import parse_feed
    from articles.services import IngestError

    local = tmp_path / "local.xml"
    local.write_text(rss([{"title": "Local", "link": "https://x.example/", "description": "x"}]))

    with pytest.raises(IngestError, match="not a feed"):
        parse_feed(str(local).encode(), url="https://feeds.example/rss")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le"])
def test_entity_declarations_are_refused_in_any_encoding(encoding):
    from articles.feeds import parse_feed
    from articles.services import IngestError
    from tests.articles.feed_docs import XML_BOMB

    with pytest.raises(IngestError, match="declares XML entities"):
        parse_feed(XML_BOMB.encode(encoding), url="https://feeds.example/rss")


def test_a_backed_up_worker_does_not_collect_duplicate_polls(
    httpserver, monkeypatch, run_on_commit
):
    from articles import tasks

    queued = []
    # A worker that is busy: the messages wait in the queue.
    monkeypatch.setattr(tasks.poll_feed, "apply_async", lambda **kw: queued.append(kw))
    Feed.objects.create(url=httpserver.url_for("/a.xml"))
    Feed.objects.create(url=httpserver.url_for("/b.xml"), poll_interval_minutes=5)

    with run_on_commit():
        assert poll_due_feeds() == 2
        assert poll_due_feeds() == 0  # the next beat tick: already claimed
    assert len(queued) == 2


def test_admin_add_by_url_fetches_and_extracts_the_page(admin_client, httpserver, run_on_commit):
    url = serve_page(httpserver, "/world/dam-talks", article_html(*DAM))

    with run_on_commit():
        response = admin_client.post(reverse("admin:articles_article_ingest"), {"url": url})

    article = Article.objects.get(url=url)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:articles_article_change", args=[article.pk])
    assert article.title == DAM[0] and "African Union" in article.text
    assert article.source.name == "localhost"
    assert article.status == Article.Status.EXTRACTED


def test_manage_py_ingest_url(httpserver):
    url = serve_page(httpserver, "/world/dam-talks", article_html(*DAM))
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "ingest", url, httpserver.url_for("/missing"), "--no-extract", stdout=out, stderr=err
    )

    assert out.getvalue().startswith("ingest: 1 added, 0 duplicates, 1 failed")
    assert "/missing: could not fetch" in err.getvalue()
