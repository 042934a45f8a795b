"""Writes for stories: ingest from JSONL, HTML or a URL, and queueing extraction."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles.models import Article, Source
from articles.urls_util import InvalidURL, canonical_url
from newsgraph.queue import enqueue

logger = logging.getLogger(__name__)


class IngestError(ValueError):
    """A story that cannot be stored, with a message an editor can act on."""


@dataclass
class IngestResult:
    article: Article
    created: bool


@dataclass
class IngestReport:
    added: list[int] = field(default_factory=list)
    duplicates: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (where, why)

    def summary(self) -> str:
        return f"{len(self.added)} added, {self.duplicates} duplicates, {len(self.failed)} failed"


_BLANK_LINES = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Paragraphs separated by one blank line, no control characters."""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text or ""))
    paragraphs = (
        _SPACES.sub(" ", p).strip() for p in _BLANK_LINES.split(text.replace("\r\n", "\n"))
    )
    return "\n\n".join(" ".join(p.split("\n")) for p in paragraphs if p)


def html_to_text(html: str) -> tuple[str, str]:
    """Main text and title of an HTML page, by trafilatura."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=False) or ""
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title if metadata else "") or ""
    return clean_text(text.replace("\n", "\n\n")), " ".join(title.split())


def _content_hash(title: str, text: str) -> str:
    folded = " ".join(f"{title}\n{text}".casefold().split())
    return hashlib.sha256(folded.encode()).hexdigest()


def _parse_published(value) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise IngestError("published_at must be an ISO 8601 string")
    parsed = parse_datetime(value.strip())
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise IngestError(f"published_at is not ISO 8601: {value[:40]!r}") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _source_for(name: str | None) -> Source | None:
    name = " ".join((name or "").split())[:200]
    if not name:
        return None
    source, _ = Source.objects.get_or_create(name=name)
    return source


def article_ingest(
    *,
    url: str,
    title: str = "",
    text: str = "",
    html: str = "",
    published_at: str | datetime | None = None,
    source: str | None = None,
    enqueue: bool = True,
) -> IngestResult:
    """Store one story as *pending*, once per canonical URL and once per
    identical content; extraction is queued after commit."""
    if not isinstance(url, str) or not url.strip():
        raise IngestError("url is required")
    try:
        canonical = canonical_url(url)
    except InvalidURL as exc:
        raise IngestError(str(exc)) from None
    if html and not text:
        text, html_title = html_to_text(html)
        title = title or html_title
    text = clean_text(text)
    title = " ".join((title or "").split())
    if not text:
        raise IngestError("the story has no text")
    if len(text) > settings.MAX_ARTICLE_CHARS:
        limit = settings.MAX_ARTICLE_CHARS
        raise IngestError(f"the story is too long ({len(text):,} characters, limit {limit:,})")
    title = title[:500] or text.split("\n\n", 1)[0][:120]
    published = (
        published_at if isinstance(published_at, datetime) else _parse_published(published_at)
    )
    digest = _content_hash(title, text)

    existing = (
        Article.objects.filter(canonical_url=canonical).first()
        or Article.objects.filter(content_hash=digest).first()
    )
    if existing:
        return IngestResult(existing, created=False)
    try:
        with transaction.atomic():
            article = Article.objects.create(
                url=url.strip(),
                canonical_url=canonical,
                content_hash=digest,
                title=title,
                text=text,
                published_at=published or timezone.now(),
                source=_source_for(source),
            )
    except IntegrityError:  # a concurrent submission of the same story won
        found = (
            Article.objects.filter(canonical_url=canonical).first()
            or Article.objects.filter(content_hash=digest).first()
        )
        if found is None:
            raise
        return IngestResult(found, created=False)
    if enqueue:
        articles_enqueue_extraction(article_ids=[article.id])
    return IngestResult(article, created=True)


def iter_jsonl(lines: Iterable[bytes | str]) -> Iterator[tuple[int, dict | None, str]]:
    """(line number, record, error) for each non-blank line."""
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, None, f"invalid JSON ({exc.msg}, column {exc.colno})"
            continue
        if not isinstance(record, dict):
            yield number, None, "expected a JSON object"
            continue
        yield number, record, ""


def record_ingest(*, record: dict, enqueue: bool = True) -> IngestResult:
    """One JSONL record (`url`, `title`, `text` or `html`, `published_at`, `source`)."""
    fields = {}
    for name in ("url", "title", "text", "html", "source"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise IngestError(f"{name} must be a string")
        fields[name] = value or ""
    return article_ingest(
        url=fields["url"],
        title=fields["title"],
        text=fields["text"],
        html=fields["html"],
        published_at=record.get("published_at"),
        source=fields["source"] or None,
        enqueue=enqueue,
    )


def articles_enqueue_extraction(*, article_ids: Sequence[int]) -> None:
    """Queue extraction after the current transaction commits, in batches so
    the worker can use `nlp.pipe`."""
    from articles.tasks import extract_articles

    ids = list(article_ids)
    size = settings.EXTRACTION_BATCH_SIZE
    for start in range(0, len(ids), size):
        enqueue(extract_articles, ids[start : start + size])


def articles_reset_for_extraction(*, article_ids: Sequence[int]) -> int:
    """Editors' re-extract: back to pending with a fresh attempt budget."""
    updated = Article.objects.filter(id__in=article_ids).update(
        status=Article.Status.PENDING, error="", attempts=0
    )
    articles_enqueue_extraction(article_ids=article_ids)
    return updated


