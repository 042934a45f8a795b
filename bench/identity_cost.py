"""Benchmark: what identity across stories costs (issue #11), at corpus scale.

Loads N synthetic stories (default 100,000, ~30 mentions each; bench.corpus),
then extracts M new synthetic stories (default 1,000) through the real
pipeline and reports:

* extraction time per story, and the share of it spent in the corpus-level
  steps (known-name recall queries and `assign_entities`: rules, places,
  partial names, names, new entities), target ≤ 10 %;
* re-resolution of those M stories from their stored spans (what the
  background does when evidence arrives), target ≤ 10 s on PostgreSQL.

    python -m bench.identity_cost --db postgres
    python -m bench.identity_cost --stories 5000 --new-stories 200    # quick
"""

from __future__ import annotations

import sys
import time

from bench.common import database, parser, table, verdict, versions
from bench.ingest import TARGET_RATIO as TARGET_KEPT

TARGET_SHARE = 0.10
TARGET_RERESOLVE_S = 10.0


def measure(new_stories: int) -> dict:
    """Extract `new_stories` new synthetic stories through the real pipeline,
    timing the corpus-level steps inside it, then re-resolve them from their
    stored spans. Runs inside a configured database (bench.common.database)."""
    from django.conf import settings
    from django.db.models import Max

    from articles.models import Article
    from articles.services import record_ingest
    from bench.ingest import _records, run_raw, warm_up
    from entities import extraction

    warm_up()
    # Synthetic indices far above the bulk-loaded ones, new on every run.
    start = 10_000_000 + (Article.objects.aggregate(top=Max("id"))["top"] or 0)
    records = _records(new_stories, start=start)
    started = time.perf_counter()
    ids = [record_ingest(record=r, enqueue=False).article.id for r in records]
    ingest = time.perf_counter() - started
    # The pipeline's own clock of its corpus-level steps (extraction.CLOCK).
    # The follow-ups the batch queues (re-resolution of stories it taught
    # something) run in this process in the embedded mode: timed apart.
    before = dict(extraction.CLOCK.seconds)
    started = time.perf_counter()
    size = settings.EXTRACTION_BATCH_SIZE
    for i in range(0, len(ids), size):
        extraction.articles_extract(article_ids=ids[i : i + size], rescore=False)
    total = time.perf_counter() - started
    spent = {
        step: extraction.CLOCK.seconds[step] - before.get(step, 0.0)
        for step in ("recall", "corpus", "reresolve")
    }
    # The limit: spaCy alone on the same texts, same model and batch size.
    raw = run_raw(records)
    started = time.perf_counter()
    for i in range(0, len(ids), extraction.RERESOLVE_BATCH):
        extraction.articles_reresolve(article_ids=ids[i : i + extraction.RERESOLVE_BATCH])
    reresolve = time.perf_counter() - started
    corpus_seconds = spent["corpus"] + spent["recall"]
    return {
        "new_stories": len(ids),
        "extraction_seconds": total,
        "corpus_steps_seconds": corpus_seconds,
        "corpus_steps_share": corpus_seconds / total,
        "ingest_seconds": ingest,
        "follow_up_seconds": spent["reresolve"],
        "raw_spacy_seconds": raw,
        # How much of spaCy's own speed the whole path keeps (bench.ingest's
        # ratio), here with a corpus of this size behind it: with and without
        # the follow-ups (in production they run as their own tasks).
        "kept_of_spacy": raw / (ingest + total),
        "kept_of_spacy_without_follow_ups": raw / (ingest + total - spent["reresolve"]),
        "reresolution_seconds": reresolve,
    }


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--stories", type=int, default=100_000)
    p.add_argument("--new-stories", type=int, default=1_000)
    args = p.parse_args(argv)

    with database(args.db, url=args.database_url):
        from django.db import connection

        from articles.models import Article
        from bench import corpus
        from entities.models import Mention

        if not Article.objects.exists():
            report = corpus.load(args.stories)
            print(f"loaded {report.stories:,} stories in {report.load_seconds:.0f}s")
        vendor_db = connection.vendor.replace("postgresql", "postgres")
        stories, pairs = Article.objects.count(), Mention.objects.count()
        print(f"{stories:,} stories, {pairs:,} mentions; {versions(vendor_db)}")
        figures = measure(args.new_stories)

    count = figures["new_stories"]
    total, corpus_seconds = figures["extraction_seconds"], figures["corpus_steps_seconds"]
    share, reresolve = figures["corpus_steps_share"], figures["reresolution_seconds"]
    rows = [
        ("extraction, ms per story", f"{1000 * total / count:.0f}", "", verdict(None)),
        (
            "corpus-level steps, ms per story",
            f"{1000 * corpus_seconds / count:.1f}",
            "",
            verdict(None),
        ),
        (
            "share of extraction time in corpus-level steps",
            f"{share:.1%}",
            f"≤ {TARGET_SHARE:.0%}",
            verdict(share <= TARGET_SHARE),
        ),
        (
            "re-resolution follow-ups inside the extraction, s",
            f"{figures['follow_up_seconds']:.1f}",
            "",
            verdict(None),
        ),
        (
            "ingest and extraction keep, of raw spaCy's speed (without the follow-ups)",
            f"{figures['kept_of_spacy']:.1%} ({figures['kept_of_spacy_without_follow_ups']:.1%})",
            f"≥ {TARGET_KEPT:.0%}",
            verdict(figures["kept_of_spacy"] >= TARGET_KEPT),
        ),
        (
            f"re-resolution of {count:,} stories from stored spans, s",
            f"{reresolve:.1f}",
            f"≤ {TARGET_RERESOLVE_S:.0f} (pg)",
            verdict(reresolve <= TARGET_RERESOLVE_S),
        ),
    ]
    print(table(rows, title=f"Identity across stories at {stories:,} stories, {vendor_db}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
