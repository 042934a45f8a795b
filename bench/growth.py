"""The growth curve (issue #14): how every cost grows with the corpus. One
script (over 400 lines) so that every figure is measured the same way at
every size.

For one database (a persistent throw-away cluster per size, `--database-url`),
loads the synthetic corpus up to `--stories` if it holds fewer, then measures
and writes docs/growth/<vendor>-<stories>.json:

* load: seconds to bulk-load (COPY or executemany, index upkeep, VACUUM
  ANALYZE) and the first rescoring after it;
* disk: bytes per story, for the database and for each table (its indexes
  and TOAST included), mentions included;
* pages: p50 / p95 / p99 and the query count of every page of bench.pages,
  with the page cache warm and emptied before each request;
* curation: finding the stories that contain a name (what an alias or block
  rule does first), for a rare name and for the common one;
* rescoring: a full pass with nothing changed, the background pass after
  1,000 new stories (incremental), the full pass after them;
* re-resolution after 1,000 new stories: their extraction through the real
  pipeline, the corpus-level steps' share of it, and their re-resolution
  from stored spans (bench.identity_cost).

    nice -n 10 python -m bench.growth --database-url postgres://… --stories 1000000
    python -m bench.growth --report     # table, slopes and plot into docs/

Measures that were taken separately (a load run by bench.pages) can be
merged into a size's file with --set load.load_seconds=512.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

from bench.common import database, parser, percentile, versions

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "growth"
NEW_STORIES = 1_000


def result_path(vendor: str, stories: int, results: Path = RESULTS) -> Path:
    name = f"{stories // 1000}k" if stories >= 1000 else str(stories)
    return results / f"{vendor}-{name}.json"


def measure_disk() -> dict:
    from django.db import connection

    from articles.models import Article

    stories = Article.objects.count()
    tables = ["articles_article", "entities_mention", "entities_entity", "entities_alias"]
    sizes: dict[str, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            total = cursor.fetchone()[0]
            for table in tables:
                cursor.execute(
                    "SELECT pg_total_relation_size(%s::regclass), pg_relation_size(%s::regclass),"
                    " pg_indexes_size(%s::regclass)",
                    [table, table, table],
                )
                everything, heap, indexes = cursor.fetchone()
                sizes[table] = everything
                sizes[f"{table} heap"] = heap
                sizes[f"{table} indexes"] = indexes
        else:
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            total = pages * cursor.fetchone()[0]
            try:
                marks = ", ".join("%s" for _ in tables)
                cursor.execute(
                    f"SELECT name, tbl_name FROM sqlite_master WHERE tbl_name IN ({marks})",
                    tables,
                )
                owner = dict(cursor.fetchall())
                cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
                for name, size in cursor.fetchall():
                    table = owner.get(name) or (
                        "articles_article" if name.startswith("articles_article_fts") else None
                    )
                    if table:
                        sizes[table] = sizes.get(table, 0) + size
            except Exception:  # dbstat is an optional SQLite module
                pass
    return {
        "stories": stories,
        "database_bytes": total,
        "bytes_per_story": total / stories,
        "tables": sizes,
        "mention_bytes_per_story": sizes.get("entities_mention", 0) / stories,
    }


def _backend_cpu_seconds(pid: int | None) -> float:
    """CPU time the database server process has used (PostgreSQL on this
    machine: its backend for this connection), from /proc."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_pages(requests: int) -> dict:
    """Wall-clock percentiles of each page, and its mean CPU time (this
    process + its PostgreSQL backend): on two cores shared with other work
    the wall clock includes waiting for a core, the CPU time does not."""
    from django.db import connection
    from django.test import Client

    import newsgraph.wsgi  # noqa: F401  (as a server process does once started)
    from bench.pages import get, pages

    client, figures = Client(), {}
    client.get("/")
    backend = backend_pid()
    for name, url in pages().items():
        queries = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            assert get(client, name, url).status_code == 200, url
        for _ in range(5):
            get(client, name, url)
        times = []
        cpu_before = time.process_time() + _backend_cpu_seconds(backend)
        for _ in range(requests):
            started = time.perf_counter()
            assert get(client, name, url).status_code == 200, url
            times.append((time.perf_counter() - started) * 1000)
        cpu = time.process_time() + _backend_cpu_seconds(backend) - cpu_before
        figures[name] = {
            "url": url,
            "queries": len(queries),
            "p50": percentile(times, 50),
            "p95": percentile(times, 95),
            "p99": percentile(times, 99),
            "cpu_ms": cpu * 1000 / requests,
            "requests": len(times),
        }
        f = figures[name]
        print(
            f"  {name:22} p50 {f['p50']:7.1f} p95 {f['p95']:7.1f} p99 {f['p99']:7.1f} ms"
            f"  cpu {f['cpu_ms']:6.1f} ms  {f['queries']} queries",
            flush=True,
        )
    return figures


