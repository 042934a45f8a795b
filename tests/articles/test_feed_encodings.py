"""Feeds in every Unicode encoding XML allows, with or without a byte order
mark, detected as XML 1.0 Appendix F says (issue 25): fetched (not refused
as "binary content"), parsed and ingested with the same entry each time."""

import codecs

import pytest

from articles.feeds import as_utf8_xml, feed_ingest, parse_feed
from articles.fetching import decode_body, fetch_url, unicode_signature
from articles.models import Article
from articles.services import IngestError
from tests.articles.feed_docs import RSS, XML_BOMB

TITLE = "Café talks in Zürich: 東京 and Kraków agree — «ça va»"
TEXT = "Delegates from Łódź and São Paulo met in Zürich on Tuesday to agree a café code."

FEED = """<?xml version="1.0" encoding="{declared}"?>
<rss version="2.0"><channel>
  <title>Wire ünïcode</title>
  <link>https://wire.example/</link>
  <description>Test wire</description>
  <item>
    <title>{title}</title>
    <link>{link}</link>
    <guid>{link}</guid>
    <description>{text}</description>
    <pubDate>Tue, 04 Feb 2025 10:00:00 GMT</pubDate>
  </item>
</channel></rss>"""

BOMS = {
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}
DECLARED = {
    "utf-8": "utf-8",
    "utf-16-le": "utf-16",
    "utf-16-be": "utf-16",
    "utf-32-le": "utf-32",
    "utf-32-be": "utf-32",
}
CASES = [(encoding, bom) for encoding in BOMS for bom in (True, False)]
IDS = [f"{encoding}{'-bom' if bom else ''}" for encoding, bom in CASES]


def feed_bytes(encoding: str, *, bom: bool, link: str) -> bytes:
    text = FEED.format(declared=DECLARED[encoding], title=TITLE, link=link, text=TEXT)
    return (BOMS[encoding] if bom else b"") + text.encode(encoding)


@pytest.mark.parametrize(("encoding", "bom"), CASES, ids=IDS)
def test_appendix_f_tells_the_encoding(encoding, bom):
    content = feed_bytes(encoding, bom=bom, link="https://x.example/a")
    signature = unicode_signature(content)
    if encoding == "utf-8" and not bom:
        assert signature is None  # ASCII-compatible: the declaration decides
    else:
        assert signature == (encoding, len(BOMS[encoding]) if bom else 0)
    assert TITLE in decode_body(content)


@pytest.mark.django_db
@pytest.mark.parametrize(("encoding", "bom"), CASES, ids=IDS)
def test_the_same_entry_is_ingested_in_every_encoding(encoding, bom, httpserver):
    link = httpserver.url_for("/gone/story")  # the page is gone: the entry's own text is used
    httpserver.expect_request("/gone/story").respond_with_data("gone", status=410)
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed_bytes(encoding, bom=bom, link=link), content_type=RSS
    )

    report = feed_ingest(url=httpserver.url_for("/feed.xml"), enqueue=False)

    assert report.summary() == "1 entry: 1 added, 0 duplicates, 0 failed"
    assert report.title == "Wire ünïcode"
    story = Article.objects.get(url=link)
    assert story.title == TITLE
    assert story.text == TEXT


def test_a_feedparser_style_utf32be_feed_with_a_bom_is_fetched_and_parsed(httpserver):
    # As in feedparser's encoding tests: a UTF-32BE document whose BOM is
    # 00 00 FE FF, declared "utf-32be", served as application/xml.
    document = (
        codecs.BOM_UTF32_BE
        + """<?xml version="1.0" encoding="utf-32be"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Ünïcode wire</title>
  <entry><title>Ǆemal in Łódź</title><link href="https://x.example/e"/>
  <id>https://x.example/e</id><summary>text</summary></entry>
</feed>""".encode("utf-32-be")
    )
    httpserver.expect_request("/utf32.xml").respond_with_data(
        document, content_type="application/xml"
    )

    page = fetch_url(httpserver.url_for("/utf32.xml"), accept=("application/xml",))
    parsed = parse_feed(page.content, url=page.final_url)

    assert parsed.feed.title == "Ünïcode wire"
    assert [entry.title for entry in parsed.entries] == ["Ǆemal in Łódź"]


def test_the_declaration_is_rewritten_with_the_encoding():
    content = feed_bytes("utf-32-le", bom=False, link="https://x.example/a")
    converted = as_utf8_xml(content)
    assert converted.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert TITLE.encode() in converted


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be", "utf-16-be"])
@pytest.mark.parametrize("bom", [True, False])
def test_entity_declarations_are_refused_in_utf32_and_bomless_utf16(encoding, bom):
    content = (BOMS[encoding] if bom else b"") + XML_BOMB.encode(encoding)
    with pytest.raises(IngestError, match="declares XML entities"):
        parse_feed(content, url="https://feeds.example/rss")


def test_invalid_utf32_is_not_a_feed():
    content = codecs.BOM_UTF32_BE + "<rss/>".encode("utf-32-be") + b"\x00\x11\x00\x00"
    with pytest.raises(IngestError, match="not a feed: invalid UTF-32-BE"):
        parse_feed(content, url="https://feeds.example/rss")
