"""Benchmark 4: a worker's resident memory over a long extraction (issue #6).

Ingests and extracts N stories (default 10,000) in batches the way a Celery
worker does (`articles_extract` per EXTRACTION_BATCH_SIZE stories, each batch
in a spaCy memory zone; optionally the model reloaded every
SPACY_RELOAD_EVERY_DOCS documents), sampling this process's RSS (anonymous and
file-backed) and the StringStore size. Prints the RSS at the end and the
growth of the heap over the last half of the run.

    python -m bench.memory --db sqlite
    python -m bench.memory --stories 2000 --reload-every 500     # quick
"""

from __future__ import annotations

import gc
import os
import sys
import time

from bench.common import database, parser, rss_mb, rss_parts_mb, table, verdict, versions

TARGET_RSS_MB = 500.0
CHUNK = 500


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--stories", type=int, default=10_000)
    p.add_argument("--reload-every", type=int, default=0, help="SPACY_RELOAD_EVERY_DOCS")
    args = p.parse_args(argv)
    if args.reload_every:
        os.environ["SPACY_RELOAD_EVERY_DOCS"] = str(args.reload_every)

    with database(args.db, url=args.database_url):
        from django.conf import settings

        from articles.services import record_ingest
        from bench.synthetic import stories
        from entities import nlp
        from entities.extraction import articles_extract

        print(f"{versions(args.db)}; SPACY_RELOAD_EVERY_DOCS={settings.SPACY_RELOAD_EVERY_DOCS}")
        samples: list[tuple[int, float, int, float]] = []
        started = time.perf_counter()
        done = 0
        size = settings.EXTRACTION_BATCH_SIZE
        for offset in range(0, args.stories, CHUNK):
            count = min(CHUNK, args.stories - offset)
            records = list(stories(count, start_index=offset))
            ids = [record_ingest(record=r, enqueue=False).article.id for r in records]
            del records
            for i in range(0, len(ids), size):
                articles_extract(article_ids=ids[i : i + size], rescore=False)
            done += count
            gc.collect()
            strings = len(nlp.get_nlp().vocab.strings)
            parts = rss_parts_mb()
            samples.append((done, rss_mb(), strings, parts.get("RssAnon", 0.0)))
            print(
                f"{done:6,} stories  RSS {samples[-1][1]:6.0f} MB"
                f" (anon {parts.get('RssAnon', 0):.0f}, file {parts.get('RssFile', 0):.0f})"
                f"  StringStore {strings:8,}"
                f"  {time.perf_counter() - started:5.0f}s",
                flush=True,
            )
        final = samples[-1][1]
        half = min(samples, key=lambda s: abs(s[0] - done / 2))
        second_half = [s[1] for s in samples if s[0] >= half[0]]
        growth = final - half[1]
        anon_growth = samples[-1][3] - half[3]
        halves = [s for s in samples if s[0] >= half[0]]
        rows = [
            (
                f"RSS after {done:,} stories, MB",
                f"{final:.0f}",
                f"≤ {TARGET_RSS_MB:.0f}",
                verdict(final <= TARGET_RSS_MB),
            ),
            ("peak RSS, MB", f"{max(s[1] for s in samples):.0f}", "", verdict(None)),
            (
                f"RSS growth over the last half ({half[0]:,} → {done:,}), MB",
                f"{growth:+.0f} (range {min(second_half):.0f}–{max(second_half):.0f})",
                "",
                verdict(None),
            ),
            # The file-backed part of RSS is the SQLite database this process
            # maps (mmap_size), which grows with the database and is page cache;
            # the worker's own memory is the anonymous part.
            (
                f"anonymous (heap) RSS growth over the last half ({half[0]:,} → {done:,}), MB",
                f"{anon_growth:+.0f} ({half[3]:.0f} → {samples[-1][3]:.0f})",
                "not growing",
                verdict(anon_growth <= 0.02 * final),
            ),
            (
                "StringStore size over the last half",
                f"{min(s[2] for s in halves):,}–{max(s[2] for s in halves):,}",
                "bounded",
                verdict(max(s[2] for s in halves) == min(s[2] for s in halves)),
            ),
        ]
        print(table(rows, title=f"Worker memory, {done:,} stories, {args.db}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
