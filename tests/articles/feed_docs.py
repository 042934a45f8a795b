"""Pages and feeds served by pytest-httpserver in the fetching, feed and
hostile-input tests (nothing reaches the internet)."""

from __future__ import annotations

import zlib
from xml.sax.saxutils import escape

from pytest_httpserver import HTTPServer

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"


def article_html(title: str, *paragraphs: str) -> str:
    """A news page with boilerplate around the story, as trafilatura meets them."""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{escape(title)} | Local Wire</title></head>
<body>
<nav><a href="/">Home</a> <a href="/world">World</a> Subscribe now for full access</nav>
<article><h1>{escape(title)}</h1>
{body}
</article>
<footer>Copyright Local Wire. All rights reserved. Cookie settings.</footer>
</body></html>"""


def rss(items: list[dict], *, title: str = "Local Wire") -> str:
    """RSS 2.0; each item has title, link and optionally description, date."""
    rendered = "".join(
        f"""
    <item>
      <title>{escape(item["title"])}</title>
      <link>{escape(item["link"])}</link>
      <guid>{escape(item["link"])}</guid>
      <description>{escape(item.get("description", ""))}</description>
      <pubDate>{item.get("date", "Tue, 04 Feb 2025 10:00:00 GMT")}</pubDate>
    </item>"""
        for item in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>{escape(title)}</title>
  <link>https://wire.example/</link>
  <description>Test wire</description>{rendered}
</channel></rss>"""


def atom(entries: list[dict], *, title: str = "Atom Wire") -> str:
    """Atom 1.0; each entry has title, link and optionally content (HTML)."""
    rendered = "".join(
        f"""
  <entry>
    <title>{escape(entry["title"])}</title>
    <link rel="alternate" href="{escape(entry["link"])}"/>
    <id>{escape(entry["link"])}</id>
    <updated>{entry.get("updated", "2025-02-05T08:30:00Z")}</updated>
    <content type="html">{escape(entry.get("content", ""))}</content>
  </entry>"""
        for entry in entries
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{escape(title)}</title>
  <id>urn:test:atom-wire</id>
  <updated>2025-02-05T08:30:00Z</updated>{rendered}
</feed>"""


XML_BOMB = """<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://wire.example/bomb</link></item>
</channel></rss>"""


def gzip_bomb(decompressed_bytes: int) -> bytes:
    """A small gzip body that inflates to `decompressed_bytes` of spaces."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    block = b" " * (1024 * 1024)
    parts = [compressor.compress(block) for _ in range(decompressed_bytes // len(block))]
    return b"".join([*parts, compressor.flush()])


def serve_page(server: HTTPServer, path: str, html: str | bytes, content_type: str = HTML) -> str:
    body = html.encode() if isinstance(html, str) else html
    server.expect_request(path).respond_with_data(body, content_type=content_type)
    return server.url_for(path)
