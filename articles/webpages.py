"""Reading one HTML page: its main text (trafilatura), its headline, the URL to
store it under, its publication date (htmldate) and the metadata kept to
re-date it later (issue #12). Over 400 lines on purpose: the four readings
share one parsed document and one notion of "the same site", and each is
short; split, they would pass the tree and the site rules between modules.

Pages are parsed once with lxml and searched as a whole document: a stray
`<img>`, `<div>` or `<noscript><iframe>` early in `<head>` makes the HTML
parser close the head there, so `<link rel=canonical>`, `og:url`, `og:title`
and date metadata that follow it end up in `<body>`; lookups limited to
`<head>` (trafilatura's) miss them.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from django.utils import timezone

from articles.text import strip_long_attributes
from articles.urls_util import InvalidURL, canonical_url


@dataclass(frozen=True)
class PageReading:
    text: str
    title: str
    # The URL to store the story under; "" when the page, the fetch, the feed
    # and the caller know none (the story then gets a content-derived
    # `file:` identity, see services.file_identity).
    url: str
    url_from: str  # "canonical", "og:url", "fetched", "feed", "base" or ""
    published_at: datetime | None  # UTC, never in the future
    metadata_html: str  # see kept_metadata()
    site_name: str = ""  # og:site_name or the JSON-LD publisher, as written


# --- the URL --------------------------------------------------------------------------

_INDEX_PAGE = re.compile(r"(?i)(index|default|home|start)(\.\w{2,5})?")
_ARTICLE_FILE = re.compile(r"(?i).+\.(s?html?|php|aspx?|jsp|cms)")
_SEPARATORS = re.compile(r"[-_+.]")


def _segment_names_a_story(segment: str) -> bool:
    """A path segment that names one story rather than a section: a slug
    ("geneva-talks"), a word with a number in it ("content_58213"), a long
    identifier or a file name. Plain words ("news", "world") name sections,
    plain numbers ("2024", "05") archive pages."""
    if _ARTICLE_FILE.fullmatch(segment):
        return not _INDEX_PAGE.fullmatch(segment)
    if segment.isdigit():
        return len(segment) >= 5
    if segment.isalpha():
        return len(segment) == 1 or len(segment) >= 30
    return True  # separators, or letters and digits together


def is_story_url(url: str, *, page_url: str = "") -> bool:
    """Whether a URL plausibly names one story: not a site's root, a section
    front (/news/, /world/europe), a tag, category or page listing, nor (when
    the page's own address is known) a folder above that address."""
    from courlan import is_navigation_page

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    segments = [s for s in parts.path.split("/") if s]
    if segments and _INDEX_PAGE.fullmatch(segments[-1]):
        segments.pop()
    if is_navigation_page(url):
        return False
    if page_url:
        page_segments = [s for s in urlsplit(page_url).path.split("/") if s]
        if len(segments) < len(page_segments) and page_segments[: len(segments)] == segments:
            return False
    if any(_segment_names_a_story(s) for s in segments):
        return True
    # /article.php?id=123, /?p=456: the story is named by a numeric parameter
    return any(ch.isdigit() for ch in parts.query)


def _site(url: str) -> str:
    """The registrable domain ("example.co.uk" for www.example.co.uk), or the
    host for addresses that have none (localhost, IP addresses)."""
    from courlan import extract_domain

    host = (urlsplit(url).hostname or "").lower()
    try:
        domain = extract_domain(url)
    except Exception:  # courlan/tld on an odd host: compare hosts instead
        domain = None
    return domain or host.removeprefix("www.")


def same_site(url: str, other: str) -> bool:
    try:
        return bool(_site(url)) and _site(url) == _site(other)
    except ValueError:
        return False


def _declared_urls(tree, *, page_url: str) -> list[tuple[str, str]]:
    """(kind, absolute URL) for each `<link rel=canonical>`, then each
    `og:url`, wherever they are in the document."""
    canonical = [
        link.get("href", "")
        for link in tree.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    og = [
        meta.get("content", "")
        for meta in tree.iter("meta")
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:url"
    ]
    found = [("canonical", u.strip()) for u in canonical] + [("og:url", u.strip()) for u in og]
    # A relative href is resolved against the page's address, or else against
    # an absolute URL the page declares for itself.
    base = page_url or next((u for _, u in found if _is_http(u)), "")
    resolved = []
    for kind, href in found:
        try:
            absolute = urljoin(base, href) if base else href
        except ValueError:  # "http://[bad", and the like
            continue
        if href and _is_http(absolute):
            resolved.append((kind, absolute))
    return resolved


def _is_http(url: str) -> bool:
    try:
        return urlsplit(url).scheme in ("http", "https")
    except ValueError:
        return False


def choose_url(
    tree, *, fetched_url: str = "", feed_url: str = "", base_url: str = ""
) -> tuple[str, str]:
    """(URL, where it came from). The page's own `rel=canonical` (then
    `og:url`) when it is a plausible story URL: on the same site as the page
    was fetched from, and not the site's root or a section front, which some
    sites give as every story's canonical URL and which would collapse their
    stories into one. Otherwise the fetched URL, the feed's link, or the
    caller's base URL, in that order; ("", "") when there is none."""
    page_url = fetched_url or feed_url
    for kind, url in _declared_urls(tree, page_url=page_url) if tree is not None else []:
        try:
            canonical_url(url)
        except InvalidURL:
            continue
        if page_url and not same_site(url, page_url):
            continue
        if is_story_url(url, page_url=page_url):
            return url, kind
    for kind, url in (("fetched", fetched_url), ("feed", feed_url), ("base", base_url)):
        if url:
            return url, kind
    return "", ""


# --- the title ------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s+[|–—·:»-]\s+|\s*_\s*")
_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "blogposting",
    "liveblogposting",
    "scholarlyarticle",
    "report",
    "webpage",
}


def _fold(text: str) -> str:
    return " ".join((text or "").casefold().split())


def _json_ld_objects(tree):
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                yield item
                if isinstance(item.get("@graph"), list):
                    stack.extend(reversed(item["@graph"]))


def _types(item: dict) -> set[str]:
    kinds = item.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _meta(tree, *names: str) -> list[str]:
    wanted = set(names)
    return [
        " ".join(m.get("content", "").split())
        for m in tree.iter("meta")
        if (m.get("property") or m.get("name") or "").strip().lower() in wanted
        and m.get("content", "").strip()
    ]


def site_names(tree, url: str = "") -> set[str]:
    """The names a page gives its site (og:site_name, application-name,
    JSON-LD publisher and WebSite names), folded."""
    names = set(_meta(tree, "og:site_name", "application-name", "twitter:site"))
    for item in _json_ld_objects(tree):
        publisher = item.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            names.add(publisher["name"])
        if "website" in _types(item) and isinstance(item.get("name"), str):
            names.add(item["name"])
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if host:
        names.add(host)
        names.add(host.split(".")[0])
    return {_fold(n).lstrip("@") for n in names if n and n.strip()}


def _without_site_name(title: str, sites: set[str]) -> str:
    """ "Headline | Site" → "Headline"; "" when the title is only the site's name."""
    title = " ".join((title or "").split())
    if _fold(title) in sites or _fold(title).replace(" ", "") in sites:
        return ""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) > 1:
        kept = [
            p for p in parts if _fold(p) not in sites and _fold(p).replace(" ", "") not in sites
        ]
        if kept and len(kept) < len(parts):
            return " - ".join(kept) if len(kept) > 1 else kept[0]
    return title


