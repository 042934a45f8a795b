"""Benchmark 3: rescoring at scale (issue #6).

Loads N stories (default 100,000, ~3 million mentions; or reuses a loaded
database), then times:

* `rescore_all()` right after the load (every mention gets its first score),
* `rescore_all()` again with nothing changed (nothing is written),
* the background rescoring after 1,000 new stories: they are bulk-added
  (mentions included, NER bypassed) and the `rescore` task runs as the
  debounce would run it (`rescore_due`: only the new stories' pairs),
* then a full `rescore_all()`: N has changed, so every stored score changes.

    python -m bench.rescore --db postgres
    python -m bench.rescore --db sqlite --stories 10000    # quick
"""

from __future__ import annotations

import sys
import time

from bench.common import database, parser, table, verdict, versions

TARGET_FULL_S = 30.0
TARGET_AFTER_BATCH_S = 5.0


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--stories", type=int, default=100_000)
    p.add_argument("--new-stories", type=int, default=1_000)
    p.add_argument("--profile", action="store_true", help="pyinstrument the last rescoring")
    args = p.parse_args(argv)

    with database(args.db, url=args.database_url):
        from django.db import connection

        from articles.models import Article
        from bench import corpus
        from entities.models import Mention
        from entities.scoring import rescore_all
        from entities.tasks import rescore

        rows = []
        if not Article.objects.exists():
            report = corpus.load(args.stories)
            print(f"loaded {report.stories:,} stories in {report.load_seconds:.0f}s")
            rows.append(
                (
                    "first rescore_all after bulk load, s",
                    f"{report.rescore_seconds:.1f}",
                    f"≤ {TARGET_FULL_S:.0f} (pg)",
                    verdict(report.rescore_seconds <= TARGET_FULL_S),
                )
            )
        stories, pairs = Article.objects.count(), Mention.objects.count()
        print(f"{stories:,} stories, {pairs:,} mentions; {versions(args.db)}")

        unchanged = rescore_all().seconds
        rows.append(("rescore_all, nothing changed, s", f"{unchanged:.1f}", "", verdict(None)))

        added = corpus.load(args.new_stories, rescore=False)
        print(f"added {added.stories:,} stories, {added.mentions:,} mentions")
        profiler = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
        started = time.perf_counter()
        result = rescore.apply().get()  # the task the debounce enqueues
        after_batch = time.perf_counter() - started
        if profiler:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False))
        print(f"rescore task after {args.new_stories:,} new stories: {result}")
        target = TARGET_AFTER_BATCH_S
        rows.append(
            (
                f"background rescoring after {args.new_stories:,} new stories"
                f" ({'a full pass' if result['full'] else 'incremental'},"
                f" {result['pairs']:,} pairs), s",
                f"{after_batch:.1f}",
                f"≤ {target:.0f}",
                verdict(after_batch <= target if connection.vendor == "postgresql" else None),
            )
        )
        # The full pass that follows (growth, age or curation): N changed, so
        # every score changes; the stars that move are written.
        full = rescore_all()
        rows.append(
            (
                f"full rescore_all after them (all {full.pairs:,} scores change;"
                f" {full.stars_changed:,} stars rewritten), s",
                f"{full.seconds:.1f}",
                f"≤ {TARGET_FULL_S:.0f} (pg)",
                verdict(
                    full.seconds <= TARGET_FULL_S if connection.vendor == "postgresql" else None
                ),
            )
        )
        print(table(rows, title=f"Rescoring at {Article.objects.count():,} stories, {args.db}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
