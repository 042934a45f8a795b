"""Hostile input, generated (issue #15): hypothesis strategies for every entry
point and the invariants each must keep, whatever it is fed. Over 400 lines:
each strategy sits beside the invariants it is checked against (a library for
tests/test_fuzz.py and bench/fuzz.py).

Entry points: the ingest command over JSONL files, HTML files, feeds and URLs;
the admin's add form; the pages and the API with arbitrary parameters.
Invariants: no uncaught exception and no HTTP 5xx; every record read counted
once as added, duplicate or failed; nothing left pending; the stories stored
before unchanged; what is stored clean (valid UTF-8 without controls, aware
dates, none beyond the future tolerance). Nothing reaches the network: names
other than localhost do not resolve and only loopback can be connected to;
pages and feeds come from a local server.

Used by tests/test_fuzz.py (derandomised, a few thousand examples per entry
point, in `make test`) and by bench/fuzz.py (long runs outside CI).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

# Set to a Counter to tally the outcomes (bench.fuzz --stats).
EVENTS: Counter | None = None


def event(value: str) -> None:
    """An outcome, for `--hypothesis-show-statistics` and `EVENTS`."""
    if EVENTS is not None:
        EVENTS[value] += 1
    with contextlib.suppress(InvalidArgument):
        hypothesis_event(value)


# --- text and JSON ---------------------------------------------------------------

SPECIALS = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1b[31m",
    "\x1f",
    "\x7f",
    "\x85",
    "\x9b",
    "\u00ad",
    "\u200b",
    "\u200d",
    "\u200e",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ufdd0",
    "\ufffe",
    "\uffff",
    "\U0010ffff",
    "\ud800",
    "\udfff",
    "\ud83d",
    "\ude00",
    "\ud83d\ude00",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f1fa\U0001f1f8",
    "e\u0301\u0301\u0301",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u05e9\u05dc\u05d5\u05dd",
    "\r",
    "\r\n",
    "\n",
    "\n\n",
    "\t",
    " ",
    "\u00a0",
    "&amp;",
    "&#0;",
    "<script>alert(1)</script>",
    "'",
    '"',
    "\\",
    "%00",
    "{{ x }}",
]
WORDS = [
    "Iran",
    "Tehran",
    "Joe Biden",
    "the United Nations",
    "Gdansk",
    "Anna Nowak",
    "said",
    "on Monday",
    "talks",
    "in",
    "met",
    ".",
]

any_character = st.characters(exclude_categories=())  # surrogates too
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(SPECIALS),
        st.sampled_from(WORDS).map(lambda w: w + " "),
        st.text(any_character, max_size=12),
    ),
    max_size=14,
).map("".join)
# A story that would be stored: words with hostile characters among them.
story_text = st.tuples(
    st.lists(st.sampled_from(WORDS), min_size=3, max_size=30).map(" ".join), hostile_text
).map(lambda parts: parts[0] + " " + parts[1] + " " + parts[0])

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**300), max_value=10**300),
    st.floats(),  # NaN and ±Infinity too, written as Python's json writes them
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)


def _fixed_offset(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


dates = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.none() | st.builds(_fixed_offset, st.integers(-23 * 60, 23 * 60)),
    ).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    ),
    st.sampled_from(
        [
            "2099-01-01",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "2025-02-30T10:00:00",
            "2025-13-01",
            "2025-02-01T25:00:00",
            "2025-02-01T10:00:00+25:00",
            "yesterday",
            "",
            " 2025-02-01 ",
            "2025-02-01T10:00:00.123456789Z",
            "+002025-02-01",
        ]
    ),
    hostile_text,
    json_values,
)

URL_POOL = [
    "https://news.example.org/world/2025/02/story-1/",
    "https://news.example.org/world/2025/02/story-1/?utm_source=x#top",  # a duplicate
    "https://NEWS.example.org:443/world/2025/02/story-1",
    "https://baseline.example.org/kept/1",  # a story stored before the input
    "http://xn--e1afmkfd.xn--p1ai/\u043d\u043e\u0432\u043e\u0441\u0442\u0438",
    "https://\u4f8b\u3048.\u30c6\u30b9\u30c8/\u8a18\u4e8b",
    "https://example.org/" + "a" * 3000,
    "https://example.org/a\u202eb",
    "https://example.org/a\x00b",
    "https://example.org/a\ud800b",
    "https://[::1/",
    "https://example.org:99999/",
    "javascript:alert(1)",
    "ftp://example.org/x",
    "//example.org/x",
    "",
    " ",
]
record_urls = st.one_of(
    st.sampled_from(URL_POOL),
    st.integers(0, 40).map(lambda n: f"https://news.example.org/fuzz/{n}"),
    hostile_text.map(lambda t: "https://news.example.org/" + t),
    hostile_text,
    json_values,
)


def html_fragments() -> st.SearchStrategy[str]:
    return st.lists(
        st.one_of(
            story_text.map(lambda t: f"<p>{t}</p>"),
            hostile_text,
            st.sampled_from(["<div>", "</div>", "<p", "<!--", "<![CDATA[", "<script>", "&#xD800;"]),
        ),
        max_size=6,
    ).map("".join)


# Records that would mostly be stored: hostile content in a story's shape,
# with URLs from a small pool so that duplicates come up too.
plausible_records = st.fixed_dictionaries(
    {
        "url": st.one_of(
            st.integers(0, 6).map(lambda n: f"https://news.example.org/fuzz/{n}"),
            st.sampled_from(URL_POOL[:6]),
            hostile_text.map(lambda t: "https://news.example.org/" + t),
        ),
        "text": story_text,
    },
    optional={
        "title": hostile_text,
        "published_at": dates.filter(lambda d: isinstance(d, str)),
        "source": hostile_text,
        "html": html_fragments(),
    },
)
page_records = st.fixed_dictionaries(
    {"url": st.integers(0, 6).map(lambda n: f"https://news.example.org/page/{n}")},
    optional={"html": html_fragments(), "title": hostile_text},
)
# Anything in a record's place.
any_records = st.fixed_dictionaries(
    {"url": record_urls},
    optional={
        "title": hostile_text | json_values,
        "text": story_text | hostile_text | json_values,
        "html": html_fragments() | json_values,
        "published_at": dates,
        "source": hostile_text | json_values,
        "extra": json_values,
    },
)
records = st.one_of(plausible_records, plausible_records, page_records, any_records)


def _json_line(value, ensure_ascii: bool) -> bytes:
    # Without ensure_ascii a lone surrogate goes out as it is: the bytes are
    # then not UTF-8 (CESU-like), as scraped files sometimes are.
    return json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")


record_lines = st.tuples(records, st.booleans()).map(lambda a: _json_line(*a))
other_lines = st.one_of(
    st.tuples(json_values, st.booleans()).map(lambda a: _json_line(*a)),
    st.tuples(records, st.booleans(), st.floats(0, 1)).map(
        lambda a: (line := _json_line(a[0], a[1]))[: int(len(line) * a[2])]  # truncated
    ),
    st.binary(max_size=80),
    hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(
        st.sampled_from([b"[", b'{"a":', b'{"url": "https://x.example/", "text": ['])
        | st.just(b"[" * 2),
        st.integers(1, 150_000),
    ).map(lambda a: a[0] * a[1]),
    st.integers(4000, 20_000).map(
        lambda n: b'{"url": "https://n.example/big", "text": ' + b"9" * n + b"}"
    ),
    st.sampled_from([b"", b"   ", b"\t", b"\xef\xbb\xbf", b"\r", b"null", b"{}", b"[]"]),
)
jsonl_files = st.tuples(
    st.tuples(st.lists(record_lines, max_size=5), st.lists(other_lines, max_size=4)).flatmap(
        lambda lines: st.permutations(lines[0] + lines[1])
    ),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),  # a byte-order mark first
    st.booleans(),  # a last newline
).map(lambda a: (b"\xef\xbb\xbf" if a[2] else b"") + a[1].join(a[0]) + (a[1] if a[3] else b""))


def jsonl_records(content: bytes) -> int:
    """Records in a JSONL file, counted as the spec defines them, not as the
    command does: every line with something but white space."""
    count = 0
    for number, line in enumerate(content.split(b"\n"), start=1):
        text = line.decode("utf-8", "replace")
        if number == 1:
            text = text.removeprefix("\ufeff")
        count += bool(text.strip())
    return count


# --- HTML ------------------------------------------------------------------------

CHARSETS = [None, "utf-8", "UTF-8", "latin-1", "windows-1252", "shift_jis", "utf-16", "utf-7"]
CHARSETS += ["koi8-r", "x-bogus", "", "utf-8' onload='x", "\x00"]
ENCODINGS = ["utf-8", "latin-1", "cp1252", "shift_jis", "utf-16", "utf-16-le", "koi8-r"]
ENTITIES = ["&#0;", "&#xD800;", "&#x110000;", "&#99999999999;", "&bogus;", "&amp", "&#x202E;"]


@dataclass(frozen=True)
class HtmlDoc:
    charset: str | None
    encoding: str
    title: str
    body: str
    canonical: str | None
    attribute_bytes: int
    nesting: int
    entities: tuple[str, ...]
    cut: float | None

    def content(self) -> bytes:
        meta = "" if self.charset is None else f'<meta charset="{self.charset}">'
        link = "" if self.canonical is None else f'<link rel="canonical" href="{self.canonical}">'
        attribute = f'<div data-x="{"x" * self.attribute_bytes}">' if self.attribute_bytes else ""
        html = (
            f"<!doctype html><html><head>{meta}<title>{self.title}</title>{link}</head><body>"
            f"{attribute}{'<div>' * self.nesting}<article><h1>{self.title}</h1>{self.body}"
            f"{''.join(self.entities)}</article>{'</div>' * self.nesting}</body></html>"
        )
        errors = "surrogatepass" if self.encoding.startswith("utf-8") else "replace"
        raw = html.encode(self.encoding, errors)
        return raw[: int(len(raw) * self.cut)] if self.cut is not None else raw


html_docs = st.builds(
    HtmlDoc,
    charset=st.sampled_from(CHARSETS),
    encoding=st.sampled_from(ENCODINGS),
    title=hostile_text,
    body=html_fragments(),
    canonical=st.none() | record_urls.filter(lambda u: isinstance(u, str)),
    attribute_bytes=st.sampled_from([0, 0, 0, 0, 100, 1 << 20, 3 << 20]),
    nesting=st.sampled_from([0, 0, 0, 3, 300, 3000]),
    entities=st.lists(st.sampled_from(ENTITIES), max_size=4).map(tuple),
    cut=st.none() | st.floats(0, 1),
)
html_files = st.lists(
    st.one_of(html_docs.map(HtmlDoc.content), st.binary(max_size=400)), min_size=1, max_size=3
)


# --- feeds -----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedDoc:
    kind: str  # "rss", "atom", "bytes"
    declared: str | None
    encoding: str
    title: str
    entries: tuple[tuple[str, str, str, str], ...]  # title, link, content, date
    doctype: str
    cut: float | None
    noise: bytes

    def content(self, server: str) -> bytes:
        if self.kind == "bytes":
            return self.noise
        link = lambda value: value.replace("{server}", server)  # noqa: E731
        declaration = (
            f'<?xml version="1.0" encoding="{self.declared}"?>' if self.declared is not None else ""
        )
        if self.kind == "rss":
            items = "".join(
                f"<item><title>{t}</title><link>{link(u)}</link><description>{c}</description>"
                f"<pubDate>{d}</pubDate></item>"
                for t, u, c, d in self.entries
            )
            xml = f'{self.doctype}<rss version="2.0"><channel><title>{self.title}</title>{items}'
            xml += "</channel></rss>"
        else:
            items = "".join(
                f'<entry><title>{t}</title><link href="{link(u)}"/><content type="html">{c}'
                f"</content><updated>{d}</updated></entry>"
                for t, u, c, d in self.entries
            )
            xml = f'{self.doctype}<feed xmlns="http://www.w3.org/2005/Atom"><title>{self.title}'
            xml += f"</title>{items}</feed>"
        errors = "surrogatepass" if self.encoding.startswith("utf-8") else "replace"
        raw = (declaration + xml).encode(self.encoding, errors)
        return raw[: int(len(raw) * self.cut)] if self.cut is not None else raw


entry_links = st.one_of(
    st.integers(0, 5).map(lambda n: f"{{server}}/page/{n}"),
    st.integers(0, 5).map(lambda n: f"{{server}}/missing/{n}"),
    st.sampled_from(URL_POOL).map(lambda u: u.replace("&", "&amp;").replace("<", "&lt;")),
    hostile_text,
)
xml_text = st.one_of(
    story_text.map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;")),
    hostile_text,
    st.lists(
        st.sampled_from([*ENTITIES, "&lol;", "&amp;lt;script&amp;gt;", "]]>", "<![CDATA[x"])
    ).map("".join),
)
date_strings = dates.filter(lambda d: isinstance(d, str))
# Feeds that parse, with entries whose content is hostile.
plausible_feed_docs = st.builds(
    FeedDoc,
    kind=st.sampled_from(["rss", "atom"]),
    declared=st.sampled_from([None, "utf-8"]),
    encoding=st.just("utf-8"),
    title=xml_text,
    entries=st.lists(
        st.tuples(xml_text, entry_links, xml_text, date_strings), min_size=1, max_size=5
    ).map(tuple),
    doctype=st.just(""),
    cut=st.none(),
    noise=st.just(b""),
)
any_feed_docs = st.builds(
    FeedDoc,
    kind=st.sampled_from(["rss", "rss", "atom", "atom", "bytes"]),
    declared=st.none() | st.sampled_from(["utf-8", "latin-1", "utf-16", "x-bogus", "shift_jis"]),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16", "shift_jis"]),
    title=xml_text,
    entries=st.lists(st.tuples(xml_text, entry_links, xml_text, date_strings), max_size=5).map(
        tuple
    ),
    doctype=st.sampled_from(
        [
            "",
            "",
            '<!DOCTYPE rss [<!ENTITY lol "lol">]>',
            '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd">',
        ]
    ),
    cut=st.none() | st.floats(0, 1),
    noise=st.binary(max_size=300),
)
feed_docs = st.one_of(plausible_feed_docs, any_feed_docs)


# --- URLs ------------------------------------------------------------------------

url_strings = st.one_of(
    st.text(any_character, max_size=60),
    st.tuples(
        st.sampled_from(["http", "https", "HTTP", "ftp", "file", "javascript", "gopher", ""]),
        hostile_text,
    ).map(lambda a: f"{a[0]}://{a[1]}"),
    hostile_text.map(lambda t: "{server}/" + t),
    st.integers(0, 5).map(lambda n: f"{{server}}/page/{n}"),
    st.tuples(st.integers(0, 5), hostile_text).map(
        lambda a: f"{{server}}/page/{a[0]}?q=" + quote(a[1].encode("utf-8", "surrogatepass"))
    ),
    st.sampled_from(
        [
            *URL_POOL,
            "{server}/redirect-to-metadata",
            "{server}/binary",
            "http://127.0.0.1:1/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://localhost./",
            "http://10.0.0.1/",
            "http://[fe80::1%25eth0]/",
            "http://" + "a" * 64 + ".example/",
            "http://" + "a." * 200 + "example/",
            "http://user:pass@example.org/",
            "http://exa mple.org/",
            "http://example.org/\x00",
            "http://\u0000/",
            "https://8.8.8.8/",
        ]
    ),
)


# --- pages and API ------------------------------------------------------------------

PAGE_PATHS = [
    "/",
    "/search/",
    "/suggest/",
    "/articles/{id}/",
    "/entities/{slug}/",
    "/entities/{slug}/feed/",
    "/api/search/",
    "/api/suggest/",
    "/api/stories/{id}/",
    "/api/entities/{slug}/",
]
PARAMETERS = ["q", "page", "date_from", "date_to", "type", "source", "about", "order"]
parameter_values = st.one_of(
    hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=20),
    st.sampled_from(
        [
            b"",
            b"0",
            b"-1",
            b"1",
            b"2",
            b"1e9",
            b"9" * 30,
            b"NaN",
            b"last",
            b"0001-01-01",
            b"9999-12-31",
            b"2025-02-30",
            b"2025-02-01",
            b"PERSON",
            b"GPE",
            b"stars",
            b"date",
            b"name",
            b"Iran",
            b'"NEAR(',
            b"*",
        ]
    ),
    st.integers().map(lambda n: str(n).encode()),
)
path_values = st.one_of(
    st.just("{known}"),
    st.just("{known}"),
    st.sampled_from(["{known}", "0", "-1", "9" * 25, "%00", "..", "a b"]),
    hostile_text.map(lambda t: quote(t.encode("utf-8", "surrogatepass"), safe="")),
)


@dataclass(frozen=True)
class PageRequest:
    path: str
    value: str  # for {id} or {slug}
    parameters: tuple[tuple[bytes, bytes], ...]

    def query_string(self) -> str:
        return "&".join(
            f"{quote_from_bytes(k, safe='')}={quote_from_bytes(v, safe='')}"
            for k, v in self.parameters
        )


page_requests = st.builds(
    PageRequest,
    path=st.sampled_from(PAGE_PATHS),
    value=path_values,
    parameters=st.lists(
        st.tuples(
            st.sampled_from(PARAMETERS).map(str.encode) | st.binary(max_size=6),
            parameter_values,
        ),
        max_size=5,
    ).map(tuple),
)


admin_forms = st.fixed_dictionaries(
    {
        "url": st.one_of(
            st.integers(0, 40).map(lambda n: f"https://news.example.org/admin/{n}"),
            st.integers(0, 5).map(lambda n: f"{{server}}/page/{n}"),
            url_strings,
        ),
        "title": hostile_text,
        "text": story_text | hostile_text | st.just(""),
        "published_at": date_strings,
        "source": hostile_text,
    }
)


# --- the environment ---------------------------------------------------------------


class NetworkGuard:
    """Only localhost resolves and only loopback can be connected to: a URL
    naming any other host fails like an unreachable one, and nothing leaves
    the machine."""

    LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}

    def __init__(self):
        self.refused: list[str] = []

    @contextlib.contextmanager
    def installed(self) -> Iterator[NetworkGuard]:
        real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
        guard = self

        def getaddrinfo(host, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else str(host)
            if name not in guard.LOCAL_NAMES:
                guard.refused.append(name)
                raise socket.gaierror(socket.EAI_NONAME, "not resolved in fuzzing")
            return real_getaddrinfo(host, *args, **kwargs)

        def connect(sock, address):
            if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
                guard.refused.append(str(address[0]))
                raise ConnectionRefusedError("no network in fuzzing")
            return real_connect(sock, address)

        socket.getaddrinfo, socket.socket.connect = getaddrinfo, connect
        try:
            yield self
        finally:
            socket.getaddrinfo, socket.socket.connect = real_getaddrinfo, real_connect


@dataclass
class Env:
    """What every check needs: a scratch folder, the local server's URL (its
    handler serves `Env.pages`), a client for pages and an admin client, and
    the ids of the stories stored before any input."""

    tmp: Path
    server_url: str
    client: object
    admin_client: object
    baseline: dict[int, dict] = field(default_factory=dict)
    pages: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)
    corpus: dict[str, list] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=lambda: iter(range(10**9)))


def serve(env: Env, request) -> tuple[int, bytes, str]:
    """The local server's answer: the pages entries link to, a redirect to
    the metadata address, binary served as HTML, a 404 otherwise."""
    path = request.path
    if path in env.pages:
        return env.pages[path]
    if path == "/redirect-to-metadata":
        return 302, b"", "text/html"
    if path == "/binary":
        return 200, bytes(range(256)) * 8, "text/html"
    return 404, b"not here", "text/plain"


def local_handler(env: Env):
    from werkzeug import Response

    def handler(request):
        status, body, content_type = serve(env, request)
        headers = {"Location": "http://169.254.169.254/"} if status == 302 else {}
        return Response(body, status=status, content_type=content_type, headers=headers)

    return handler


PAGE_BODY = (
    "<html><head><title>Harbour news {n}</title></head><body><article><h1>Gdansk harbour"
    " {n}</h1><p>The harbour of Gdansk reopened on Monday, said Anna Nowak, who runs the"
    " port authority, after a storm closed it for a week.</p><p>Ships waited\x0b off the"
    " coast \u202e of Poland.</p></article></body></html>"
)


def baseline_stories() -> dict[int, dict]:
    """Stories stored before any input: what must stay unchanged."""
    from tests.factories import ArticleFactory

    ArticleFactory(url="https://baseline.example.org/kept/1", title="Kept story about Iran")
    ArticleFactory(title="Another kept story", text="Talks continue in Geneva.\n\nMore text.")
    return snapshot()


def snapshot(ids=None) -> dict[int, dict]:
    from articles.models import Article

    rows = Article.objects.all() if ids is None else Article.objects.filter(id__in=ids)
    return {row["id"]: row for row in rows.values()}


# --- the invariants ----------------------------------------------------------------

UNCLEAN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
    "\ufeff\ufdd0-\ufdef\ufffe\uffff]"
)
REASON = re.compile(
    r"invalid JSON \(\w+|expected a JSON object|url is required|\w+ must be a string"
    r"|the story has no text|the story is too long|not an http\(s\) URL|not a valid URL"
    r"|could not fetch|no story text found|published_at is \w+( \w+)*"
    r"|the URL holds|the URL is too long|the line is too long|no canonical URL"
    r"|the feed declares|the feed uses|not a feed|cannot read|no such file|unexpected error.*"
    r"|extraction failed.*"
)
SUMMARY = re.compile(r"^ingest: (\d+) added, (\d+) duplicates, (\d+) failed", re.M)


def assert_clean(article) -> None:
    """What a stored story may hold, whatever it was made from."""
    from articles.models import Article
    from articles.services import FUTURE_TOLERANCE

    for name in ("title", "text", "url", "canonical_url"):
        value = getattr(article, name)
        value.encode("utf-8")  # valid: no lone surrogates
        assert not UNCLEAN.search(value), (name, value[:200])
    assert not re.search(r"[\t\r\n\u2028\u2029]", article.title), article.title
    assert not re.search(r"[\t\r]", article.text)
    assert article.title and article.text
    if article.source is not None:
        assert not UNCLEAN.search(article.source.name) and article.source.name.strip()
    published = article.published_at
    assert published.tzinfo is not None
    assert published <= datetime.now(UTC) + FUTURE_TOLERANCE
    assert article.date_source in Article.DateSource.values
    if article.date_source in (Article.DateSource.FUTURE, Article.DateSource.INGESTED):
        assert abs(published - article.created_at) < timedelta(minutes=5)


@contextlib.contextmanager
def example(env: Env, *, nothing_pending: bool = True) -> Iterator[None]:
    """One example, undone afterwards: the stories stored before are
    unchanged, nothing is pending, every new story is clean."""
    from django.db import transaction
    from django.test import TestCase

    from articles.models import Article

    with transaction.atomic():
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield
        assert snapshot(env.baseline) == env.baseline, "a story stored before was changed"
        new = Article.objects.exclude(id__in=env.baseline).select_related("source")
        for article in new:
            assert_clean(article)
        if nothing_pending:
            assert not Article.objects.pending().exists(), "a story was left pending"
        transaction.set_rollback(True)


def run_ingest(*args: str) -> tuple[str, str, tuple[int, int, int]]:
    """The ingest command as an operator runs it; (stdout, stderr, counts)."""
    from django.core.management import CommandError, call_command

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest", *args, verbosity=0, stdout=out, stderr=err)
    except CommandError as exc:
        assert str(exc) == "nothing was ingested", f"the command stopped: {exc}"
    found = SUMMARY.search(out.getvalue())
    assert found, f"no summary in {out.getvalue()!r}"
    counts = tuple(int(n) for n in found.groups())
    for name, count in zip(("added", "duplicates", "failed"), counts, strict=True):
        event(f"{name}: {min(count, 3)}{'+' if count >= 3 else ''}")
    for line in err.getvalue().splitlines():  # why, without the details
        reason = REASON.search(line)
        event("failure: " + (reason.group(0) if reason else line[-60:]))
    return out.getvalue(), err.getvalue(), counts


def assert_failures_listed(err: str, failed: int, *, prefix: str) -> None:
    """One line per failed record, naming it, each with a reason foreseen:
    a crash that isolation contained is still a bug."""
    assert "unexpected error" not in err, err
    lines = [line for line in err.splitlines() if not re.match(r"article \d+: ", line)]
    assert len(lines) == failed, (failed, lines)
    assert all(line.startswith(prefix) for line in lines), lines


def check_jsonl(env: Env, content: bytes) -> None:
    path = env.tmp / f"fuzz-{next(env.counter)}.jsonl"
    path.write_bytes(content)
    with example(env):
        _out, err, (added, duplicates, failed) = run_ingest(str(path))
        assert added + duplicates + failed == jsonl_records(content)
        assert_failures_listed(err, failed, prefix=f"{path}:")


def check_html(env: Env, files: list[bytes]) -> None:
    folder = env.tmp / f"fuzz-{next(env.counter)}"
    folder.mkdir()
    for number, content in enumerate(files):
        (folder / f"page-{number}.html").write_bytes(content)
    with example(env):
        _out, err, (added, duplicates, failed) = run_ingest(
            str(folder), "--base-url", "https://archive.example.org/pages/"
        )
        assert added + duplicates + failed == len(files)
        assert_failures_listed(err, failed, prefix=f"{folder}/page-")


def check_feed(env: Env, doc: FeedDoc) -> None:
    """The one-off `ingest --feed`, then the same feed subscribed and polled
    as beat polls it (its entries are duplicates by then)."""
    import feedparser

    from articles.feeds import as_utf8_xml, feed_poll, without_invalid_references
    from articles.models import Feed

    path = f"/feed-{next(env.counter)}.xml"
    content = doc.content(env.server_url)
    env.pages = {path: (200, content, "application/rss+xml")}
    for n in range(6):
        body = PAGE_BODY.format(n=n).encode()
        env.pages[f"/page/{n}"] = (200, body, "text/html; charset=utf-8")
    url = env.server_url + path
    with example(env):
        out, err, (added, duplicates, failed) = run_ingest(url, "--feed")
        read = re.search(
            r"^\S+: ([\d,]+) entr(?:y|ies): \d+ added, \d+ duplicates, \d+ failed"
            r"(?:, ([\d,]+) left for the next poll)?$",
            out,
            re.M,
        )
        if read is None:  # the feed as a whole was refused: one failed record
            assert (added, duplicates, failed) == (0, 0, 1), out
        else:
            entries = int(read.group(1).replace(",", ""))
            left = int((read.group(2) or "0").replace(",", ""))
            assert added + duplicates + failed == entries - left
            if "<!ENTITY" not in content.decode("latin-1"):
                # As parse_feed reads it: UTF-16/32 as UTF-8, bad references replaced.
                readable = without_invalid_references(as_utf8_xml(content))
                assert entries == len(feedparser.parse(io.BytesIO(readable)).entries)
        assert_failures_listed(err, failed, prefix=url)
        feed = Feed.objects.create(url=url)
        feed_poll(feed_id=feed.pk)
        feed.refresh_from_db()
        assert feed.last_result in (Feed.Result.OK, Feed.Result.ERROR), feed.last_result
        for value in (feed.title, feed.last_error):
            assert not UNCLEAN.search(value), value


def check_url(env: Env, url: str) -> None:
    from articles.services import IngestError, article_ingest_url
    from newsgraph.infra.failures import printable

    url = url.replace("{server}", env.server_url)
    for n in range(6):
        body = PAGE_BODY.format(n=n).encode()
        env.pages[f"/page/{n}"] = (200, body, "text/html; charset=utf-8")
    with example(env):
        if "://" in url and not url.startswith("-"):
            _out, err, counts = run_ingest(url)
            assert sum(counts) == 1
            assert_failures_listed(err, counts[2], prefix=printable(url))
        else:  # the command would read it as a path: the service directly
            with contextlib.suppress(IngestError):
                article_ingest_url(url=url)


def check_admin_add(env: Env, form: dict) -> None:
    from articles.models import Article

    data = {**form, "url": form["url"].replace("{server}", env.server_url)}
    # A form post is bytes from a browser: lone surrogates cannot be sent.
    data = {k: v.encode("utf-8", "replace").decode() for k, v in data.items()}
    before = Article.objects.count()
    with example(env):
        response = env.admin_client.post("/admin/articles/article/ingest/", data)
        assert response.status_code in (200, 302), response.status_code
        added = Article.objects.count() - before
        assert added <= 1
        assert b"unexpected error" not in response.content
        event(f"admin add -> {response.status_code}")
        if response.status_code == 200:  # the form again, with the reason
            assert added == 0
            assert b"errorlist" in response.content


def check_page(env: Env, request: PageRequest) -> None:
    known = env.corpus["slugs" if "{slug}" in request.path else "ids"]
    value = request.value.replace("{known}", str(known[len(request.parameters) % len(known)]))
    path = request.path.replace("{slug}", value).replace("{id}", value)
    response = env.client.get(path, QUERY_STRING=request.query_string())
    event(f"{request.path} -> {response.status_code}")
    assert response.status_code < 500, (path, request.query_string(), response.status_code)
    if path.startswith("/api/") and response.status_code != 404:
        json.loads(response.content)


@dataclass(frozen=True)
class EntryPoint:
    strategy: st.SearchStrategy
    check: Callable[[Env, object], None]
    examples: int  # in make test


# Examples per entry point in `make test`: together about a minute per pass
# (bench/fuzz.py runs as many as asked).
ENTRY_POINTS = {
    "jsonl": EntryPoint(jsonl_files, check_jsonl, 350),
    "html": EntryPoint(html_files, check_html, 50),
    "feed": EntryPoint(feed_docs, check_feed, 160),
    "url": EntryPoint(url_strings, check_url, 300),
    "admin-add": EntryPoint(admin_forms, check_admin_add, 120),
    "pages": EntryPoint(page_requests, check_page, 500),
}


def hostile_corpus(env: Env) -> None:
    """Stories for the pages to show, ingested from hostile records and
    extracted, with entities to link to."""
    from articles.models import Article
    from entities.models import Entity

    lines = [
        {
            "url": f"https://corpus.example.org/{n}",
            "title": f"Iran \u202etalks\x00 {n} \ud800 with Joe Biden",
            "text": f"Joe Biden met officials from Iran in Tehran {n}.\x1b[31m\n\n"
            "The United Nations said the talks in Gdansk would go on.",
            "published_at": date,
            "source": f"Wire \x07{n % 2}",
        }
        for n, date in enumerate(
            ["0001-01-01T00:00:00Z", "2099-01-01", "2025-02-01T10:00:00+14:00", None]
        )
    ]
    path = env.tmp / "corpus.jsonl"
    path.write_bytes(b"\n".join(_json_line(r, True) for r in lines))
    run_ingest(str(path))
    env.corpus = {
        "ids": list(Article.objects.values_list("id", flat=True)),
        "slugs": list(Entity.objects.values_list("slug", flat=True)) or ["none"],
    }
