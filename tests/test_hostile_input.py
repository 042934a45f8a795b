"""Hostile input, as one table (issue #4).

Each case feeds one bad thing through a real entry point (the ingest command,
URL ingestion, a feed poll, the admin, the search page) and must end with a
clear message, only the bad item skipped or marked failed, and the stories
stored before the case unchanged. Pages and feeds come from pytest-httpserver.

`pytest tests/test_hostile_input.py -v` prints each case's outcome.
"""

from __future__ import annotations

import html as html_lib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from pytest_httpserver import HTTPServer

from articles.feeds import feed_poll
from articles.models import Article, Feed
from articles.services import IngestError, article_ingest, article_ingest_url
from entities.models import Entity
from tests.articles.feed_docs import (
    ATOM,
    RSS,
    XML_BOMB,
    article_html,
    atom,
    rss,
    serve_page,
)
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@dataclass
class Ctx:
    server: HTTPServer
    settings: object
    client: object
    admin_client: object
    tmp_path: Path
    run_on_commit: Callable
    monkeypatch: pytest.MonkeyPatch


@dataclass
class Outcome:
    message: str
    added: int = 0  # stories this case is expected to add (the good items)


@dataclass
class Case:
    id: str
    run: Callable[[Ctx], Outcome]
    expect: str  # regex the message must match


# --- entry points ----------------------------------------------------------------


def _ingest_command(ctx: Ctx, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest", *args, "--no-extract", stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}\n")
    return f"{out.getvalue().strip()} | {err.getvalue()}"


def _jsonl(ctx: Ctx, content: bytes) -> str:
    path = ctx.tmp_path / "stories.jsonl"
    path.write_bytes(content)
    return _ingest_command(ctx, str(path))


def _ingest_url(url: str) -> Outcome:
    try:
        result = article_ingest_url(url=url, enqueue=False)
    except IngestError as exc:
        return Outcome(f"refused: {exc}")
    return Outcome(f"added: {result.article.title!r}: {result.article.text[:80]!r}", added=1)


def _poll(ctx: Ctx, path: str, body: str | bytes, content_type: str = RSS) -> tuple[Feed, str]:
    ctx.server.expect_request(path).respond_with_data(body, content_type=content_type)
    feed = Feed.objects.create(url=ctx.server.url_for(path))
    report = feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    summary = report.summary() if report else "poll failed"
    return feed, f"{summary}; feed.last_result={feed.last_result!r}: {feed.last_error[:200]}"


# --- cases ------------------------------------------------------------------------

GOOD = b'{"url": "https://good.example/%d", "title": "Good %d", "text": "Fine text %d."}\n'


def jsonl_malformed(ctx: Ctx) -> Outcome:
    lines = [
        GOOD % (1, 1, 1),
        b"not json at all\n",
        b"[1, 2, 3]\n",
        b'{"url": 42, "text": "the url is a number"}\n',
        b'{"url": "https://bad.example/no-text"}\n',
        b'{"url": "ftp://bad.example/x", "text": "wrong scheme"}\n',
        b'{"url": "https://bad.example/d", "text": "bad date", "published_at": "last week"}\n',
        b'{"url": "https://bad.example/t", "text": {"nested": "object"}}\n',
        GOOD % (2, 2, 2),
    ]
    return Outcome(_jsonl(ctx, b"".join(lines)), added=2)


def jsonl_truncated(ctx: Ctx) -> Outcome:
    content = GOOD % (1, 1, 1) + b'{"url": "https://bad.example/cut", "title": "Cut off in the mi'
    return Outcome(_jsonl(ctx, content), added=1)


def jsonl_non_utf8(ctx: Ctx) -> Outcome:
    content = b'{"url": "https://latin.example/1", "text": "Caf\xe9 cr\xe8me in M\xfcnchen."}\n'
    message = _jsonl(ctx, content)
    text = Article.objects.get(url="https://latin.example/1").text
    assert "\ufffd" in text  # undecodable bytes replaced, not a crash
    return Outcome(f"{message.strip()} (stored text {text!r})", added=1)


def page_20mb(ctx: Ctx) -> Outcome:
    return _ingest_url(serve_page(ctx.server, "/huge", b"<p>" + b"a" * (20 * 2**20) + b"</p>"))


def page_binary_as_html(ctx: Ctx) -> Outcome:
    blob = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 64  # a zip archive
    return _ingest_url(serve_page(ctx.server, "/archive.html", blob))


def page_without_text(ctx: Ctx) -> Outcome:
    html = "<html><head><title></title><script>var x = 1;</script></head><body></body></html>"
    return _ingest_url(serve_page(ctx.server, "/blank", html))


