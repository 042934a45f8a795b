"""Benchmark 2: page latency at scale (issue #6).

Bulk-loads N stories (default 100,000, ~30 mentions each: ~3 million), then
requests each page ≥ 500 times through Django's test client (the whole view:
middleware, queries, template) and prints p50/p95/p99 of the server-side
time, and the number of queries each page runs. Beside the total, the median
request split in three: SQL (time inside the database driver), rendering
(templates, less the SQL they run) and Python (the rest: views, selectors,
middleware), and the CPU time of this process, so a change is judged by
what it removes.

    python -m bench.pages --db sqlite --stories 100000
    python -m bench.pages --db postgres --stories 100000
    python -m bench.pages --stories 5000 --requests 50       # quick
    python -m bench.pages --profile entity-search            # pyinstrument
"""

from __future__ import annotations

import contextlib
import sys
import time

from bench.common import database, parser, percentile, table, verdict, versions

TARGET_P95_MS = {"sqlite": 100.0, "postgresql": 50.0}
TEXT_QUERY = "unsettled markets dispute"
UNCACHED = "-uncached"


def pages() -> dict[str, str]:
    from bench.corpus import COMMON_NAME
    from entities.models import Entity

    common = Entity.objects.get(name=COMMON_NAME)
    # The rarest entity with a few stories (the synthetic pool has 20,000
    # names: at 1,000,000 stories the rarest is in ~60).
    rare = Entity.objects.filter(story_count__gte=5).order_by("story_count", "id").first()
    common_story = common.mentions.order_by("-salience", "article_id").first().article_id
    # The -uncached pages clear caches["pages"] before each request, so the
    # trending entities, the text-match counts, or the entity page's weekly
    # counts and related entities are computed every time.
    return {
        "home": "/",  # latest stories and trending entities
        "home" + UNCACHED: "/",
        "entity-search": f"/?q={common.name}",
        "entity-search" + UNCACHED: f"/?q={common.name}",
        "rare-entity-search": f"/?q={rare.name.replace(' ', '+')}",
        "text-search": "/?q=" + TEXT_QUERY.replace(" ", "+"),
        "entity-page": f"/entities/{common.slug}/",
        "entity-page" + UNCACHED: f"/entities/{common.slug}/",
        "page-50": f"/?q={common.name}&page=50",
        "story": f"/articles/{common_story}/",
        "api-search": f"/api/search/?q={common.name}",
    }


def get(client, name: str, url: str):
    """One request; for an -uncached page, with nothing in caches["pages"]."""
    from django.core.cache import caches

    if name.endswith(UNCACHED):
        caches["pages"].clear()
    return client.get(url)


class Split:
    """Where one request's time goes: SQL and template rendering, timed
    around the database driver and the top-level template's render()."""

    def __init__(self) -> None:
        self.sql = self.render = self.sql_in_render = 0.0
        self.queries = 0
        self._rendering = 0

    def execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.sql += elapsed
            self.queries += 1
            if self._rendering:
                self.sql_in_render += elapsed

    def wrap_render(self, render):
        split = self

        def timed_render(template, context=None, request=None):
            split._rendering += 1
            started = time.perf_counter()
            try:
                return render(template, context, request)
            finally:
                split._rendering -= 1
                if not split._rendering:
                    split.render += (time.perf_counter() - started) * 1000

        return timed_render


@contextlib.contextmanager
def split_timing(split: Split):
    from django.db import connection
    from django.template.backends.django import Template

    original = Template.render
    Template.render = split.wrap_render(original)
    try:
        with connection.execute_wrapper(split.execute):
            yield split
    finally:
        Template.render = original


