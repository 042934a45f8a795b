"""manage.py ingest PATH_OR_URL…: JSONL files, HTML files, folders of them, URLs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from articles import extraction, feeds, services
from articles.models import Article


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
        for source in sources:
            if feed:
                self._ingest_feed(source, report)
                continue
            if "://" in source:
                self._ingest_url(source, report)
                continue
            path = Path(source)
            if not path.exists():
                report.failed.append((source, "no such file or folder"))
                continue
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            for file in files:
                if file.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
                    self._ingest_jsonl(file, report, show_progress)
                elif file.suffix.lower() in {".html", ".htm"}:
                    self._ingest_html(file, report, base_url)
                elif path.is_file():
                    report.failed.append((str(file), "not a .jsonl or .html file"))

        for where, why in report.failed:
            self.stderr.write(f"{where}: {why}")
        extracted = mentions = 0
        if report.added and not no_extract:
            if settings.CELERY_TASK_ALWAYS_EAGER:
                extracted, mentions = self._extract_here(report.added, show_progress)
            else:
                services.articles_enqueue_extraction(article_ids=report.added)
                self.stdout.write(f"queued {len(report.added)} stories for extraction")
        summary = f"ingest: {report.summary()}"
        if extracted:
            summary += f"; {extracted} extracted ({mentions} entity mentions)"
        summary += f" in {time.perf_counter() - started:.1f}s"
        self.stdout.write(summary)
        if report.failed and not report.added and not report.duplicates:
            raise CommandError("nothing was ingested")

    def _ingest_jsonl(self, file: Path, report, show_progress: bool) -> None:
        try:
            with file.open("rb") as handle:
                total = sum(1 for _ in handle)
            handle = file.open("rb")
        except OSError as exc:
            report.failed.append((str(file), f"cannot read: {exc.strerror}"))
            return
        with (
            handle,
            tqdm(
                total=total,
                desc=file.name,
                unit=" lines",
                disable=not show_progress,
                file=sys.stderr,
            ) as bar,
        ):
            for number, record, error in services.iter_jsonl(handle):
                bar.update(number - bar.n)
                if error:
                    report.failed.append((f"{file}:{number}", error))
                    continue
                try:
                    result = services.record_ingest(record=record, enqueue=False)
                except services.IngestError as exc:
                    report.failed.append((f"{file}:{number}", str(exc)))
                    continue
                if result.created:
                    report.added.append(result.article.id)
                else:
                    report.duplicates += 1
            bar.update(total - bar.n)

    def _ingest_html(self, file: Path, report, base_url: str) -> None:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            report.failed.append((str(file), f"cannot read: {exc.strerror}"))
            return
        html = raw.decode("utf-8", errors="replace")
        # The page's own canonical URL when plausible, else BASE_URL/FILENAME,
        # else a file: identity from its content (services.page_ingest).
        fallback = f"{base_url.rstrip('/')}/{file.name}" if base_url else ""
        self._count(
            lambda: services.page_ingest(html=html, base_url=fallback, enqueue=False),
            str(file),
            report,
        )

    def _ingest_url(self, url: str, report) -> None:
        self._count(lambda: services.article_ingest_url(url=url, enqueue=False), url, report)

    def _ingest_feed(self, url: str, report) -> None:
        try:
            result = feeds.feed_ingest(url=url, enqueue=False)
        except services.IngestError as exc:
            report.failed.append((url, str(exc)))
            return
        self.stdout.write(f"{url}: {result.summary()}")
        report.added += result.added
        report.duplicates += result.duplicates
        report.failed += [(f"{url} {where}", why) for where, why in result.failed]

    @staticmethod
    def _count(ingest, where: str, report) -> None:
        try:
            result = ingest()
        except services.IngestError as exc:
            report.failed.append((where, str(exc)))
            return
        if result.created:
            report.added.append(result.article.id)
        else:
            report.duplicates += 1

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
                result = extraction.extract_here(article_ids=batch)
                extracted += result["extracted"]
                mentions += result.get("mentions", 0)
                if result["failed"]:
                    failed = Article.objects.filter(id__in=batch, status=Article.Status.FAILED)
                    for article_id, reason in failed.values_list("id", "error"):
                        self.stderr.write(f"article {article_id}: extraction failed: {reason}")
                bar.update(len(batch))
        extraction.rescore_here()
        return extracted, mentions