def page_non_utf8(ctx: Ctx) -> Outcome:
    html = article_html(
        "Café society in Montréal",
        "Le café était fermé à Montréal, où l'hiver dure longtemps et la neige est épaisse.",
        "Les élèves sont allés à l'école près de la rivière malgré le froid glacial.",
    ).replace('<meta charset="utf-8">', "")
    url = serve_page(ctx.server, "/latin1", html.encode("latin-1"), "text/html; charset=utf-8")
    outcome = _ingest_url(url)
    assert "Le café était fermé" in Article.objects.get(url=url).text
    return outcome


def url_loopback(ctx: Ctx) -> Outcome:
    ctx.settings.FETCH_ALLOW_LOOPBACK = False  # as in production
    return _ingest_url(ctx.server.url_for("/story").replace("localhost", "127.0.0.1"))


def url_name_resolving_to_loopback(ctx: Ctx) -> Outcome:
    import socket

    ctx.settings.FETCH_ALLOW_LOOPBACK = False
    real = socket.getaddrinfo
    ctx.monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == "evil.example.com" else host, *a, **k),
    )
    serve_page(ctx.server, "/story", article_html("Should not be read", "Secret."))
    outcome = _ingest_url(f"http://evil.example.com:{ctx.server.port}/story")
    assert ctx.server.log == []
    return outcome


def url_redirect_to_metadata(ctx: Ctx) -> Outcome:
    ctx.server.expect_request("/r").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    return _ingest_url(ctx.server.url_for("/r"))


def url_case(url: str) -> Callable[[Ctx], Outcome]:
    return lambda ctx: _ingest_url(url)


def admin_add_by_url(ctx: Ctx) -> Outcome:
    response = ctx.admin_client.post(
        reverse("admin:articles_article_ingest"),
        {"url": "http://169.254.169.254/latest/meta-data/iam/"},
    )
    assert response.status_code == 200  # the form again, with the error
    errors = re.findall(r'<ul class="errorlist[^"]*">(.*?)</ul>', response.content.decode(), re.S)
    return Outcome("admin form error: " + re.sub(r"<[^>]+>", "", " ".join(errors)).strip())


def feed_xml_bomb(ctx: Ctx) -> Outcome:
    _feed, message = _poll(ctx, "/bomb.xml", XML_BOMB)
    return Outcome(message)


def feed_naming_a_local_file(ctx: Ctx) -> Outcome:
    """feedparser opens a bytes argument as a file path: the body must not be."""
    local = ctx.tmp_path / "local.xml"
    leak = {"title": "Leaked local file", "link": "https://leak.invalid/1", "description": "x"}
    local.write_text(rss([leak]))
    _feed, message = _poll(ctx, "/path.xml", str(local), "text/xml")
    assert not Article.objects.filter(title="Leaked local file").exists()
    return Outcome(message)


def feed_10000_entries(ctx: Ctx) -> Outcome:
    ctx.server.expect_request(re.compile(r"/missing/.*")).respond_with_data("", status=404)
    entries = [
        {
            "title": f"Entry {n}",
            "link": ctx.server.url_for(f"/missing/{n}"),
            "content": f"<p>Entry number {n} of a very long feed.</p>",
        }
        for n in range(10_000)
    ]
    feed, message = _poll(ctx, "/long.xml", atom(entries), ATOM)
    assert feed.etag == ""  # the next poll reads the rest
    return Outcome(message, added=ctx.settings.FEED_MAX_ENTRIES_PER_POLL)


PAYLOAD_TITLE = 'Tehran talks <script>alert("title")</script><img src=x onerror=alert(1)>'
PAYLOAD_TEXT = (
    "Iran and Iraq met in Tehran on Monday. <script>alert('text')</script>\n\n"
    'Officials from Baghdad <img src=x onerror="alert(2)"> said the talks '
    "<svg onload=alert(3)> would continue in Geneva."
)


class _LiveMarkup(HTMLParser):
    """Collects what a browser would run: <script> with our payload, on*
    attributes, and the payload's <img>/<svg> elements."""

    def __init__(self):
        super().__init__()
        self.live: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.live.append(f"<{tag} {name}={value!r}>")
        if tag in ("img", "svg") and ("src", "x") in attrs:
            self.live.append(f"<{tag} src=x>")

    def handle_data(self, data):
        if self._in_script and "alert(" in data:
            self.live.append(f"<script>{data[:40]}")

    def handle_endtag(self, tag):
        self._in_script = False


def _live_markup(html: str) -> list[str]:
    parser = _LiveMarkup()
    parser.feed(html)
    return parser.live