def backend_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def set_priority(niceness: int) -> None:
    """This process and its PostgreSQL backend (the measurements, not the
    bulk load, which runs under `nice`)."""
    os.setpriority(os.PRIO_PROCESS, 0, niceness)
    backend = backend_pid()
    if backend:
        os.setpriority(os.PRIO_PROCESS, backend, niceness)


def measure_rescoring(new_stories: int = NEW_STORIES) -> dict:
    """The full pass with nothing changed; after `new_stories` new stories,
    the background pass (stars of the new pairs) and, as its own task after
    it, the settling of the entities they touched (type, display name,
    look-alikes); then the full pass."""
    from django.db import connection
    from django.db.models import Max

    from articles.models import Article
    from bench import corpus
    from entities.corpus import mark_unsettled
    from entities.models import Mention
    from entities.scoring import rescore_all, rescore_due
    from entities.settle import corpus_settle

    # CPU seconds of this process: on SQLite that is all the work (in
    # process); on PostgreSQL only the client's share, so not recorded.
    cpu: dict[str, float] = {}
    cpu_started = time.process_time()
    unchanged = rescore_all()
    cpu["full_unchanged_cpu_seconds"] = time.process_time() - cpu_started
    print(f"  full pass, nothing changed: {unchanged.seconds:.1f}s", flush=True)
    last_old = Article.objects.aggregate(top=Max("id"))["top"] or 0
    added = corpus.load(new_stories, rescore=False)
    started, cpu_started = time.perf_counter(), time.process_time()
    background = rescore_due()
    after_batch = time.perf_counter() - started
    cpu["incremental_cpu_seconds"] = time.process_time() - cpu_started
    print(
        f"  background pass after {new_stories:,} new stories: {after_batch:.1f}s"
        f" ({background.pairs:,} pairs, full: {background.full})",
        flush=True,
    )
    # What extraction marks: every entity the new stories name.
    touched = set(
        Mention.objects.filter(article_id__gt=last_old).values_list("entity_id", flat=True)
    )
    mark_unsettled(touched)
    started = time.perf_counter()
    settled = corpus_settle()
    settle_seconds = time.perf_counter() - started
    print(f"  settling the {settled:,} entities they touched: {settle_seconds:.1f}s", flush=True)
    cpu_started = time.process_time()
    full = rescore_all()
    cpu["full_cpu_seconds"] = time.process_time() - cpu_started
    print(f"  full pass after them: {full.seconds:.1f}s ({full.stars_changed:,} stars)", flush=True)
    return {
        **(cpu if connection.vendor == "sqlite" else {}),
        "full_unchanged_seconds": unchanged.seconds,
        "new_stories": added.stories,
        "new_stories_load_seconds": added.load_seconds,
        "incremental_seconds": after_batch,
        "incremental_full": background.full,
        "incremental_pairs": background.pairs,
        "settle_entities": settled,
        "settle_seconds": settle_seconds,
        "full_seconds": full.seconds,
        "full_pairs": full.pairs,
        "full_stars_changed": full.stars_changed,
    }


def measure_curation() -> dict:
    """What an editor's rule (alias, block) costs before its background task
    re-extracts anything: finding the stories that contain the name."""
    from articles.textsearch import article_ids_containing
    from bench.corpus import COMMON_NAME
    from entities.models import Entity

    rare = Entity.objects.filter(story_count__gte=5).order_by("story_count", "id").first()
    figures = {}
    for label, name in (("rare", rare.name), ("common", COMMON_NAME)):
        started = time.perf_counter()
        found = article_ids_containing(name)
        seconds = time.perf_counter() - started
        figures[f"{label}_name_seconds"] = seconds
        figures[f"{label}_name_stories"] = len(found)
        print(f"  stories containing {name!r}: {len(found):,} in {seconds:.2f}s", flush=True)
    return figures


def measure_reresolution(new_stories: int = NEW_STORIES) -> dict:
    """Identity across stories (#8/#11) after NEW_STORIES new stories: their
    extraction through the real pipeline (spaCy included), the share of it in
    the corpus-level steps, then their re-resolution from stored spans."""
    from bench import identity_cost

    figures = identity_cost.measure(new_stories)
    print(
        f"  extraction of {figures['new_stories']:,} new stories:"
        f" {figures['extraction_seconds']:.1f}s, corpus-level steps"
        f" {figures['corpus_steps_share']:.1%}, {figures['kept_of_spacy']:.0%} of raw"
        f" spaCy's speed kept ({figures['kept_of_spacy_without_follow_ups']:.0%} without"
        f" {figures['follow_up_seconds']:.1f}s of follow-ups); re-resolution"
        f" {figures['reresolution_seconds']:.1f}s",
        flush=True,
    )
    return figures