def _h1s(tree) -> list[str]:
    return [" ".join(h.text_content().split()) for h in tree.iter("h1")]


def _agree(a: str, b: str) -> bool:
    """Two headline candidates say the same thing: one holds the other, or
    most words are shared (a kicker, a subtitle or an edit apart)."""
    a, b = _fold(a), _fold(b)
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) >= 0.6 * max(len(wa), len(wb))


# Where a headline candidate comes from, in the order that words a headline
# when several say the same (the visible <h1> first, as the reader sees it)
# and breaks ties between headlines nothing else confirms (declared first).
_WORDING = ("h1", "json-ld", "title", "og", "twitter", "trafilatura")
_DECLARED = ("json-ld", "og", "twitter", "h1", "title", "trafilatura")
_VOTER = {"json-ld": "metadata", "og": "metadata", "twitter": "metadata"}


def title_candidates(tree, *, url: str = "", fallback: str = "") -> list[tuple[str, str]]:
    """(source, headline) pairs: JSON-LD `headline`, og:title, twitter:title,
    `<title>`, each `<h1>` and trafilatura's title, without a " | Site"
    suffix and never the site's name alone."""
    sites = site_names(tree, url)
    found = [
        ("json-ld", item["headline"])
        for item in _json_ld_objects(tree)
        if isinstance(item.get("headline"), str) and _types(item) & _ARTICLE_TYPES
    ]
    found += [("og", t) for t in _meta(tree, "og:title")]
    found += [("twitter", t) for t in _meta(tree, "twitter:title")]
    found += [("title", t.text_content()) for t in tree.iter("title")][:1]
    found += [("h1", h) for h in _h1s(tree)]
    found += [("trafilatura", fallback)]
    cleaned = [(source, _without_site_name(text, sites)) for source, text in found]
    return [(source, text) for source, text in cleaned if len(text) > 3]


