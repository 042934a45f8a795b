"""Writes for stories: ingest from JSONL, HTML or a URL, and queueing extraction."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles.extraction import request_extraction
from articles.models import Article, Source
from articles.urls_util import InvalidURL, canonical_url

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
                date_source=(
                    Article.DateSource.GIVEN if published else Article.DateSource.INGESTED
                ),
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
    """Queue extraction after the current transaction commits (through the
    seam in articles/extraction.py)."""
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
