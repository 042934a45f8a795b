"""manage.py redate: read stored stories' publication dates again, from the
page metadata kept at ingest or by fetching their pages again (issue #12)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from articles import services
from articles.models import Article

REDATABLE = {
    # Dates given with a story, set by an editor, or from a feed entry are
    # never replaced: only dates this code read from a page, or none at all.
    "undated": [Article.DateSource.INGESTED, Article.DateSource.FUTURE],
    "page": [Article.DateSource.INGESTED, Article.DateSource.FUTURE, Article.DateSource.PAGE],
}


class Command(BaseCommand):
    help = (
        "Re-date stored stories from the page metadata kept at ingest, or (--refetch) from "
        "their pages fetched again. By default only stories dated at ingest (no date found); "
        "--include-page-dates also re-reads dates read from pages. Dates given with a story, "
        "set by an editor or taken from a feed are never changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="only these stories")
        parser.add_argument("--refetch", action="store_true", help="fetch each story's page again")
        parser.add_argument(
            "--include-page-dates",
            action="store_true",
            help="also re-read stories whose date was read from their page",
        )

    def handle(self, *args, ids, refetch, include_page_dates, verbosity, **options):
        sources = REDATABLE["page" if include_page_dates else "undated"]
        stories = Article.objects.filter(date_source__in=sources).order_by("id")
        if ids:
            stories = stories.filter(id__in=ids)
        counts = {"redated": 0, "unchanged": 0, "no date found": 0, "skipped": 0}
        reasons: dict[str, int] = {}
        for article in tqdm(
            stories.iterator(chunk_size=200),
            total=stories.count(),
            desc="redating",
            unit=" stories",
            disable=verbosity < 1,
            file=sys.stderr,
        ):
            try:
                outcome = services.article_redate(article=article, refetch=refetch)
            except services.RedateSkipped as exc:
                counts["skipped"] += 1
                reasons[str(exc)] = reasons.get(str(exc), 0) + 1
                continue
            if outcome.found is None:
                counts["no date found"] += 1
            elif outcome.found == outcome.old:
                counts["unchanged"] += 1
            else:
                counts["redated"] += 1
                if verbosity > 1:
                    self.stdout.write(
                        f"article {article.pk}: {outcome.old:%Y-%m-%d %H:%M} -> "
                        f"{outcome.found:%Y-%m-%d %H:%M} UTC ({outcome.how})"
                    )
        for reason, count in sorted(reasons.items()):
            self.stderr.write(f"{count} skipped: {reason}")
        self.stdout.write("redate: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