def choose_title(tree, *, url: str = "", fallback: str = "") -> str:
    """The headline the page's candidates agree on (title_candidates): the
    one most independent sources confirm, so that a teaser in og:title or a
    site-wide JSON-LD headline loses to the `<title>` and `<h1>` that name
    the story; worded as the first source in _WORDING that says it. With no
    agreement, the declared headline first (JSON-LD, og, twitter), then a
    lone `<h1>`, then trafilatura's title."""
    if tree is None:
        return fallback
    candidates = title_candidates(tree, url=url, fallback=fallback)
    if not candidates:
        return _without_site_name(fallback, site_names(tree, url)) or fallback
    h1_count = sum(1 for source, _ in candidates if source == "h1")

    def support(text: str) -> int:
        """How many independent sources say it: JSON-LD, og: and twitter:
        come from one field of the publisher's system, so they vote once."""
        return len(
            {_VOTER.get(source, source) for source, other in candidates if _agree(text, other)}
        )

    def rank(candidate: tuple[str, str]) -> tuple:
        source, text = candidate
        # Several <h1>s (a site banner, section names) speak for none of them.
        lone = source != "h1" or h1_count == 1
        return (-support(text), not lone, _DECLARED.index(source))

    best = min(candidates, key=rank)
    if support(best[1]) < 2 and best[0] == "h1" and h1_count > 1:
        cleaned = _without_site_name(fallback, site_names(tree, url))
        return cleaned or fallback
    agreeing = [c for c in candidates if _agree(best[1], c[1])]
    return min(agreeing, key=lambda c: _WORDING.index(c[0]))[1]


# --- the date -------------------------------------------------------------------------

_HTMLDATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def page_date(tree_or_html, *, url: str = "", now: datetime | None = None) -> datetime | None:
    """The publication date htmldate finds (metadata, JSON-LD, `<time>`, the
    URL, then the text), in UTC. A date without a time is midnight UTC of
    that day; a date after `now` is refused, or `now` itself on the same day
    (a time zone mix-up, not a date from the future)."""
    import htmldate

    now = now or timezone.now()
    if url and urlsplit(url).scheme not in ("http", "https"):
        url = ""
    try:
        found = htmldate.find_date(
            tree_or_html,
            url=url or None,
            original_date=True,
            extensive_search=True,
            outputformat=_HTMLDATE_FORMAT,
            max_date=now.strftime("%Y-%m-%d"),
        )
    except Exception:  # htmldate on a hostile page: no date, never a lost story
        return None
    if not found:
        return None
    parsed = _parse_found(found)
    if parsed is None:
        return None
    if parsed > now:
        return now if parsed.date() == now.date() else None
    return parsed