def story_with_script_payloads(ctx: Ctx) -> Outcome:
    with ctx.run_on_commit():
        article = article_ingest(
            url='https://evil.example/a"><script>alert(4)</script>/story',
            title=PAYLOAD_TITLE,
            text=PAYLOAD_TEXT,
            source="<b onmouseover=alert(5)>Evil Wire</b>",
        ).article
    article.refresh_from_db()
    assert article.status == Article.Status.EXTRACTED
    assert "<script>alert('text')</script>" in article.text  # stored as the text it is
    pages = {
        "admin change": reverse("admin:articles_article_change", args=[article.pk]),
        "admin list": reverse("admin:articles_article_changelist") + "?q=Tehran",
        "story page": article.get_absolute_url(),
        "search (text)": reverse("articles:search") + "?q=talks+continue",
        "search (latest)": reverse("articles:search"),
    }
    entity = Entity.objects.filter(mentions__article=article).order_by("name").first()
    if entity is not None:
        pages[f"entity page ({entity.name})"] = entity.get_absolute_url()
        pages["search (entity)"] = reverse("articles:search") + f"?q={entity.name}"
    for name, path in pages.items():
        client = ctx.admin_client if name.startswith("admin") else ctx.client
        response = client.get(path)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "alert(" in html, f"{name}: the story is not on the page"
        assert _live_markup(html) == [], f"{name}: live markup {_live_markup(html)}"
    return Outcome(f"stored as text; inert on {len(pages)} pages: {', '.join(pages)}", added=1)


def feed_entry_with_script(ctx: Ctx) -> Outcome:
    ctx.server.expect_request("/dead").respond_with_data("", status=404)
    entries = [
        {
            "title": "Storm <script>alert(1)</script> hits coast",
            "link": ctx.server.url_for("/dead"),
            "content": '<p>A storm hit the coast.</p><script>alert("c")</script>'
            '<img src=x onerror="alert(6)"><p>Power was cut.</p>',
        }
    ]
    _feed, message = _poll(ctx, "/xss.xml", atom(entries), ATOM)
    article = Article.objects.get(url=ctx.server.url_for("/dead"))
    assert article.text == "A storm hit the coast.\n\nPower was cut."
    page = ctx.client.get(article.get_absolute_url()).content.decode()
    assert _live_markup(page) == []
    return Outcome(f"{message} (text {article.text!r})", added=1)


def search(query: str) -> Callable[[Ctx], Outcome]:
    def run(ctx: Ctx) -> Outcome:
        for path in (reverse("articles:search"), reverse("articles:suggest")):
            response = ctx.client.get(path, {"q": query})
            assert response.status_code == 200, path
        html = ctx.client.get(reverse("articles:search"), {"q": query}).content.decode()
        found = re.search(
            r"That search could not be run[^<]*|No stories match[^<]*"
            r"|\d+ stor(?:y|ies) (?:matching|about)[^<]*",
            html,
        )
        assert found, "no message and no results"
        return Outcome(f"HTTP 200: {' '.join(html_lib.unescape(found.group(0)).split())[:120]}")

    return run