def run(args) -> int:
    with database(args.db, url=args.database_url):
        from django.db import connection

        from articles.models import Article
        from bench import corpus

        results = Path(args.results)
        path = result_path(connection.vendor, args.stories, results)
        found = json.loads(path.read_text()) if path.exists() else {}
        existing = Article.objects.count()
        if existing < args.stories:
            report = corpus.load(args.stories - existing)
            found["load"] = {
                "stories": report.stories,
                "mentions": report.mentions,
                "load_seconds": report.load_seconds,
                "first_rescore_seconds": report.rescore_seconds,
            }
            print(
                f"loaded {report.stories:,} stories, {report.mentions:,} mentions in "
                f"{report.load_seconds:.0f}s; first rescoring {report.rescore_seconds:.1f}s",
                flush=True,
            )
        else:
            from entities.scoring import rescore_all

            # The scoring state (N, the last full pass) this process's cache lacks.
            print(
                f"{existing:,} stories already loaded; rescore_all {rescore_all().seconds:.1f}s",
                flush=True,
            )
        found["versions"] = versions(connection.vendor.replace("postgresql", "postgres"))
        if args.priority:
            # Measured ahead of the other work on the machine (recorded below).
            set_priority(args.priority)
        found["priority"] = args.priority
        found["vendor"] = connection.vendor
        steps = args.steps.split(",")
        if "disk" in steps:
            found["disk"] = measure_disk()
            print(f"disk: {found['disk']['bytes_per_story']:.0f} bytes a story", flush=True)
        if "pages" in steps:
            print("pages:", flush=True)
            before = os.getloadavg()[0]
            found["pages"] = measure_pages(args.requests)
            found["pages_priority"] = args.priority
            # Two cores shared with other work: how busy the machine was.
            found["pages_load_average"] = [before, os.getloadavg()[0]]
        if "rescoring" in steps:
            print("rescoring:", flush=True)
            found["rescoring"] = measure_rescoring(args.new_stories)
        if "curation" in steps:
            print("curation:", flush=True)
            found["curation"] = measure_curation()
        if "reresolution" in steps:
            found["reresolution"] = measure_reresolution(args.new_stories)
        for step in steps:
            found.setdefault("step_measured_at", {})[step] = time.strftime(
                "%Y-%m-%d %H:%M UTC", time.gmtime()
            )
        found["stories"] = found.get("disk", {}).get("stories", args.stories)
        found["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        results.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path}")
    return 0


def set_values(args) -> int:
    path = result_path(args.vendor, args.stories)
    found = json.loads(path.read_text()) if path.exists() else {}
    for assignment in args.set:
        dotted, value = assignment.split("=", 1)
        *parents, leaf = dotted.split(".")
        node = found
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = json.loads(value)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    return 0