def _parse_found(found: str) -> datetime | None:
    for fmt in (_HTMLDATE_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(found, fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    return None


# --- what is kept ---------------------------------------------------------------------

KEPT_MAX_CHARS = 32_000
_KEPT_META = re.compile(
    r"(?i)(og:|article:|twitter:|dc\.|dcterms|date|time|pub|creat|modif|sailthru|parsely)"
)
_DATE_ATTRS = ("pubdate", "data-published", "data-date")


def kept_metadata(tree) -> str:
    """A small HTML document of what dates and names a page: its `<title>`,
    date-like and Open Graph `<meta>`, canonical links, JSON-LD, `<time>`,
    elements with a date `itemprop`, and `<h1>`s; typically 1–5 KB where the
    page was 50–500 KB. `manage.py redate` reads it (with the stored URL and
    text) to re-date a story without fetching the page again."""
    from lxml import etree
    from lxml.html import tostring

    if tree is None:
        return ""
    head, body = [], []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag == "title":
            head.append(element)
        elif tag == "meta":
            key = " ".join(
                element.get(a, "") for a in ("property", "name", "itemprop", "http-equiv")
            )
            if element.get("content") and _KEPT_META.search(key):
                head.append(element)
        elif tag == "link" and "canonical" in (element.get("rel") or "").lower():
            head.append(element)
        elif tag == "script" and (element.get("type") or "").lower() == "application/ld+json":
            if len(element.text or "") <= KEPT_MAX_CHARS // 2:
                head.append(element)
        elif (
            tag in ("time", "h1")
            or (tag != "meta" and any(a in element.attrib for a in _DATE_ATTRS))
            or element.get("itemprop", "").lower() in ("datepublished", "datecreated")
        ):
            body.append(element)

    def shallow(element):
        clone = copy.copy(element)
        clone.tail = None
        if element.tag not in ("script", "title") and len(clone):
            text = " ".join(element.text_content().split())
            for child in list(clone):
                clone.remove(child)
            clone.text = text
        return clone

    document = etree.Element("html")
    head_element = etree.SubElement(document, "head")
    body_element = etree.SubElement(document, "body")
    size = 0
    for parent, elements in ((head_element, head), (body_element, body)):
        for element in elements:
            clone = shallow(element)
            piece = tostring(clone, encoding="unicode")
            if size + len(piece) > KEPT_MAX_CHARS:
                break
            size += len(piece)
            parent.append(clone)
    return tostring(document, encoding="unicode")


# --- the whole page -------------------------------------------------------------------


# Attribute values this long (articles/text.py) are inline images and other
# blobs; read_page took 370 ms on a 1 MB one and 1.1 s on 3 MB (3 and 5 ms
# without). Stripped here, so that fetched pages and feed entries' pages are
# spared them too, not only saved files (issue #15).


def parse_html(html: str):
    """An lxml tree of the page, or None when there is none to be had."""
    from trafilatura.utils import load_html

    try:
        return load_html(strip_long_attributes(html))
    except Exception:
        return None


def main_text(html: str) -> str:
    """The page's main text, by trafilatura: tables kept (trafilatura's
    default: results and figures are part of many stories), comments not."""
    import trafilatura

    html = strip_long_attributes(html)
    return trafilatura.extract(html, include_comments=False, include_tables=True) or ""


def trafilatura_title(tree) -> str:
    from trafilatura.metadata import extract_title

    try:
        title = extract_title(tree) if tree is not None else ""
    except Exception:  # an internal of trafilatura's: a fallback, never a failure
        title = ""
    return " ".join((title or "").split())


def read_page(
    html: str,
    *,
    fetched_url: str = "",
    feed_url: str = "",
    base_url: str = "",
    now: datetime | None = None,
) -> PageReading:
    """Everything ingestion needs from one page; see the module docstring."""
    tree = parse_html(html)
    url, url_from = choose_url(tree, fetched_url=fetched_url, feed_url=feed_url, base_url=base_url)
    # The date and names come from the page before trafilatura reads it:
    # htmldate copies the tree, trafilatura prunes its own parse.
    published = page_date(tree, url=url, now=now) if tree is not None else None
    metadata_html = kept_metadata(tree)
    title = choose_title(tree, url=url, fallback=trafilatura_title(tree))
    site = _meta(tree, "og:site_name") if tree is not None else []
    return PageReading(
        text=main_text(html),
        title=title,
        url=url,
        url_from=url_from,
        published_at=published,
        metadata_html=metadata_html,
        site_name=site[0][:200] if site else "",
    )
