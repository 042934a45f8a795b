"""Feeds: RSS/Atom bytes fetched by us and parsed safely, entries ingested
as stories, and the polling that beat schedules (SPEC §5, §9)."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from articles import fetching
from articles.models import Article, Feed
from articles.services import IngestError, IngestReport, article_ingest, page_ingest
from articles.text import clean_line, clean_text
from articles.urls_util import InvalidURL, canonical_url
from newsgraph.infra.failures import describe, failure_reason, is_store_failure, printable

logger = logging.getLogger(__name__)

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/feed+json",
    "text/plain",
)
_BLOCK_END = re.compile(r"(?i)</(?:p|div|li|h[1-6]|blockquote)>|<br\s*/?>")


@dataclass
class FeedReport(IngestReport):
    entries: int = 0
    not_modified: bool = False
    title: str = ""
    etag: str = ""
    last_modified: str = ""
    left: int = 0  # entries not read this time, for the next poll

    @property
    def truncated(self) -> bool:
        return self.left > 0

    def summary(self) -> str:
        if self.not_modified:
            return "not modified (304)"
        entries = f"{self.entries:,} entr{'y' if self.entries == 1 else 'ies'}"
        summary = f"{entries}: {super().summary()}"
        return summary + (f", {self.left:,} left for the next poll" if self.left else "")


def fragment_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed entry's content): tags and
    scripts removed by nh3, paragraphs kept."""
    import html as html_lib

    import nh3

    marked = _BLOCK_END.sub("\n\n", fragment or "")
    return clean_text(html_lib.unescape(nh3.clean(marked, tags=set())))