# --- the report -------------------------------------------------------------------


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) on log(x): 1 is linear growth, 0 flat."""
    points = [(x, y) for x, y in points if x > 0 and y and y > 0]
    if len(points) < 2:
        return None
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def _ms_each(figures: dict, seconds: str, count: str) -> float | None:
    """Milliseconds a unit: figures[seconds] over figures[count], if counted."""
    return 1000 * figures[seconds] / figures[count] if figures.get(count) else None


def figures(result: dict) -> dict[str, float | None]:
    """The figures of one size, by row name."""
    rows: dict[str, float | None] = {}
    for name, page in result.get("pages", {}).items():
        rows[f"page {name}, p95 ms"] = page["p95"]
    for name, page in result.get("pages", {}).items():
        if "cpu_ms" in page:
            rows[f"page {name}, CPU ms a request"] = page["cpu_ms"]
    rescoring = result.get("rescoring", {})
    curation = result.get("curation", {})
    rows["stories containing a rare name (curation rule), s"] = curation.get("rare_name_seconds")
    rows["stories containing the common name, s"] = curation.get("common_name_seconds")
    rows["full rescoring (N changed), s"] = rescoring.get("full_seconds")
    rows["full rescoring, nothing changed, s"] = rescoring.get("full_unchanged_seconds")
    rows[f"background rescoring after {NEW_STORIES:,} new stories, s"] = rescoring.get(
        "incremental_seconds"
    )
    rows["settling an entity the new stories touched, ms"] = _ms_each(
        rescoring, "settle_seconds", "settle_entities"
    )
    reresolution = result.get("reresolution", {})
    rows[f"re-resolution of {NEW_STORIES:,} new stories from stored spans, s"] = reresolution.get(
        "reresolution_seconds"
    )
    rows["their extraction: corpus-level steps, ms a story"] = _ms_each(
        reresolution, "corpus_steps_seconds", "new_stories"
    )
    for key, name in [
        ("kept_of_spacy", "their ingest and extraction, % of raw spaCy's speed kept"),
        ("kept_of_spacy_without_follow_ups", "the same without in-process follow-ups, %"),
    ]:
        kept = reresolution.get(key)
        rows[name] = kept and 100 * kept
    load = result.get("load", {})
    rows["bulk load, s"] = load.get("load_seconds")
    rows["first rescoring after the load, s"] = load.get("first_rescore_seconds")
    disk = result.get("disk", {})
    rows["disk per story, KB"] = disk.get("bytes_per_story", 0) / 1024 or None
    rows["mentions table per story, KB"] = disk.get("mention_bytes_per_story", 0) / 1024 or None
    return rows


def report(vendor: str) -> str:
    results = sorted(
        (json.loads(p.read_text()) for p in RESULTS.glob(f"{vendor}-*.json")),
        key=lambda r: r["stories"],
    )
    if not results:
        return f"no results for {vendor} in {RESULTS}"
    sizes = [r["stories"] for r in results]
    table = [figures(r) for r in results]
    names = list(dict.fromkeys(name for rows in table for name in rows))
    header = "| figure | " + " | ".join(f"{s:,}" for s in sizes) + " | slope |"
    lines = [header, "|---" * (len(sizes) + 2) + "|"]
    slopes = {}
    for name in names:
        values = [rows.get(name) for rows in table]
        slopes[name] = slope([(s, v) for s, v in zip(sizes, values, strict=True) if v])
        cells = ["" if v is None else f"{v:,.1f}" for v in values]
        shown = "" if slopes[name] is None else f"{slopes[name]:.2f}"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {shown} |")
    plot(vendor, sizes, table, names)
    return "\n".join(lines)


def plot(vendor: str, sizes: list[int], table: list[dict], names: list[str]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def page_rows(uncached: bool, suffix: str):
        return lambda n: (
            n.startswith("page") and ("uncached" in n) == uncached and n.endswith(suffix)
        )

    groups = [
        ("pages, page cache warm: p95 (ms)", page_rows(False, "p95 ms"), 50, (5, 1000)),
        ("pages, page cache emptied: p95 (ms)", page_rows(True, "p95 ms"), 100, (5, 1000)),
        ("pages, warm: CPU a request (ms)", page_rows(False, "CPU ms a request"), None, (5, 1000)),
        (
            "pages, emptied: CPU a request (ms)",
            page_rows(True, "CPU ms a request"),
            None,
            (5, 1000),
        ),
        ("tasks (s)", lambda n: n.endswith(", s"), None, None),
        ("disk per story (KB)", lambda n: n.endswith("KB"), None, (1, 100)),
    ]
    fig, axes = plt.subplots(3, 2, figsize=(12, 13))
    for ax, (title, wanted, target, limits) in zip(axes.flat, groups, strict=True):
        for name in filter(wanted, names):
            points = [(s, rows.get(name)) for s, rows in zip(sizes, table, strict=True)]
            points = [(s, v) for s, v in points if v]
            if not points:
                continue
            k = slope(points)
            label = name.removeprefix("page ").rsplit(", ", 1)[0]
            label += "" if k is None else f" (slope {k:.2f})"
            ax.plot(*zip(*points, strict=True), marker="o", label=label)
        if target:
            ax.axhline(
                target, color="red", linestyle="--", linewidth=1, label=f"target {target} ms"
            )
        if title.startswith("tasks"):
            # What linear growth would look like, from the first full rescoring.
            full = [
                (s, r.get("full rescoring (N changed), s"))
                for s, r in zip(sizes, table, strict=True)
            ]
            full = [(s, v) for s, v in full if v]
            if full:
                s0, v0 = full[0]
                ax.plot(
                    [s0, sizes[-1]],
                    [v0, v0 * sizes[-1] / s0],
                    color="grey",
                    linestyle=":",
                    label="slope 1 (linear) for reference",
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        if limits:
            ax.set_ylim(*limits)
        ax.set_title(title)
        ax.set_xlabel("stories")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"newsgraph growth on {vendor} (log-log; slope 1 = linear in the corpus)")
    fig.tight_layout()
    out = ROOT / "docs" / f"growth-{vendor}.png"
    fig.savefig(out, dpi=100)
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--stories", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--new-stories", type=int, default=NEW_STORIES)
    p.add_argument("--steps", default="disk,pages,curation,rescoring,reresolution")
    p.add_argument(
        "--priority", type=int, default=0, help="nice value while timing pages (root: < 0)"
    )
    p.add_argument("--report", action="store_true", help="table and plot from docs/growth/")
    p.add_argument("--vendor", default="postgresql")
    p.add_argument("--results", default=str(RESULTS), help="folder of the JSON files")
    p.add_argument("--set", action="append", default=[], help="key.path=json-value")
    args = p.parse_args(argv)
    if args.report:
        print(report(args.vendor))
        return 0
    if args.set:
        return set_values(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