def article_ingest_url(
    *, url: str, source: str | None = None, enqueue: bool = True
) -> IngestResult:
    """Fetch a page (refusing non-public addresses) and ingest its main text."""
    from articles.fetching import FetchError, fetch_url

    try:
        canonical = canonical_url(url)
    except InvalidURL as exc:
        raise IngestError(str(exc)) from None
    existing = Article.objects.filter(canonical_url=canonical).first()
    if existing:
        return IngestResult(existing, created=False)
    try:
        page = fetch_url(url)
    except FetchError as exc:
        raise IngestError(f"could not fetch {url[:200]}: {exc}") from None
    text, title = html_to_text(page.text)
    if not text:
        raise IngestError(f"no story text found on the page at {url[:200]}")
    return article_ingest(
        url=url,
        title=title,
        text=text,
        source=source or _host_name(page.final_url),
        enqueue=enqueue,
    )


def _host_name(url: str) -> str:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


# --- feeds ----------------------------------------------------------------------

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
    # A stream, never the bytes themselves: feedparser opens a bytes or str
    # argument as a file path (or fetches it as a URL) before parsing it.
    parsed = feedparser.parse(io.BytesIO(content), response_headers={"content-location": url})
    if not parsed.entries and parsed.get("bozo") and not parsed.feed:
        raise IngestError(f"not a feed: {parsed.get('bozo_exception', 'unreadable')}")
    return parsed


def _entry_published(entry) -> datetime | None:
    import calendar

    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _entry_story(entry, *, feed_title: str) -> dict:
    """Fetch the entry's page for its main text; fall back to the entry's own
    content when the page cannot be fetched or has no text."""
    from articles.fetching import FetchError, fetch_url

    link = entry.get("link") or ""
    title = " ".join((entry.get("title") or "").split())
    content = entry.get("content") or []
    own_text = fragment_to_text(
        content[0].get("value", "") if content else entry.get("summary", "")
    )
    text = ""
    try:
        page = fetch_url(link)
        text, page_title = html_to_text(page.text)
        title = title or page_title
    except FetchError as exc:
        logger.info("feed entry %s: page not fetched (%s); using the entry's content", link, exc)
    # A page whose main text is shorter than the entry's own content is a
    # paywall, a consent wall or an extraction miss: the entry says more.
    if len(text) < len(own_text):
        text = own_text
    return {"url": link, "title": title, "text": text, "source": feed_title}


def feed_ingest(
    *,
    url: str,
    etag: str = "",
    last_modified: str = "",
    source: str | None = None,
    enqueue: bool = True,
) -> FeedReport:
    """Read one feed (conditional GET) and ingest its new entries."""
    from articles.fetching import FetchError, fetch_url

    report = FeedReport()
    try:
        page = fetch_url(
            url, accept=FEED_TYPES, etag=etag or None, last_modified=last_modified or None
        )
    except FetchError as exc:
        raise IngestError(f"could not fetch the feed: {exc}") from None
    report.etag, report.last_modified = page.etag or "", page.last_modified or ""
    if page.status == 304:
        report.not_modified = True
        return report
    parsed = parse_feed(page.content, url=page.final_url)
    report.title = " ".join((parsed.feed.get("title") or "").split())[:300]
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
            story = _entry_story(entry, feed_title=source or report.title)
            result = article_ingest(
                **story, published_at=_entry_published(entry) or None, enqueue=enqueue
            )
        except (IngestError, InvalidURL) as exc:
            report.failed.append((where, str(exc)))
            continue
        except Exception as exc:  # e.g. an extractor crash on one hostile page
            logger.exception("feed %s: %s failed", url, where)
            report.failed.append((where, f"unexpected error: {type(exc).__name__}: {exc}"))
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
    from datetime import timedelta

    from articles.models import Feed

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
    from datetime import timedelta

    from articles.models import Feed

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
        feed.last_result, feed.last_error, feed.last_added = Feed.Result.ERROR, str(exc)[:2000], 0
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
    feed.last_error = "; ".join(notes)[:2000]
    feed.save()
    return report