CASES = [
    Case(
        "jsonl: malformed lines -> each skipped with its line number, good lines added",
        jsonl_malformed,
        r"ingest: 2 added, 0 duplicates, 7 failed.*stories\.jsonl:2: invalid JSON"
        r".*:3: expected a JSON object.*:4: url must be a string.*:5: the story has no text"
        r".*:6: not an http\(s\) URL.*:7: published_at is not ISO.*:8: text must be a string",
    ),
    Case(
        "jsonl: file truncated mid-record -> last line skipped, rest added",
        jsonl_truncated,
        r"ingest: 1 added, 0 duplicates, 1 failed.*stories\.jsonl:2: invalid JSON \(Unterminated",
    ),
    Case(
        "jsonl: non-UTF-8 bytes -> replaced with U+FFFD, story added",
        jsonl_non_utf8,
        r"ingest: 1 added, 0 duplicates, 0 failed",
    ),
    Case(
        "url: 20 MB page -> refused, too large",
        page_20mb,
        r"refused: could not fetch .*: the response is too large \(20,971,527 bytes",
    ),
    Case(
        "url: binary served as text/html -> refused",
        page_binary_as_html,
        r"refused: .*binary content served as text/html",
    ),
    Case(
        "url: page with no text -> refused",
        page_without_text,
        r"refused: no story text found on the page",
    ),
    Case(
        "url: latin-1 page declared utf-8 -> decoded, added",
        page_non_utf8,
        r"added: 'Café society in Montréal'",
    ),
    Case(
        "url: 127.0.0.1 (production setting) -> refused, loopback",
        url_loopback,
        r"refused: .*refused to fetch from 127\.0\.0\.1: loopback address",
    ),
    Case(
        "url: public name resolving to 127.0.0.1 -> refused before connecting",
        url_name_resolving_to_loopback,
        r"refused: .*evil\.example\.com \(127\.0\.0\.1\): loopback address",
    ),
    Case(
        "url: 10.0.0.1 -> refused, private",
        url_case("http://10.0.0.1/internal"),
        r"refused: .*refused to fetch from 10\.0\.0\.1: private address",
    ),
    Case(
        "url: 169.254.169.254 metadata -> refused, link-local",
        url_case("http://169.254.169.254/latest/meta-data/"),
        r"refused: .*169\.254\.169\.254: link-local address",
    ),
    Case(
        "url: redirect hop to 169.254.169.254 -> refused",
        url_redirect_to_metadata,
        r"refused: .*169\.254\.169\.254: link-local address",
    ),
    Case(
        "url: file:///etc/passwd -> refused, scheme",
        url_case("file:///etc/passwd"),
        r"refused: not an http\(s\) URL: 'file:///etc/passwd'",
    ),
    Case(
        "url: gopher:// -> refused, scheme",
        url_case("gopher://127.0.0.1:6379/_FLUSHALL"),
        r"refused: not an http\(s\) URL: 'gopher://",
    ),
    Case(
        "admin add-by-URL: 169.254.169.254 -> form error",
        admin_add_by_url,
        r"admin form error: could not fetch .*169\.254\.169\.254: link-local address",
    ),
    Case(
        "feed: XML bomb -> feed marked error, nothing parsed",
        feed_xml_bomb,
        r"poll failed; feed.last_result='error': .*declares XML entities",
    ),
    Case(
        "feed: body naming a local file -> not a feed, file never opened",
        feed_naming_a_local_file,
        r"poll failed; feed.last_result='error': not a feed",
    ),
    Case(
        "feed: 10,000 entries -> 200 read, 9,800 left for the next poll",
        feed_10000_entries,
        r"10,000 entries: 200 added, 0 duplicates, 0 failed, 9,800 left for the next poll",
    ),
    Case(
        "story: <script> and onerror= payloads -> inert in admin, story, search, entity pages",
        story_with_script_payloads,
        r"stored as text; inert on \d+ pages",
    ),
    Case(
        "feed entry: <script> and onerror= in content -> stripped to text",
        feed_entry_with_script,
        r"1 entry: 1 added.*'A storm hit the coast",
    ),
    Case(
        "search: FTS operators '\"NEAR( AND OR * ^ col:x' -> 200 with a message",
        search('"NEAR( AND OR * ^ col:x'),
        r"HTTP 200",
    ),
    Case(
        "search: column filter and unbalanced quotes -> 200 with a message",
        search('title:secret AND "unbalanced OR text:"x"" NOT'),
        r"HTTP 200",
    ),
    Case(
        "search: lone operators '* - ^ ( ) {}' -> 200 with a message",
        search("* - ^ ( ) {} NEAR/3 :"),
        r"HTTP 200",
    ),
    Case(
        "search: a real word in unbalanced quotes and operators -> 200 with results",
        search('Vienna* ^"IAEA(:'),
        r"HTTP 200: 1 story matching",
    ),
    Case(
        "search: SQL-looking query -> 200, nothing dropped",
        search("'; DROP TABLE articles_article; --"),
        r"HTTP 200",
    ),
    Case(
        "search: 5,000-character query -> 200 with a message",
        search(("Iran " + '"quoted" OR ' * 10 + "x" * 100 + " ") * 20),
        r"HTTP 200",
    ),
]


def _snapshot() -> dict[int, dict]:
    return {row["id"]: row for row in Article.objects.values()}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input(
    case: Case,
    httpserver,
    settings,
    client,
    admin_client,
    tmp_path,
    django_capture_on_commit_callbacks,
    monkeypatch,
    capsys,
    request,
):
    ArticleFactory(title="Kept story about Iran", text="Iran and the IAEA met in Vienna.")
    ArticleFactory(title="Another kept story", text="Talks continue in Geneva.\n\nMore text.")
    ArticleFactory(title="Third kept story", text="Nothing to see.")
    before = _snapshot()
    ctx = Ctx(
        server=httpserver,
        settings=settings,
        client=client,
        admin_client=admin_client,
        tmp_path=tmp_path,
        run_on_commit=lambda: django_capture_on_commit_callbacks(execute=True),
        monkeypatch=monkeypatch,
    )

    outcome = case.run(ctx)

    message = " ".join(outcome.message.replace(f"{tmp_path}/", "").split())
    message = re.sub(r" in \d+\.\ds\b", "", message)  # the command's timing
    if request.config.get_verbosity() > 0:  # the outcome table for `pytest -v`
        with capsys.disabled():
            print(f"\n    -> {message[:300]}")
    assert re.search(case.expect, message), message
    after = _snapshot()
    assert {pk: after.get(pk) for pk in before} == before, "a stored story was lost or altered"
    assert len(after) == len(before) + outcome.added