def measure(client, name: str, url: str, requests: int) -> tuple[list[float], list[tuple], int]:
    """Total times, (sql, python, render, cpu) per request, and the query
    count. CPU: this process's (SQLite runs in it; PostgreSQL's backend is
    not counted), which waiting for a busy core does not inflate."""
    with split_timing(Split()) as first:
        response = get(client, name, url)
    assert response.status_code == 200, (url, response.status_code)
    for _ in range(5):  # warm caches
        get(client, name, url)
    times, parts = [], []
    for _ in range(requests):
        with split_timing(Split()) as split:
            started, cpu = time.perf_counter(), time.process_time()
            response = get(client, name, url)
            total = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu) * 1000
        times.append(total)
        render = split.render - split.sql_in_render
        parts.append((split.sql, total - split.sql - render, render, cpu))
        assert response.status_code == 200
    return times, parts, first.queries


def print_queries(client, name: str, url: str) -> int:
    from django.db import connection

    client.get(url)
    timings = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(((time.perf_counter() - started) * 1000, sql))

    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        get(client, name, url)
    total = (time.perf_counter() - started) * 1000
    for ms, sql in timings:
        print(f"{ms:8.1f} ms  {sql[:400]}")
    print(f"{sum(t for t, _ in timings):8.1f} ms in {len(timings)} queries; {total:.1f} ms in all")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--stories", type=int, default=100_000)
    p.add_argument("--mentions-per-story", type=int, default=30)
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--only", default="", help="comma-separated page names")
    p.add_argument("--profile", default="", help="pyinstrument one page instead of timing")
    p.add_argument("--queries", default="", help="time each SQL query of one page")
    args = p.parse_args(argv)

    with database(args.db, url=args.database_url):
        from django.db import connection
        from django.test import Client

        from articles.models import Article
        from bench import corpus

        existing = Article.objects.count()
        if existing:
            # The scoring state a worker leaves in the shared cache (N, the
            # last full pass), which this process's own cache does not have yet.
            from entities.scoring import rescore_all

            seconds = rescore_all().seconds
            print(
                f"reusing {existing:,} stories already in the database (rescored: {seconds:.1f}s)"
            )
        else:
            report = corpus.load(args.stories, mentions_per_story=args.mentions_per_story)
            print(
                f"loaded {report.stories:,} stories, {report.mentions:,} mentions, "
                f"{report.entities:,} entities in {report.load_seconds:.0f}s; "
                f"rescore_all {report.rescore_seconds:.1f}s"
            )
        print(versions(args.db))
        client = Client()
        urls = pages()
        # As newsgraph/wsgi.py does once a server process has started.
        import newsgraph.wsgi  # noqa: F401

        if args.queries:
            return print_queries(client, args.queries, urls[args.queries])
        if args.profile:
            from pyinstrument import Profiler

            client.get(urls[args.profile])
            profiler = Profiler(interval=0.0005)
            with profiler:
                for _ in range(20):
                    get(client, args.profile, urls[args.profile])
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            return 0
        target = TARGET_P95_MS[connection.vendor]
        rows = []
        for name, url in urls.items():
            if args.only and name not in args.only.split(","):
                continue
            times, parts, queries = measure(client, name, url, args.requests)
            p50, p95, p99 = (percentile(times, x) for x in (50, 95, 99))
            sql, python, render, cpu = (percentile([p[i] for p in parts], 50) for i in range(4))
            print(
                f"{name:22} {url[:40]:40} p50 {p50:7.1f} p95 {p95:7.1f} p99 {p99:7.1f} ms  "
                f"{queries:2} queries | median SQL {sql:5.1f} Python {python:5.1f} "
                f"render {render:5.1f} ms; CPU {cpu:5.1f} ms",
                flush=True,
            )
            rows.append(
                (
                    f"{name} p50/p95/p99 ms ({queries} queries)",
                    f"{p50:.1f} / {p95:.1f} / {p99:.1f}",
                    f"p95 ≤ {target:.0f}",
                    verdict(p95 <= target),
                )
            )
        print(table(rows, title=f"Pages at {Article.objects.count():,} stories, {args.db}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