def parse_feed(content: bytes, *, url: str):
    """feedparser over bytes we fetched, after refusing documents that declare
    XML entities (billion laughs, external entities)."""
    import io

    import feedparser
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    content = as_utf8_xml(content)

    # NULs dropped so the UTF-16 and UTF-32 spellings of the declaration count
    # too; feedparser's lenient fallback parser never sees one.
    if b"<!ENTITY" in content.replace(b"\x00", b"").upper():
        raise IngestError("the feed declares XML entities (possible XML bomb); refused")
    try:
        fromstring(content, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise IngestError(f"the feed uses forbidden XML constructs: {exc}") from None
    except ParseError:
        pass  # malformed but entity-free (or JSON Feed): feedparser may still read it
    except (LookupError, ValueError):
        # expat reads no multi-byte encoding but UTF-8 and UTF-16 (Shift_JIS,
        # EUC-JP, Big5, UTF-7…) and no unknown one: look for declarations in
        # the text as Python (and so feedparser) decodes it.
        if "<!ENTITY" in _declared_text(content).upper():
            raise IngestError(
                "the feed declares XML entities (possible XML bomb); refused"
            ) from None
    content = without_invalid_references(content)
    # A stream, never the bytes themselves: feedparser opens a bytes or str
    # argument as a file path (or fetches it as a URL) before parsing it.
    try:
        parsed = feedparser.parse(io.BytesIO(content), response_headers={"content-location": url})
    except (UnicodeError, ValueError, OverflowError) as exc:  # the same, in UTF-16 or UTF-32
        raise IngestError(f"not a feed: it could not be parsed ({describe(exc)})") from None
    if not parsed.entries and parsed.get("bozo") and not parsed.feed:
        raise IngestError(f"not a feed: {parsed.get('bozo_exception', 'unreadable')}")
    return parsed


_DECLARED_ENCODING = re.compile(r"""^(<\?xml[^>]*?\bencoding\s*=\s*)(["'])[A-Za-z0-9._:-]*\2""")


def as_utf8_xml(content: bytes) -> bytes:
    """A UTF-16 or UTF-32 document (with or without a byte order mark, told
    apart as XML 1.0 Appendix F says) re-encoded as UTF-8, its declaration
    saying so: expat reads no UTF-32 and no BOM-less UTF-16, and feedparser
    reads UTF-32 only with a BOM. Anything else is returned as it is."""
    from articles.fetching import unicode_signature

    signature = unicode_signature(content)
    if signature is None or signature[0] == "utf-8":
        return content
    encoding, bom = signature
    try:
        text = content[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        raise IngestError(f"not a feed: invalid {encoding.upper()} ({describe(exc)})") from None
    return _DECLARED_ENCODING.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8")


_NUMERIC_REFERENCE = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")


def without_invalid_references(content: bytes) -> bytes:
    """References to surrogates and beyond U+10FFFF made U+FFFD: feedparser's
    lenient parser raises on them ("&#xD800;", "&#x110000;")."""

    def replace(reference: re.Match) -> bytes:
        hexadecimal, decimal = reference.groups()
        digits = (hexadecimal or decimal).lstrip(b"0")
        value = int(digits or b"0", 16 if hexadecimal else 10) if len(digits) <= 8 else -1
        valid = 0 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF
        return reference.group(0) if valid else b"&#xFFFD;"

    return _NUMERIC_REFERENCE.sub(replace, content)


_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def _declared_text(content: bytes) -> str:
    """The document decoded as its XML declaration says; "" if Python
    cannot decode it that way (then feedparser cannot either)."""
    declared = _XML_ENCODING.match(content)
    try:
        return content.decode(declared.group(1).decode("ascii") if declared else "utf-8")
    except (LookupError, UnicodeDecodeError):
        return ""


def _entry_published(entry) -> datetime | None:
    import calendar

    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (ValueError, OverflowError, OSError):  # "9999-12-31T23:59-14:00": year 10000
                continue
    return None


def _entry_ingest(entry, *, feed_title: str, enqueue: bool):
    """Fetch the entry's page and store it (its canonical URL, date and
    language read from the page, the entry's title and date first); fall
    back to the entry's own content when the page cannot be fetched or says
    less than the entry."""
    link = entry.get("link") or ""
    title = " ".join((entry.get("title") or "").split())
    content = entry.get("content") or []
    own_text = fragment_to_text(
        content[0].get("value", "") if content else entry.get("summary", "")
    )
    published = _entry_published(entry)
    try:
        page = fetching.fetch_url(link)
    except fetching.FetchError as exc:
        logger.info("feed entry %s: page not fetched (%s); using the entry's content", link, exc)
    else:
        return page_ingest(
            html=page.text,
            fetched_url=page.final_url,
            feed_url=link,
            title=title,
            fallback_text=own_text,
            feed_published_at=published,
            source=feed_title,
            enqueue=enqueue,
        )
    return article_ingest(
        url=link,
        title=title,
        text=own_text,
        published_at=published,
        date_source=Article.DateSource.FEED,
        source=feed_title,
        enqueue=enqueue,
    )


def feed_ingest(
    *,
    url: str,
    etag: str = "",
    last_modified: str = "",
    source: str | None = None,
    enqueue: bool = True,
) -> FeedReport:
    """Read one feed (conditional GET) and ingest its new entries."""
    report = FeedReport()
    try:
        page = fetching.fetch_url(
            url, accept=FEED_TYPES, etag=etag or None, last_modified=last_modified or None
        )
    except fetching.FetchError as exc:
        raise IngestError(f"could not fetch the feed: {exc}") from None
    report.etag, report.last_modified = page.etag or "", page.last_modified or ""
    if page.status == 304:
        report.not_modified = True
        return report
    parsed = parse_feed(page.content, url=page.final_url)
    report.title = clean_line(parsed.feed.get("title") or "")[:300]
    entries = parsed.entries
    report.entries = len(entries)
    limit = settings.FEED_MAX_ENTRIES_PER_POLL
    deadline = time.monotonic() + settings.FEED_POLL_BUDGET_SECONDS
    for number, entry in enumerate(entries, start=1):
        if len(report.added) + len(report.failed) >= limit or time.monotonic() > deadline:
            # Not an error: the rest is read on the next poll, which must not
            # be answered 304, so the validators are not kept (see feed_poll).
            report.left = len(entries) - number + 1
            break
        link = entry.get("link") or ""
        where = f"entry {number} ({link[:200] or 'no link'})"
        try:
            if Article.objects.filter(canonical_url=canonical_url(link)).exists():
                report.duplicates += 1
                continue
            result = _entry_ingest(entry, feed_title=source or report.title, enqueue=enqueue)
        except (IngestError, InvalidURL) as exc:
            report.failed.append((where, str(exc)))
            continue
        except Exception as exc:  # e.g. an extractor crash on one hostile page
            if is_store_failure(exc):
                raise
            logger.exception("feed %s: %s failed", url, where)
            report.failed.append((where, failure_reason(exc)))
            continue
        if result.created:
            report.added.append(result.article.id)
        else:
            report.duplicates += 1
    return report


def feeds_claim_due(*, now: datetime | None = None) -> list[int]:
    """The due feeds, each moved to its next poll time as it is claimed, so a
    backed-up worker does not collect a poll per beat tick for the same feed,
    and two beats (or a beat and "poll now") do not both queue it."""
    now = now or timezone.now()
    claimed = []
    for feed_id, interval, next_poll_at in Feed.objects.due(now).values_list(
        "id", "poll_interval_minutes", "next_poll_at"
    ):
        won = Feed.objects.filter(pk=feed_id, next_poll_at=next_poll_at).update(
            next_poll_at=now + timedelta(minutes=max(interval, 1))
        )
        if won:
            claimed.append(feed_id)
    return claimed


def feed_poll(*, feed_id: int) -> FeedReport | None:
    """Poll a subscribed feed and record the outcome on it; None if the poll
    failed (the reason is on the feed) or the feed is gone."""
    feed = Feed.objects.filter(pk=feed_id).first()
    if feed is None:  # deleted after being queued
        return None
    now = timezone.now()
    feed.last_polled_at = now
    feed.next_poll_at = now + timedelta(minutes=max(feed.poll_interval_minutes, 1))
    # Saved first, so a poll that crashes is not retried by beat every minute.
    Feed.objects.filter(pk=feed.pk).update(
        last_polled_at=feed.last_polled_at, next_poll_at=feed.next_poll_at
    )
    try:
        report = feed_ingest(
            url=feed.url,
            etag=feed.etag,
            last_modified=feed.last_modified,
            source=feed.source.name if feed.source else None,
        )
    except IngestError as exc:
        feed.last_result, feed.last_added = Feed.Result.ERROR, 0
        feed.last_error = printable(str(exc))[:2000]
        feed.save()
        return None
    if report.not_modified:
        feed.last_result, feed.last_added = Feed.Result.NOT_MODIFIED, 0
    else:
        feed.last_result, feed.last_added = Feed.Result.OK, len(report.added)
        feed.stories_added += len(report.added)
        feed.title = feed.title or report.title
    if not report.truncated:
        feed.etag = report.etag or feed.etag
        feed.last_modified = report.last_modified or feed.last_modified
    notes = [f"{where}: {why}" for where, why in report.failed[:20]]
    if report.left:
        notes.append(f"{report.left:,} entries left for the next poll")
    feed.last_error = printable("; ".join(notes))[:2000]
    feed.save()
    return report
