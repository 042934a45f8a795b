"""manage.py ingest PATH_OR_URL…: JSONL files, HTML files, folders of them, URLs.

One bad record never stops the batch: each record (a JSONL line, an HTML
file, a URL, a feed entry) is read and stored on its own
(`services.record_isolated`) and any failure is reported against it; the
summary counts every record read as added, duplicate or failed. Only the
database failing stops the command, in one line. In the embedded default (no
broker) every story it added is extracted before it returns, and so are the
stories an earlier run left pending (a crash, Ctrl-C).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from tqdm import tqdm

from articles import feeds, handover, services
from articles.models import Article
from articles.text import iter_jsonl, jsonl_lines, strip_long_attributes
from newsgraph.infra.failures import (
    StoreFailure,
    describe,
    failure_reason,
    is_store_failure,
    printable,
)


class Command(BaseCommand):
    help = "Ingest stories from JSONL files, HTML files, folders or URLs, then extract entities."

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="+", metavar="PATH_OR_URL")
        parser.add_argument(
            "--base-url",
            default="",
            help="For HTML files without a plausible canonical URL: the URL is "
            "BASE_URL/FILENAME (without it such a page is stored under a file: identity).",
        )
        parser.add_argument(
            "--feed",
            action="store_true",
            help="Treat each URL as an RSS/Atom feed and ingest its entries (one-off).",
        )
        parser.add_argument(
            "--no-extract", action="store_true", help="Only store the stories as pending."
        )

    def handle(self, *args, sources, base_url, feed, no_extract, verbosity, **options):
        started = time.perf_counter()
        report = services.IngestReport()
        show_progress = verbosity > 0 and not options.get("no_color_progress")
        extract_now = settings.CELERY_TASK_ALWAYS_EAGER and not no_extract
        try:
            # With a broker, beat's sweep and each worker's start re-queue them.
            left_pending = self._left_pending() if extract_now else []
            for source in sources:
                self._ingest_source(
                    source, report, feed=feed, base_url=base_url, show_progress=show_progress
                )
        except (StoreFailure, DatabaseError) as exc:
            self._write_failures(report)
            raise CommandError(_store_message(exc)) from None
        self._write_failures(report)

        extracted = mentions = 0
        try:
            if extract_now and (report.added or left_pending):
                ids = list(dict.fromkeys(left_pending + report.added))
                extracted, mentions = self._extract_here(ids, show_progress)
            elif report.added and not no_extract:
                services.articles_enqueue_extraction(article_ids=report.added)
                self.stdout.write(f"queued {len(report.added)} stories for extraction")
        except (StoreFailure, DatabaseError) as exc:
            raise CommandError(_store_message(exc)) from None
        summary = f"ingest: {report.summary()}"
        if extracted:
            summary += f"; {extracted} extracted ({mentions} entity mentions)"
        summary += f" in {time.perf_counter() - started:.1f}s"
        self.stdout.write(summary)
        if report.failed and not report.added and not report.duplicates:
            raise CommandError("nothing was ingested")

    def _left_pending(self) -> list[int]:
        """Stories an earlier run stored but never extracted (it crashed or
        was stopped): extracted with this run's."""
        ids = list(Article.objects.pending().order_by("id").values_list("id", flat=True))
        if ids:
            self.stdout.write(f"{len(ids)} stories left pending by an earlier run: extracting")
        return ids

    def _write_failures(self, report) -> None:
        for where, why in report.failed:
            self.stderr.write(printable(f"{where}: {why}"))

    def _ingest_source(self, source: str, report, *, feed, base_url, show_progress) -> None:
        if feed:
            self._ingest_feed(source, report)
            return
        if "://" in source:
            services.record_isolated(
                report,
                where=source,
                ingest=lambda: services.article_ingest_url(url=source, enqueue=False),
            )
            return
        try:
            path = Path(source)
            if not path.exists():
                report.failed.append((source, "no such file or folder"))
                return
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        except Exception as exc:  # a NUL in the name, a folder that cannot be listed
            report.failed.append((source, f"cannot read: {exc}"))
            return
        for file in files:
            if file.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
                self._ingest_jsonl(file, report, show_progress)
            elif file.suffix.lower() in {".html", ".htm"}:
                services.record_isolated(
                    report,
                    where=str(file),
                    ingest=lambda file=file: self._html_file_ingest(file, base_url),
                )
            elif path.is_file():
                report.failed.append((str(file), "not a .jsonl or .html file"))

    def _ingest_jsonl(self, file: Path, report, show_progress: bool) -> None:
        try:
            handle = file.open("rb")
        except OSError as exc:
            report.failed.append((str(file), f"cannot read: {exc.strerror or exc}"))
            return
        try:
            total = _count_lines(handle)
        except OSError as exc:
            handle.close()
            report.failed.append((str(file), f"cannot read: {exc.strerror or exc}"))
            return
        lines = jsonl_lines(handle, max_bytes=settings.MAX_JSONL_LINE_BYTES)
        with (
            handle,
            tqdm(
                total=total,
                desc=printable(file.name),
                unit=" lines",
                disable=not show_progress,
                file=sys.stderr,
            ) as bar,
        ):
            number = 0
            try:
                for number, record, error in iter_jsonl(lines):
                    bar.update(number - bar.n)
                    if error:
                        report.failed.append((f"{file}:{number}", error))
                        continue
                    services.record_isolated(
                        report,
                        where=f"{file}:{number}",
                        ingest=lambda record=record: services.record_ingest(
                            record=record, enqueue=False
                        ),
                    )
            except OSError as exc:  # the disk failed under us: the rest is unread
                report.failed.append((f"{file}:{number + 1}", f"cannot read: {exc}"))
            bar.update(max(total - bar.n, 0))

    @staticmethod
    def _html_file_ingest(file: Path, base_url: str) -> services.IngestResult:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise services.IngestError(f"cannot read: {exc.strerror or exc}") from None
        html = strip_long_attributes(raw.decode("utf-8", errors="replace"))
        # The page's own canonical URL when plausible, else BASE_URL/FILENAME,
        # else a file: identity from its content (services.page_ingest).
        fallback = f"{base_url.rstrip('/')}/{file.name}" if base_url else ""
        return services.page_ingest(html=html, base_url=fallback, enqueue=False)

    def _ingest_feed(self, url: str, report) -> None:
        try:
            result = feeds.feed_ingest(url=url, enqueue=False)
        except services.IngestError as exc:
            report.failed.append((url, str(exc)))
            return
        except Exception as exc:  # the feed as a whole: its entries are isolated
            if is_store_failure(exc):
                raise
            report.failed.append((url, failure_reason(exc)))
            return
        self.stdout.write(printable(f"{url}: {result.summary()}"))
        report.added += result.added
        report.duplicates += result.duplicates
        report.failed += [(f"{url} {where}", why) for where, why in result.failed]

    def _extract_here(self, ids: list[int], show_progress: bool) -> tuple[int, int]:
        """Embedded mode: extract in batches through nlp.pipe, rescore once."""
        size = max(settings.EXTRACTION_BATCH_SIZE, 64)
        extracted = mentions = 0
        with tqdm(
            total=len(ids),
            desc="extracting",
            unit=" stories",
            disable=not show_progress,
            file=sys.stderr,
        ) as bar:
            for start in range(0, len(ids), size):
                batch = ids[start : start + size]
                result = handover.extract_here(article_ids=batch)
                extracted += result["extracted"]
                mentions += result.get("mentions", 0)
                failed = Article.objects.filter(id__in=batch, status=Article.Status.FAILED)
                for article_id, reason in failed.values_list("id", "error"):
                    self.stderr.write(
                        printable(f"article {article_id}: extraction failed: {reason}")
                    )
                bar.update(len(batch))
        try:
            handover.rescore_here()
        except Exception as exc:  # the stars wait for the next rescoring
            if is_store_failure(exc):
                raise
            self.stderr.write(printable(f"rescoring failed: {failure_reason(exc)}"))
        return extracted, mentions


def _count_lines(handle) -> int:
    """Lines in a binary file, for the progress bar, in bounded memory."""
    lines, last = 0, b"\n"
    while chunk := handle.read(1 << 20):
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    handle.seek(0)
    return lines + (last != b"\n")


def _store_message(exc: BaseException) -> str:
    """One line: the batch stopped because the database failed."""
    if isinstance(exc, StoreFailure):
        return f"stopped: {exc}"
    return f"stopped: the database failed: {describe(exc)}"
