"""Writes for stories: ingest from a record, HTML or a URL, queueing
extraction, and re-dating stored stories. Just over 400 lines: the entry
points of ingest share its checks and its confinement of failures.

Also what keeps hostile input out of the store: text and titles cleaned
(articles/text.py), dates made timezone-aware and not in the future, and
`record_isolated`, which confines any failure of one record to that record
(issue #15).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles import fetching, webpages
from articles.copies import fingerprint, story_grouped
from articles.handover import request_extraction
from articles.languages import detect_language
from articles.models import Article, Source
from articles.signals import story_redated
from articles.text import (
    CONTROL_CHARACTERS,
    SURROGATES,
    clean_line,
    clean_text,
    page_text,
)
from articles.urls_util import InvalidURL, canonical_url
from newsgraph.infra.failures import StoreFailure, describe, failure_reason, is_store_failure

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


def file_identity(content_hash: str) -> str:
    """The URL-shaped identity of a saved page that names no URL of its own:
    derived from its content, so the same page saved twice is one story."""
    return f"file:sha256:{content_hash}"


def _content_hash(title: str, text: str) -> str:
    folded = " ".join(f"{title}\n{text}".casefold().split())
    return hashlib.sha256(folded.encode()).hexdigest()


def _parse_published(value) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise IngestError("published_at must be an ISO 8601 string")
    try:
        # parse_datetime raises ValueError for a well-formed impossible date
        # ("2025-02-30T10:00"), and returns None for other spellings.
        parsed = parse_datetime(value.strip()) or datetime.fromisoformat(value.strip())
    except ValueError:
        raise IngestError(f"published_at is not ISO 8601: {value[:40]!r}") from None
    return parsed


# Time zones reach UTC+14 and clocks drift: a story dated up to a day ahead is
# taken as dated; further ahead the date is wrong, and the story is dated when
# ingested instead, marked so an editor sees it (date_source FUTURE).
FUTURE_TOLERANCE = timedelta(days=1)


def story_date(published: datetime | None, *, given_as: str) -> tuple[datetime, str]:
    """(published_at, date_source) to store: the date in UTC when it can be
    trusted, else the time of ingest and why."""
    now = timezone.now()
    if published is None:
        return now, Article.DateSource.INGESTED
    if timezone.is_naive(published):
        published = timezone.make_aware(published, UTC)
    if published > now + FUTURE_TOLERANCE:
        return now, Article.DateSource.FUTURE
    try:
        return published.astimezone(UTC), given_as
    except OverflowError:  # before year 1 in UTC ("0001-01-01T00:00+14:00")
        raise IngestError(f"published_at is out of range: {published.isoformat()}") from None


def _source_for(name: str | None) -> Source | None:
    name = clean_line(name or "")[:200]
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
    date_source: str | None = None,
    source: str | None = None,
    language: str | None = None,
    page_metadata: str = "",
    url_optional: bool = False,
    enqueue: bool = True,
) -> IngestResult:
    """Store one story as *pending*, once per canonical URL and once per
    identical content; extraction is queued after commit.

    `date_source` says where a given `published_at` came from (default:
    given with the story); without a date, or with one in the future, the
    story is dated now and says so. `language` is detected from the text
    unless given. With `url_optional`, a story without a URL (a saved page
    that names none) is stored under a `file:` identity derived from its
    content."""
    if not isinstance(url, str) or not (url.strip() or url_optional):
        raise IngestError("url is required")
    canonical = _canonical(url) if url.strip() else ""
    if html and not text:
        reading = webpages.read_page(html, fetched_url=url.strip() if canonical else "")
        text, title = page_text(reading.text), title or reading.title
        page_metadata = page_metadata or reading.metadata_html
        if published_at in (None, "") and reading.published_at:
            published_at, date_source = reading.published_at, Article.DateSource.PAGE
    text = clean_text(text)
    title = clean_line(title)
    if not text:
        raise IngestError("the story has no text")
    if len(text) > settings.MAX_ARTICLE_CHARS:
        limit = settings.MAX_ARTICLE_CHARS
        raise IngestError(f"the story is too long ({len(text):,} characters, limit {limit:,})")
    title = title[:500] or text.split("\n\n", 1)[0][:120]
    published, date_source = story_date(
        published_at if isinstance(published_at, datetime) else _parse_published(published_at),
        given_as=date_source or Article.DateSource.GIVEN,
    )
    digest = _content_hash(title, text)
    if not canonical:
        url = canonical = file_identity(digest)
    if language is None:
        language = detect_language(title, text)

    existing = (
        Article.objects.filter(canonical_url=canonical).first()
        or Article.objects.filter(content_hash=digest).first()
    )
    if existing:
        return IngestResult(existing, created=False)
    print_ = fingerprint(text)  # copies of one story (articles/copies.py)
    try:
        with transaction.atomic():
            article = Article.objects.create(
                url=url.strip(),
                canonical_url=canonical,
                content_hash=digest,
                title=title,
                text=text,
                published_at=published,
                date_source=date_source,
                language=language[:12],
                page_metadata=page_metadata,
                source=_source_for(source),
                copy_signature=print_.signature,
            )
            story_grouped(article=article, print_=print_)
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


# Refused in a URL rather than cleaned: a URL names a story. What text may
# not hold, and no white space but spaces. Unique indexes hold at most ~2,700
# bytes per value in PostgreSQL.
_URL_UNSAFE = re.compile(f"[\t\n\r\u2028\u2029]|{SURROGATES.pattern}|{CONTROL_CHARACTERS.pattern}")
MAX_URL_BYTES = 2000


def _canonical(url) -> str:
    if not isinstance(url, str) or not url.strip():
        raise IngestError("url is required")
    if _URL_UNSAFE.search(url.strip()):
        raise IngestError(f"the URL holds control or invalid characters: {url.strip()[:200]!r}")
    try:
        canonical = canonical_url(url)
    except InvalidURL as exc:
        raise IngestError(str(exc)) from None
    if len(canonical.encode()) > MAX_URL_BYTES:
        raise IngestError(f"the URL is too long (limit {MAX_URL_BYTES:,} bytes): {url[:200]!r}")
    return canonical


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


def record_isolated(
    report: IngestReport, *, where: str, ingest: Callable[[], IngestResult]
) -> IngestResult | None:
    """Run one record's ingest in its own transaction and count it in `report`.

    Whatever goes wrong reading, parsing, validating or storing the record is
    that record's failure, reported against `where` (file:line, URL, feed
    entry), and the batch goes on; only the store failing is raised, as
    StoreFailure.
    """
    try:
        with transaction.atomic():
            result = ingest()
    except IngestError as exc:
        report.failed.append((where, str(exc)))
        return None
    except Exception as exc:  # a library crashing on one hostile record
        if is_store_failure(exc):
            raise StoreFailure(f"the database failed at {where}: {describe(exc)}") from exc
        logger.debug("%s: unexpected error", where, exc_info=True)
        report.failed.append((where, failure_reason(exc)))
        return None
    if result.created:
        report.added.append(result.article.id)
    else:
        report.duplicates += 1
    return result


def articles_enqueue_extraction(*, article_ids: Sequence[int]) -> None:
    """Queue extraction after the current transaction commits (through the
    seam in articles/handover.py)."""
    request_extraction(article_ids=article_ids)


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
    canonical = _canonical(url)
    existing = Article.objects.filter(canonical_url=canonical).first()
    if existing:
        return IngestResult(existing, created=False)
    try:
        page = fetching.fetch_url(url)
    except fetching.FetchError as exc:
        raise IngestError(f"could not fetch {url[:200]}: {exc}") from None
    try:
        return page_ingest(
            html=page.text,
            fetched_url=page.final_url,
            source=source or _host_name(page.final_url),
            enqueue=enqueue,
        )
    except IngestError as exc:
        if "no text" in str(exc):
            raise IngestError(f"no story text found on the page at {url[:200]}") from None
        raise


def page_ingest(
    *,
    html: str,
    fetched_url: str = "",
    feed_url: str = "",
    base_url: str = "",
    title: str = "",
    fallback_text: str = "",
    feed_published_at: datetime | None = None,
    source: str | None = None,
    enqueue: bool = True,
) -> IngestResult:
    """Store a web page (fetched, linked from a feed, or saved to a file) as
    a story: under its own canonical URL when plausible, else the fetched
    URL, the feed's link or `base_url`, else a `file:` identity; dated by
    the feed entry, else by the page, else at ingest (articles/webpages.py).

    `title` (a feed entry's) wins over the page's headline; `fallback_text`
    (a feed entry's content) replaces a page text shorter than it — a
    paywall, a consent wall or an extraction miss."""
    reading = webpages.read_page(
        html, fetched_url=fetched_url, feed_url=feed_url, base_url=base_url
    )
    text = page_text(reading.text)
    if len(text) < len(fallback_text):
        text = fallback_text
    if feed_published_at is not None:
        published, date_source = feed_published_at, Article.DateSource.FEED
    else:
        published, date_source = reading.published_at, Article.DateSource.PAGE
    return article_ingest(
        url=reading.url,
        url_optional=True,
        title=title or reading.title,
        text=text,
        published_at=published,
        date_source=date_source,
        page_metadata=reading.metadata_html,
        source=source or reading.site_name or None,
        enqueue=enqueue,
    )


def _host_name(url: str) -> str:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


@dataclass
class Redated:
    article: Article
    old: datetime
    found: datetime | None  # None: no date found (the story keeps its date)
    how: str  # "saved page" or "refetched page"


class RedateSkipped(IngestError):
    """A story that cannot be re-dated as asked (no saved page, no web address, fetch failed)."""


def article_redate(*, article: Article, refetch: bool = False) -> Redated:
    """Read a stored story's publication date again: from the page metadata
    kept at ingest (with its URL and text), or by fetching its page again.
    A date found replaces the stored one (date_source "page"); none found
    leaves the story as it was. Dates given with a story, by an editor or by
    a feed entry are the caller's to leave alone."""
    metadata = article.page_metadata
    how = "saved page"
    if refetch:
        if not article.has_web_url:
            raise RedateSkipped("a saved page with no web address cannot be refetched")
        try:
            page = fetching.fetch_url(article.url)
        except fetching.FetchError as exc:
            raise RedateSkipped(f"could not fetch {article.url[:200]}: {exc}") from None
        metadata, how = webpages.kept_metadata(webpages.parse_html(page.text)), "refetched page"
    if not metadata:
        raise RedateSkipped("no saved page metadata (ingested from text); use --refetch")
    # The kept metadata, with the story's text as the body: htmldate reads a
    # date from the text too ("Published 3 February 2025").
    from html import escape

    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in article.text.split("\n\n"))
    document = metadata.replace("</body>", paragraphs + "</body>", 1)
    found = webpages.page_date(document, url=article.url if article.has_web_url else "")
    old = article.published_at
    if found is not None:
        fields = ["published_at", "date_source"]
        article.published_at, article.date_source = found, Article.DateSource.PAGE
        if refetch and metadata != article.page_metadata:
            article.page_metadata = metadata
            fields.append("page_metadata")
        article.save(update_fields=fields)
        if found != old:
            story_redated.send(sender=Article, article_id=article.pk)
    return Redated(article=article, old=old, found=found, how=how)
